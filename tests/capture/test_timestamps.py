"""Every time stamp libpcap reads, bpfc reads the same: huge, nanosecond, any resolution/offset.

pcapng stores a 64-bit tick count per packet, in the interface's ``if_tsresol`` units
(10^-n or 2^-n seconds), plus ``if_tsoffset`` seconds: a count near 2^64 in nanoseconds
is far beyond a 64-bit nanosecond integer, which once made the batch engine raise
``OverflowError``.  Here random interfaces and stamps go through ``bpfc filter`` (both
engines, pcapng in, pcap out) and must give tcpdump's file byte for byte.

Binary resolutions finer than 2^-40 are left out: libpcap scales their fraction with a
64-bit multiplication that wraps (bpfc's integers do not), so there the two differ by
design.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfc.capture import read_packets
from bpfc.cli import main

TCPDUMP = shutil.which("tcpdump")
FRAME = bytes.fromhex("ffffffffffff0200000000010800") + bytes(20)


def _block(btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def _capture(tsresol: int | None, tsoffset: int | None, stamps: list[int]) -> bytes:
    options = b""
    if tsresol is not None:
        options += struct.pack("<HHB3x", 9, 1, tsresol)
    if tsoffset is not None:
        options += struct.pack("<HHq", 14, 8, tsoffset)
    if options:
        options += struct.pack("<HH", 0, 0)
    blob = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    blob += _block(1, struct.pack("<HHI", 1, 0, 0) + options)
    for ticks in stamps:
        head = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(FRAME), len(FRAME))
        blob += _block(6, head + FRAME)
    return blob


resolutions = st.one_of(st.none(), st.integers(0, 19), st.integers(0, 40).map(lambda k: 0x80 | k))


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@settings(max_examples=40)
@given(
    tsresol=resolutions,
    tsoffset=st.one_of(st.none(), st.integers(-(2**40), 2**40)),
    stamps=st.lists(
        st.one_of(
            st.integers(0, 2**64 - 1),
            st.sampled_from([0, 2**63, 2**64 - 1, 2**63 - 1, 1_700_000_000 * 10**9]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_pcapng_time_stamps_equal_tcpdumps(
    tmp_path_factory, tsresol: int | None, tsoffset: int | None, stamps: list[int]
) -> None:
    pytest.importorskip("numpy")
    tmp = tmp_path_factory.mktemp("ts")
    src = tmp / "in.pcapng"
    src.write_bytes(_capture(tsresol, tsoffset, stamps))
    theirs = tmp / "t.pcap"
    done = subprocess.run([TCPDUMP, "-r", str(src), "-w", str(theirs)], capture_output=True)
    assert done.returncode == 0, done.stderr
    for engine in ("batch", "packet"):
        ours = tmp / f"{engine}.pcap"
        assert main(["filter", "-q", "--engine", engine, "-r", str(src), "-w", str(ours)]) == 0
        assert ours.read_bytes() == theirs.read_bytes(), engine


@given(stamps=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=5))
def test_huge_stamps_survive_a_pcapng_round_trip(tmp_path_factory, stamps: list[int]) -> None:
    """Nanosecond stamps past 2^63: read exactly by both paths, kept by a pcapng output."""
    pytest.importorskip("numpy")
    tmp = tmp_path_factory.mktemp("big")
    src = tmp / "in.pcapng"
    src.write_bytes(_capture(9, None, stamps))
    assert [p[0] for p in read_packets(src)] == stamps
    for engine in ("batch", "packet"):
        out = tmp / f"{engine}.pcapng"
        args = ["filter", "-q", "--engine", engine, "-r", str(src), "-w", str(out)]
        assert main(args) == 0
        assert [p[0] for p in read_packets(out)] == stamps
