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
