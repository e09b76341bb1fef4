"""The pcap reader's fast record walk (word views, native order) against a plain walk.

``PcapReader._offsets`` finds a chunk's record offsets with :meth:`PcapReader._walk` when
the file is in this machine's byte order, and with ``struct`` otherwise.  Both must give
exactly the offsets, end and error of a careful record-by-record walk, wherever the file
is cut and whatever the record lengths (so any alignment of the caplen fields).
"""

from __future__ import annotations

import struct
import sys

from hypothesis import given
from hypothesis import strategies as st

from bpfc.capture.common import CaptureError
from bpfc.capture.pcap import PcapReader

NATIVE = "<" if sys.byteorder == "little" else ">"
FOREIGN = ">" if NATIVE == "<" else "<"


def _file(order: str, caplens: list[int], cut: int, snaplen: int) -> bytes:
    head = struct.pack(order + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)
    body = b"".join(
        struct.pack(order + "IIII", i, 0, n, n + 3) + bytes((i + j) & 0xFF for j in range(n))
        for i, n in enumerate(caplens)
    )
    data = head + body
    return data[: max(24, len(data) - cut)]


def _reference(data: bytes, order: str, pos: int, size: int) -> tuple[list[int], int, bool]:
    offsets = []
    while pos < len(data) and len(offsets) < size:
        if pos + 16 > len(data):
            return offsets, pos, True
        (caplen,) = struct.unpack_from(order + "I", data, pos + 8)
        if pos + 16 + caplen > len(data):
            return offsets, pos, True
        offsets.append(pos)
        pos += 16 + caplen
    return offsets, pos, False


@given(
    st.lists(st.integers(0, 70), max_size=40),
    st.integers(0, 40),
    st.integers(1, 50),
    st.sampled_from([NATIVE, FOREIGN]),
    st.sampled_from([65535, 40]),
)
def test_offsets_equal_a_careful_walk(
    caplens: list[int], cut: int, size: int, order: str, snaplen: int
) -> None:
    data = _file(order, caplens, cut, snaplen)
    reader = PcapReader("mem.pcap", data)
    assert reader.native == (order == NATIVE)
    pos = 24
    while pos < len(data):
        offsets, after, error = reader._offsets(pos, size)
        expected, exp_after, exp_error = _reference(data, order, pos, size)
        assert (offsets, after, error is not None) == (expected, exp_after, exp_error)
        if error is not None:
            assert isinstance(error, CaptureError)
            break
        pos = after
    reader.close()


def test_walk_reads_caplen_at_every_alignment() -> None:
    # caplens 1, 2, 3 put the next records' caplen fields at each byte alignment
    caplens = [1, 2, 3, 5, 0, 7, 6, 4]
    data = _file(NATIVE, caplens, 0, 65535)
    reader = PcapReader("mem.pcap", data)
    ends = reader._walk(24, len(caplens))
    assert ends is not None
    starts = [24, *ends[:-1]]
    assert [b - a - 16 for a, b in zip(starts, ends, strict=True)] == caplens
    assert {(a + 8) % 4 for a in starts} == {0, 1, 2, 3}
    reader.close()


PROGRAMS = {
    # ldh [12]; jeq #0x800 -> accept
    "ip": [(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 65535), (0x06, 0, 0, 0)],
    # ld len; jgt #60 -> accept
    "len > 60": [(0x80, 0, 0, 0), (0x25, 0, 1, 60), (0x06, 0, 0, 65535), (0x06, 0, 0, 0)],
    # ldb [1]; jset #1 -> accept
    "odd byte 1": [(0x30, 0, 0, 1), (0x45, 0, 1, 1), (0x06, 0, 0, 65535), (0x06, 0, 0, 0)],
    # ldb [40] (past a 30-byte snapshot); jeq #0 -> accept
    "byte 40 is 0": [(0x30, 0, 0, 40), (0x15, 0, 1, 0), (0x06, 0, 0, 65535), (0x06, 0, 0, 0)],
}


