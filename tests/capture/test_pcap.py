"""``PcapReader.record_layout``: the record header description the batch chunker reads.

The chunker gathers time stamps and wire lengths for a whole run of records from this
description instead of hard-coding offsets; these tests build files in both byte orders
and both time resolutions and check the fields read through the layout are the ones
written, and that the chunker's arrays agree with the per-record reader.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfc.capture.pcap import MAGIC_KUZNETZOV, MAGIC_NSEC, MAGIC_USEC, PcapReader

_RECORD = st.tuples(
    st.integers(0, 2**32 - 1),  # seconds
    st.integers(0, 999_999),  # sub-second units
    st.binary(min_size=0, max_size=40),
    st.integers(0, 60),  # bytes the wire had beyond the captured ones
)


def _pcap(order: str, magic: int, records: list[tuple[int, int, bytes, int]]) -> bytes:
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)]
    for sec, frac, data, extra in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(data), len(data) + extra) + data)
    return b"".join(out)


@settings(max_examples=40, deadline=None)
@given(
    order=st.sampled_from("<>"),
    nsec=st.booleans(),
    records=st.lists(_RECORD, min_size=1, max_size=6),
)
def test_fields_read_through_the_layout_are_the_ones_written(
    order: str, nsec: bool, records: list[tuple[int, int, bytes, int]]
) -> None:
    data = _pcap(order, MAGIC_NSEC if nsec else MAGIC_USEC, records)
    reader = PcapReader("<bytes>", data=data)
    layout = reader.record_layout
    assert layout.big_endian == (order == ">")
    assert layout.frac_ns == (1 if nsec else 1000)
    pos = 24
    for sec, frac, payload, extra in records:

        def u32(offset: int, at: int = pos) -> int:
            return int(struct.unpack_from(order + "I", data, at + offset)[0])

        assert (u32(layout.ts_sec), u32(layout.ts_frac)) == (sec, frac)
        assert (u32(layout.caplen), u32(layout.wirelen)) == (len(payload), len(payload) + extra)
        assert data[pos + layout.header : pos + layout.header + len(payload)] == payload
        pos += layout.header + len(payload)


@settings(max_examples=25, deadline=None)
@given(order=st.sampled_from("<>"), nsec=st.booleans(), records=st.lists(_RECORD, min_size=1))
def test_chunks_agree_with_the_record_reader(
    order: str, nsec: bool, records: list[tuple[int, int, bytes, int]]
) -> None:
    pytest.importorskip("numpy")
    data = _pcap(order, MAGIC_NSEC if nsec else MAGIC_USEC, records)
    reader = PcapReader("<bytes>", data=data)
    chunks = list(reader.chunks())
    wire = [int(w) for c in chunks for w in c.wirelen]
    stamps = [int(t) for c in chunks for t in c.ts_ns]
    scale = 1 if nsec else 1000
    assert wire == [len(d) + extra for _, _, d, extra in records]
    assert stamps == [sec * 1_000_000_000 + frac * scale for sec, frac, _, _ in records]
    assert "uint8" in reader.views
    reader.close()
    assert not reader.views


def test_a_non_standard_layout_has_no_fixed_offsets() -> None:
    reader = PcapReader("<bytes>", data=_pcap("<", MAGIC_KUZNETZOV, []))
    with pytest.raises(ValueError, match="standard pcap record layout"):
        _ = reader.record_layout
