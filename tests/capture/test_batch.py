"""The numpy batch engine equals the reference interpreter on every packet."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

np = pytest.importorskip("numpy")

from bpfc.capture import open_capture  # noqa: E402
from bpfc.capture.batch import batchable, pack, run_batch  # noqa: E402
from bpfc.errors import ValidationError  # noqa: E402
from bpfc.isa.validation import validate  # noqa: E402
from bpfc.vm.interp import interpret  # noqa: E402

LOADS = [0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xB1]
SIMPLE = [0x00, 0x01, 0x80, 0x81, 0x60, 0x61, 0x02, 0x03, 0x07, 0x87]
ALU = [0x04 | op for op in range(0, 0xB0, 0x10)] + [0x0C | op for op in range(0, 0xB0, 0x10)]
COND = [0x05 | op | src for op in (0x10, 0x20, 0x30, 0x40) for src in (0, 8)]
RET = [0x06, 0x16, 0x0E]
ODD = [0x88, 0x68, 0x25 | 0x08, 0x0F, 0xC0, 0x61 | 0x80]  # codes nothing implements

k_st = st.one_of(
    st.integers(0, 40),
    st.sampled_from([0, 1, 31, 32, 33, 0x800, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]),
    st.integers(0, 0xFFFFFFFF),
)


@st.composite
def programs(draw: st.DrawFn) -> list[tuple[int, int, int, int]]:
    n = draw(st.integers(1, 14))
    prog = []
    for pc in range(n - 1):
        room = n - pc - 2  # furthest forward offset that stays inside
        kind = draw(st.sampled_from(["load", "simple", "alu", "cond", "ja", "ret", "odd"]))
        if kind == "cond":
            code = draw(st.sampled_from(COND))
            jt, jf = draw(st.integers(0, room)), draw(st.integers(0, room))
            prog.append((code, jt, jf, draw(k_st)))
        elif kind == "ja":
            prog.append((0x05, 0, 0, draw(st.integers(0, room))))
        else:
            code = draw(
                st.sampled_from(
                    {"load": LOADS, "simple": SIMPLE, "alu": ALU, "ret": RET, "odd": ODD}[kind]
                )
            )
            k = draw(st.integers(0, 18)) if code in (0x60, 0x61, 0x02, 0x03) else draw(k_st)
            prog.append((code, 0, 0, k))
    prog.append((draw(st.sampled_from([0x06, 0x16])), 0, 0, draw(k_st)))
    return prog


packets_st = st.lists(
    st.tuples(st.binary(max_size=48), st.integers(0, 3000)), min_size=1, max_size=24
)


@given(prog=programs(), packets=packets_st)
def test_batch_equals_the_interpreter_on_every_packet(prog: list, packets: list) -> None:
    assert batchable(prog)
    datas = [data for data, _ in packets]
    wirelens = [len(data) + extra for data, extra in packets]
    buf, off, caplen = pack(datas)
    got = run_batch(prog, buf, off, caplen, np.array(wirelens)).tolist()
    want = [interpret(prog, data, wl) for data, wl in zip(datas, wirelens, strict=True)]
    assert got == want


@given(prog=programs(), packets=packets_st, gap=st.integers(0, 5))
def test_batch_reads_packets_where_they_lie_in_a_bigger_buffer(
    prog: list, packets: list, gap: int
) -> None:
    """Packets scattered in a buffer with junk between them: loads never see the junk."""
    datas = [data for data, _ in packets]
    blob, offsets = bytearray(b"\xaa" * gap), []
    for data in datas:
        offsets.append(len(blob))
        blob += data + b"\x55" * gap
    buf = np.frombuffer(bytes(blob) or b"\0", dtype=np.uint8)
    caplen = np.array([len(d) for d in datas])
    got = run_batch(prog, buf, np.array(offsets), caplen, caplen).tolist()
    assert got == [interpret(prog, data) for data in datas]


def test_backward_jumps_are_refused() -> None:
    assert not batchable([(0x05, 0, 0, 0xFFFFFFFF), (0x06, 0, 0, 0)])
    with pytest.raises(ValueError, match="per packet"):
        run_batch([(0x05, 0, 0, 0xFFFFFFFE), (0x06, 0, 0, 0)], *pack([b"x"]), np.array([1]))


def test_empty_batch() -> None:
    assert run_batch([(0x06, 0, 0, 7)], *pack([]), np.zeros(0)).tolist() == []


EXPRESSIONS = [
    "udp port 7001 or icmp",
    "ip[2:2] > 300",
    "ip and (ip[6:2] & 0x1fff) = 0 and udp[8:2] > 0x1000",
    "len < 100 or ether broadcast",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_batch_over_an_upstream_capture_matches_per_packet(upstream: Path, expr: str) -> None:
    """Programs libpcap compiles, over a real file, chunk by chunk."""
    libpcap = pytest.importorskip("bpfc.libpcap")
    if not libpcap.available():
        pytest.skip("libpcap is not available")
    prog = libpcap.compile(expr, 1, 262144, True, 0)
    total = matched = 0
    with open_capture(upstream / "pcaps" / "afs.pcap") as reader:
        for chunk in reader.chunks(100):
            got = run_batch(prog, chunk.buf, chunk.data_off, chunk.caplen, chunk.wirelen)
            want = [
                interpret(prog, chunk.data(i), int(chunk.wirelen[i])) for i in range(len(chunk))
            ]
            assert got.tolist() == want
            total += len(chunk)
            matched += sum(1 for w in want if w)
    assert total == 601 and 0 < matched < total


@given(
    prog=programs(),
    packets=packets_st,
    kind=st.sampled_from(["usec", "pcapng"]),
    cut=st.integers(0, 30),
)
def test_both_engines_write_the_same_file(
    tmp_path_factory, prog: list, packets: list, kind: str, cut: int
) -> None:
    """batch and per-packet engines: same verdicts, same output, same error on a cut file."""
    from bpfc.capture import CaptureError, CaptureWriter
    from bpfc.capture.engine import filter_capture
    from bpfc.capture.pcap import PcapWriter
    from bpfc.capture.pcapng import PcapngWriter

    tmp = tmp_path_factory.mktemp("eng")
    src = tmp / "in"
    with open(src, "wb") as out:
        writer = PcapngWriter(out) if kind == "pcapng" else PcapWriter(out, 1, 65535)
        for i, (data, extra) in enumerate(packets):
            if kind == "pcapng":
                writer.write(i * 1000, len(data) + extra, data, 1)
            else:
                writer.write(i * 1000, len(data) + extra, data)
    blob = src.read_bytes()
    src.write_bytes(blob[: len(blob) - cut])
    try:
        validate(prog)
        open_capture(src).close()
    except (ValidationError, CaptureError):
        return  # an invalid program or a cut file header: nothing for an engine to do
    results = []
    for engine in ("batch", "packet"):
        out_path = tmp / f"{engine}.pcap"
        with open_capture(src) as reader, CaptureWriter(str(out_path)) as writer:
            lines: list[int] = []
            stats = filter_capture(
                reader,
                lambda _lt: prog,
                writer=writer,
                engine=engine,
                emit=lambda index, _packet, lines=lines: lines.append(index),
            )
        results.append((stats.read, stats.matched, str(stats.error), lines, out_path.read_bytes()))
    assert results[0] == results[1]