@given(
    st.lists(
        st.tuples(
            st.one_of(st.binary(max_size=90), st.integers(0, 90).map(bytes)), st.integers(0, 40)
        ),
        max_size=30,
    ),
    st.sampled_from(sorted(PROGRAMS)),
    st.sampled_from([65535, 30]),
    st.integers(0, 20),
)
def test_per_packet_writes_what_the_interpreter_accepts(
    tmp_path_factory, packets: list, name: str, snaplen: int, cut: int
) -> None:
    """Both engines write, as runs or one by one, exactly the packets the interpreter accepts,
    also when records are longer than the snapshot (cut to it on reading) or the file is cut."""
    from bpfc.capture import CaptureWriter, open_capture, read_packets
    from bpfc.capture.engine import filter_capture
    from bpfc.capture.pcap import PcapWriter
    from bpfc.vm import make_filter

    prog = PROGRAMS[name]
    tmp = tmp_path_factory.mktemp("walk")
    src = tmp / "in.pcap"
    with open(src, "wb") as out:
        writer = PcapWriter(out, 1, snaplen)
        for i, (data, extra) in enumerate(packets):
            writer.write(i * 1000, len(data) + extra, data)
    blob = src.read_bytes()
    kept = max(24, len(blob) - cut)
    boundaries = {24}
    for data, _ in packets:
        boundaries.add(max(boundaries) + 16 + len(data))
    src.write_bytes(blob[:kept])
    accept = make_filter(prog)
    with open_capture(src) as reader:
        expected = [(p.ts_ns, p.wirelen, bytes(p.data)) for p in _complete(reader)]
    expected = [p for p in expected if accept(p[2], p[1])]
    with open(tmp / "ref.pcap", "wb") as out:
        writer = PcapWriter(out, 1, snaplen)
        for ts_ns, wirelen, data in expected:
            writer.write(ts_ns, wirelen, data)
    reference = (tmp / "ref.pcap").read_bytes()
    for engine in ("packet", "batch"):
        out_path = tmp / f"{engine}.pcap"
        with open_capture(src) as reader, CaptureWriter(str(out_path), snaplen=snaplen) as w:
            stats = filter_capture(reader, lambda _lt: prog, writer=w, engine=engine)
        got = [(p[0], p[2], p[5]) for p in read_packets(out_path)]
        assert got == expected, engine
        assert out_path.read_bytes() == reference, engine  # records cut as tcpdump -w cuts
        assert stats.matched == len(expected)
        assert (stats.error is not None) == (kept not in boundaries)


def _complete(reader):  # every packet before a read error
    try:
        yield from reader
    except CaptureError:
        return


def test_auto_runs_a_small_pcap_per_packet_until_numpy_is_imported(tmp_path, monkeypatch) -> None:
    """Importing numpy costs more than the batch engine saves on a small file."""
    import bpfc.capture.engine as engine
    from bpfc.capture import open_capture
    from bpfc.capture.pcap import PcapWriter

    src = tmp_path / "small.pcap"
    with open(src, "wb") as out:
        writer = PcapWriter(out, 1, 65535)
        for i in range(50):
            writer.write(i, 60, bytes(12) + b"\x08\x00" + bytes(46))
    prog = PROGRAMS["ip"]
    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    with open_capture(src) as reader:
        stats = engine.filter_capture(reader, lambda _lt: prog)
    assert (stats.engine, stats.read, stats.matched) == ("packet", 50, 50)
    monkeypatch.setattr(engine, "PER_PACKET_BELOW", 100)  # the file is bigger than this
    with open_capture(src) as reader:
        assert engine._small_pcap(reader) is False
    monkeypatch.setattr(engine, "PER_PACKET_BELOW", 1 << 30)
    monkeypatch.setitem(sys.modules, "numpy", object())  # numpy already imported
    with open_capture(src) as reader:
        assert engine._small_pcap(reader) is False
