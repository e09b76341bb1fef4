"""Capture file readers and writers against the upstream captures, tcpdump and themselves."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.capture import CaptureError, CaptureWriter, open_capture, read_packets
from bpfc.capture.pcap import PcapWriter
from bpfc.capture.pcapng import PcapngWriter

TCPDUMP = shutil.which("tcpdump")


def _index(upstream: Path) -> dict[str, int]:
    counts = {}
    for line in (upstream / "pcaps" / "INDEX.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 5 and cells[1].endswith((".pcap", ".pcapng")):
            counts[cells[1]] = int(cells[4])
    return counts


def test_every_upstream_capture_reads_with_the_indexed_packet_count(upstream: Path) -> None:
    counts = _index(upstream)
    assert len(counts) == 157
    for name, expected in counts.items():
        with open_capture(upstream / "pcaps" / name) as reader:
            got = sum(1 for _ in reader)
        assert got == expected, name


def test_savefiles_match_libpcap_packet_bytes(upstream: Path) -> None:
    table = json.loads((upstream / "libpcap-savefiles" / "packets.json").read_text())["files"]
    checked = 0
    for name, info in table.items():
        if info.get("malformed"):
            continue
        with open_capture(upstream / "libpcap-savefiles" / name) as reader:
            assert reader.linktype == info["linktype"], name
            assert reader.snaplen == info["snaplen"], name
            got = [(p.caplen, p.wirelen, bytes(p.data).hex()) for p in reader]
        want = [(p["caplen"], p["len"], p["hex"]) for p in info["packets"]]
        assert got == want, name
        checked += 1
    assert checked == 37


MALFORMED = {
    "linktype-reserved-field-not-zero.pcap": r"linktype reserved field not zero \(0x00300000\)",
    "pcap-invalid-version-1.pcap": r"unsupported pcap savefile version 1\.4 at byte offset 4",
    "pcap-invalid-version-2.pcap": r"unsupported pcap savefile version 2\.5 at byte offset 4",
    "pcapng-invalid-vers-1.pcapng": r"unsupported pcapng savefile version 0\.1",
    "pcapng-invalid-vers-2.pcapng": r"unsupported pcapng savefile version 1\.1",
    # libpcap master names the IDB after it; the SHB's own trailer is already wrong
    "shb-option-too-long.pcapng": r"block total length in header \d+ and trailer 808464432 don't",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_savefiles_give_one_clear_error(upstream: Path, name: str) -> None:
    path = upstream / "libpcap-savefiles" / name
    with pytest.raises(CaptureError, match=MALFORMED[name]) as info:
        read_packets(path)
    assert str(path) in str(info.value)


def _tcpdump_copy(path: Path, tmp: Path) -> list[tuple[int, int, int, bytes]] | None:
    out = tmp / "copy.pcap"
    done = subprocess.run(
        [TCPDUMP, "--time-stamp-precision=nano", "-r", str(path), "-w", str(out)],
        capture_output=True,
    )
    if done.returncode != 0:
        return None
    return [(ts, caplen, wirelen, data) for ts, caplen, wirelen, _, _, data in read_packets(out)]


# Its microsecond field is out of range; libpcap scales it to nanoseconds in 32 bits (wraps).
WRAPPED_TIMESTAMPS = {"atm-oam-loopback-print-overrun.pcap"}


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
def test_packets_equal_what_tcpdump_reads(upstream: Path, tmp_path: Path) -> None:
    files = sorted((upstream / "pcaps").glob("*.pcap*"))
    files += sorted((upstream / "libpcap-savefiles" / "filter").glob("*.pcap*"))
    compared = 0
    for path in files:
        want = _tcpdump_copy(path, tmp_path)
        if want is None:
            continue
        got = [
            (ts, caplen, wirelen, data) for ts, caplen, wirelen, _, _, data in read_packets(path)
        ]
        if path.name in WRAPPED_TIMESTAMPS:
            got, want = [g[1:] for g in got], [w[1:] for w in want]
        assert got == want, path.name
        compared += 1
    assert compared >= 180


# -- writers ----------------------------------------------------------------------------

packets_st = st.lists(
    st.tuples(
        st.integers(0, 2**32 - 1),  # seconds
        st.integers(0, 999_999_999),  # nanoseconds
        st.binary(max_size=80),
        st.integers(0, 100),  # bytes cut off by the snapshot
    ),
    max_size=12,
)


def _write(kind: str, packets: list, linktypes: tuple[int, ...] = (1,)) -> bytes:
    out = io.BytesIO()
    if kind == "pcapng":
        ng = PcapngWriter(out)
        if not packets:  # a readable pcapng file declares an interface (libpcap needs one)
            ng.interface(linktypes[0])
        for i, (sec, ns, data, cut) in enumerate(packets):
            ng.write(sec * 10**9 + ns, len(data) + cut, data, linktypes[i % len(linktypes)], i % 2)
    else:
        writer = PcapWriter(out, 1, 65535, nsec=kind == "nsec")
        for sec, ns, data, cut in packets:
            writer.write(sec * 10**9 + ns, len(data) + cut, data)
    return out.getvalue()


def _expected(kind: str, packets: list) -> list[tuple[int, int, int, bytes]]:
    keep = 1000 if kind == "usec" else 1
    return [
        (sec * 10**9 + ns // keep * keep, len(d), len(d) + cut, d) for sec, ns, d, cut in packets
    ]


def _record_ends(kind: str, packets: list) -> list[int]:
    """Where each packet's record ends in ``_write(kind, packets)``'s output."""
    ends, pos, declared = [], 28 if kind == "pcapng" else 24, set()
    for i, (_, _, data, _) in enumerate(packets):
        if kind == "pcapng":
            if i % 2 not in declared:  # the IDB written before the first packet of a key
                declared.add(i % 2)
                pos += 32
            pos += 32 + len(data) + (-len(data) % 4)
        else:
            pos += 16 + len(data)
        ends.append(pos)
    return ends


def _read_bytes(tmp: Path, blob: bytes) -> list:
    path = tmp / "f.cap"
    path.write_bytes(blob)
    return read_packets(path)


@given(packets=packets_st, kind=st.sampled_from(["usec", "nsec", "pcapng"]))
def test_write_then_read_is_identity(tmp_path_factory, packets: list, kind: str) -> None:
    got = _read_bytes(tmp_path_factory.mktemp("rt"), _write(kind, packets))
    assert [(ts, c, w, d) for ts, c, w, _, _, d in got] == _expected(kind, packets)


@given(packets=packets_st.filter(bool))
def test_pcapng_keeps_each_link_type_and_interface(tmp_path_factory, packets: list) -> None:
    got = _read_bytes(tmp_path_factory.mktemp("lt"), _write("pcapng", packets, (1, 101, 113)))
    assert [lt for _, _, _, lt, _, _ in got] == [(1, 101, 113)[i % 3] for i in range(len(packets))]
    assert len({(lt, iface) for _, _, _, lt, iface, _ in got}) == min(len(packets), 6)


def _swap_pcap(blob: bytes) -> bytes:
    """Re-encode a native little-endian pcap file big-endian."""
    magic, major, minor, zone, sig, snap, lt = struct.unpack_from("<IHHiIII", blob)
    out = [struct.pack(">IHHiIII", magic, major, minor, zone, sig, snap, lt)]
    pos = 24
    while pos < len(blob):
        sec, frac, caplen, wirelen = struct.unpack_from("<IIII", blob, pos)
        out.append(struct.pack(">IIII", sec, frac, caplen, wirelen))
        out.append(blob[pos + 16 : pos + 16 + caplen])
        pos += 16 + caplen
    return b"".join(out)


@given(packets=packets_st, kind=st.sampled_from(["usec", "nsec"]))
def test_big_endian_pcap_reads_the_same(tmp_path_factory, packets: list, kind: str) -> None:
    got = _read_bytes(tmp_path_factory.mktemp("be"), _swap_pcap(_write(kind, packets)))
    assert [(ts, c, w, d) for ts, c, w, _, _, d in got] == _expected(kind, packets)


def _swap_pcapng(blob: bytes) -> bytes:
    """Re-encode our own (SHB, IDB, EPB only) little-endian pcapng output big-endian."""
    out, pos = [], 0
    while pos < len(blob):
        btype, total = struct.unpack_from("<II", blob, pos)
        body = blob[pos + 8 : pos + total - 4]
        if btype == 0x0A0D0D0A:
            body = struct.pack(">IHHq", *struct.unpack_from("<IHHq", body))
        elif btype == 1:
            linktype, res, snap, c1, l1, v, c2, l2 = struct.unpack_from("<HHIHHB3xHH", body)
            body = struct.pack(">HHIHHB3xHH", linktype, res, snap, c1, l1, v, c2, l2)
        elif btype == 6:
            body = struct.pack(">IIIII", *struct.unpack_from("<IIIII", body)) + body[20:]
        out.append(struct.pack(">II", btype, total) + body + struct.pack(">I", total))
        pos += total
    return b"".join(out)


@given(packets=packets_st)
def test_big_endian_pcapng_reads_the_same(tmp_path_factory, packets: list) -> None:
    got = _read_bytes(tmp_path_factory.mktemp("ngbe"), _swap_pcapng(_write("pcapng", packets)))
    assert [(ts, c, w, d) for ts, c, w, _, _, d in got] == _expected("pcapng", packets)


# -- hand-built pcapng features -----------------------------------------------------------


def _block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def _shb() -> bytes:
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def _idb(linktype: int, snaplen: int = 0, options: bytes = b"") -> bytes:
    return _block(1, struct.pack("<HHI", linktype, 0, snaplen) + options)


def _opt(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _epb(iface: int, ts: int, data: bytes, wirelen: int | None = None) -> bytes:
    wl = len(data) if wirelen is None else wirelen
    head = struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), wl)
    return _block(6, head + data)


def test_pcapng_resolution_offset_spb_pb_unknown_blocks_and_sections(tmp_path: Path) -> None:
    blob = b"".join(
        [
            _shb(),
            _idb(1, 0, _opt(9, b"\x03") + _opt(14, struct.pack("<q", 100))),  # ms, +100 s
            _idb(101, 0, _opt(9, b"\x8a")),  # 2^-10 s
            _block(0xBAD, b"unknown block, skipped"),
            _epb(0, 1500, b"abc"),
            _epb(1, 3 * 1024 + 512, b"defg", 99),
            _block(3, struct.pack("<I", 5) + b"hello"),  # SPB on interface 0
            _block(2, struct.pack("<HHIIII", 1, 0, 0, 7, 2, 2) + b"pb"),  # obsolete PB
            _shb(),  # a new section: interfaces start again at 0
            _idb(113, 4),
            _block(3, struct.pack("<I", 9) + b"123456789"),  # SPB cut to the snaplen 4
        ]
    )
    got = _read_bytes(tmp_path, blob)
    assert got == [
        (101_500_000_000, 3, 3, 1, 0, b"abc"),
        (3_500_000_000, 4, 99, 101, 1, b"defg"),
        (0, 5, 5, 1, 0, b"hello"),  # SPBs carry no timestamp
        (7 * 10**9 // 1024, 2, 2, 101, 1, b"pb"),
        (0, 4, 9, 113, 2, b"1234"),
    ]


CORRUPT = [
    (
        "pcapng block length 0",
        _shb() + _idb(1) + struct.pack("<III", 6, 0, 0),
        r"invalid block total length 0 at byte offset 48",
    ),
    (
        "pcapng huge block",
        _shb() + _idb(1) + struct.pack("<III", 6, 2**31, 0),
        r"truncated block .* at byte offset 48",
    ),
    (
        "epb caplen past block",
        _shb() + _idb(1) + _epb(0, 0, b"ab")[:20] + struct.pack("<I", 200) + _epb(0, 0, b"ab")[24:],
        r"captured length 200 larger",
    ),
    ("epb undeclared interface", _shb() + _idb(1) + _epb(3, 0, b"ab"), r"undeclared interface 3"),
    (
        "option past block",
        _shb() + _block(1, struct.pack("<HHIHH", 1, 0, 0, 9, 40)),
        r"option 9 \(length 40\) runs past",
    ),
    (
        "pcap short header",
        struct.pack("<IHH", 0xA1B2C3D4, 2, 4),
        r"truncated pcap file header \(8 of 24",
    ),
    (
        "pcap record past end",
        struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
        + struct.pack("<IIII", 0, 0, 1000, 1000)
        + b"x",
        r"caplen 1000, only 1 bytes left\) at byte offset 24",
    ),
    ("unknown magic", b"GIF89a..", r"unknown file format"),
    ("empty", b"", r"empty file"),
]


@pytest.mark.parametrize("blob,pattern", [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_corrupt_files_name_the_offset(tmp_path: Path, blob: bytes, pattern: str) -> None:
    with pytest.raises(CaptureError, match=pattern):
        _read_bytes(tmp_path, blob)


def test_packets_before_a_corrupt_record_are_all_handed_out(tmp_path: Path) -> None:
    blob = _write("usec", [(1, 0, b"one", 0), (2, 0, b"two", 0)]) + b"\1\2\3"
    path = tmp_path / "cut.pcap"
    path.write_bytes(blob)
    seen = []
    with pytest.raises(CaptureError, match=r"truncated record header \(3 of 16 bytes\)"):
        with open_capture(path) as reader:
            for packet in reader:
                seen.append(bytes(packet.data))
    assert seen == [b"one", b"two"]


@given(
    packets=packets_st,
    kind=st.sampled_from(["usec", "nsec", "pcapng"]),
    cut=st.integers(0, 10_000),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
)
def test_corruption_never_raises_anything_but_capture_error(
    tmp_path_factory, packets: list, kind: str, cut: int, flips: list
) -> None:
    blob = bytearray(_write(kind, packets))
    good = _expected(kind, packets)
    blob = blob[: max(4, len(blob) - cut % (len(blob) + 1))]
    for where, value in flips:
        blob[where % len(blob)] = value
    path = tmp_path_factory.mktemp("bad") / "f"
    path.write_bytes(bytes(blob))
    seen = []
    try:
        with open_capture(path) as reader:
            for packet in reader:
                seen.append(packet)
    except CaptureError as err:
        assert re.search(r"(byte offset \d+|not a pcap|unknown file format|empty)", str(err))
    if not flips:  # pure truncation: what was read is a prefix of what was written
        assert [(p.ts_ns, p.caplen, p.wirelen, bytes(p.data)) for p in seen] == good[: len(seen)]


def test_writer_refuses_a_second_link_type_in_pcap(tmp_path: Path) -> None:
    from bpfc.capture import Packet

    with CaptureWriter(str(tmp_path / "o.pcap")) as writer:
        writer.write(Packet(0, 1, 1, 1, 0, memoryview(b"a")))
        with pytest.raises(CaptureError, match="one link type"):
            writer.write(Packet(0, 1, 1, 101, 0, memoryview(b"a")))


def _chunk_view(reader, size: int) -> list[tuple[int, int, int, int, int, bytes]]:
    out = []
    for chunk in reader.chunks(size):
        for i in range(len(chunk)):
            iface = int(chunk.iface[i])
            out.append(
                (
                    int(chunk.ts_ns[i]),
                    int(chunk.caplen[i]),
                    int(chunk.wirelen[i]),
                    chunk.linktypes[iface],
                    iface,
                    bytes(chunk.data(i)),
                )
            )
    return out


def test_chunks_index_the_same_packets_as_iteration(upstream: Path) -> None:
    pytest.importorskip("numpy")
    files = sorted((upstream / "pcaps").glob("*.pcap*"))
    files += sorted((upstream / "libpcap-savefiles" / "filter").glob("*.pcap*"))
    for path in files:
        with open_capture(path) as reader:
            assert _chunk_view(reader, 7) == read_packets(path), path.name


@given(packets=packets_st, kind=st.sampled_from(["usec", "nsec", "pcapng"]), cut=st.integers(1, 60))
def test_chunks_hand_out_every_complete_packet_before_an_error(
    tmp_path_factory, packets: list, kind: str, cut: int
) -> None:
    pytest.importorskip("numpy")
    blob = _write(kind, packets)
    path = tmp_path_factory.mktemp("ck") / "f"
    cut = min(cut, len(blob) - 4)
    path.write_bytes(blob[: len(blob) - cut])
    seen: list = []
    try:
        with open_capture(path) as reader:
            for chunk in reader.chunks(3):
                seen.extend(bytes(chunk.data(i)) for i in range(len(chunk)))
    except CaptureError:
        pass
    full = [d for _, _, d, _ in packets]
    assert seen == full[: len(seen)]
    # every packet whose record ends inside the file was handed out
    assert len(seen) == sum(end <= len(blob) - cut for end in _record_ends(kind, packets))
