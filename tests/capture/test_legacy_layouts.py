"""Legacy pcap layouts (swapped length fields before 2.3, 2.3's maybe-swapped, DG/UX 543.0,
Kuznetzov's 24-byte record headers), read as libpcap reads them: checked against tcpdump
where it is installed and against the packets the file was built from everywhere."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfc.capture import CaptureWriter, open_capture, read_packets
from bpfc.capture.engine import filter_capture
from bpfc.program import Program

TCPDUMP = shutil.which("tcpdump")

# (magic, major, minor, swapped-lengths rule, record header size)
LAYOUTS = {
    "2.2": (0xA1B2C3D4, 2, 2, "swapped", 16),
    "2.3": (0xA1B2C3D4, 2, 3, "maybe", 16),
    "543.0": (0xA1B2C3D4, 543, 0, "swapped", 16),
    "kuznetzov": (0xA1B2CD34, 2, 4, "plain", 24),
}

packet_lists = st.lists(
    st.tuples(
        st.integers(0, 2**31),  # seconds
        st.integers(0, 999_999),  # microseconds
        st.binary(min_size=0, max_size=80),  # captured bytes
        st.integers(0, 40),  # bytes cut off by the snapshot
        st.booleans(),  # for 2.3: write this record's lengths swapped
    ),
    max_size=12,
)


def _legacy(layout: str, packets: list, order: str = "<") -> bytes:
    magic, major, minor, rule, size = LAYOUTS[layout]
    out = [struct.pack(order + "IHHiIII", magic, major, minor, 0, 0, 65535, 1)]
    for sec, usec, data, cut, swap in packets:
        caplen, wirelen = len(data), len(data) + cut
        first, second = caplen, wirelen
        if rule == "swapped" or (rule == "maybe" and swap and cut):
            first, second = wirelen, caplen
        out.append(struct.pack(order + "IIII", sec, usec, first, second))
        if size == 24:  # interface index, protocol, packet type, padding
            out.append(struct.pack(order + "iHBx", 3, 0x0800, 0))
        out.append(data)
    return b"".join(out)


def _expected(packets: list) -> list[tuple[int, int, int, bytes]]:
    return [
        (sec * 1_000_000_000 + usec * 1000, len(data), len(data) + cut, data)
        for sec, usec, data, cut, _ in packets
    ]


def _read(path: Path) -> list[tuple[int, int, int, bytes]]:
    return [(ts, caplen, wirelen, data) for ts, caplen, wirelen, _, _, data in read_packets(path)]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("order", ["<", ">"])
@settings(max_examples=25)
@given(packets=packet_lists)
def test_legacy_layout_reads_the_packets_it_was_built_from(
    tmp_path_factory, layout: str, order: str, packets: list
) -> None:
    path = tmp_path_factory.mktemp("legacy") / f"{layout}.pcap"
    path.write_bytes(_legacy(layout, packets, order))
    assert _read(path) == _expected(packets)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("engine", ["batch", "packet"])
def test_filtering_a_legacy_file_writes_standard_records(
    tmp_path: Path, layout: str, engine: str
) -> None:
    if engine == "batch":
        pytest.importorskip("numpy")
    packets = [(i, i * 7, bytes([i]) * (20 + i), i % 3 * 5, bool(i % 2)) for i in range(1, 40)]
    src, out = tmp_path / "in.pcap", tmp_path / "out.pcap"
    src.write_bytes(_legacy(layout, packets))
    accept_odd_first_byte = Program.from_insns(
        [(0x30, 0, 0, 0), (0x45, 0, 1, 1), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)]
    )
    with open_capture(src) as reader, CaptureWriter(str(out)) as writer:
        writer.start(reader.linktype)
        stats = filter_capture(
            reader, lambda _lt: accept_odd_first_byte, writer=writer, engine=engine
        )
    want = [p for p in _expected(packets) if p[3][0] & 1]
    assert stats.read == len(packets) and stats.matched == len(want)
    assert _read(out) == want
    assert open_capture(out).plain  # the output is in the standard layout


def test_truncated_legacy_record_keeps_the_packets_before_it(tmp_path: Path) -> None:
    packets = [(1, 2, b"a" * 30, 0, False), (3, 4, b"b" * 30, 5, False)]
    blob = _legacy("kuznetzov", packets)
    path = tmp_path / "cut.pcap"
    path.write_bytes(blob[:-10])
    with open_capture(path) as reader:
        got = []
        with pytest.raises(Exception, match=r"truncated .* at byte offset 78"):
            for packet in reader:
                got.append(bytes(packet.data))
    assert got == [b"a" * 30]


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_legacy_layout_reads_as_tcpdump_reads_it(tmp_path: Path, layout: str) -> None:
    packets = [
        (10 + i, i * 1000, bytes(range(i, i + 30 + i)), i % 4 * 3, i % 2 == 0) for i in range(25)
    ]
    src, theirs = tmp_path / "in.pcap", tmp_path / "theirs.pcap"
    src.write_bytes(_legacy(layout, packets))
    done = subprocess.run([TCPDUMP, "-r", str(src), "-w", str(theirs)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert _read(src) == _read(theirs)
