"""A chunk: a run of records indexed into numpy arrays over the unchanged source buffer.

The batch engine wants, for a few tens of thousands of packets at once, where each
packet's bytes start in one packed buffer, how many were captured, and the wire length.
A capture file mapping already *is* such a buffer, so a chunk is just index arrays into
it (``data_off``, ``caplen``, ``iface``) plus the record spans (``rec_off``, ``rec_end``)
that let a writer copy whole runs of records untouched.  ``wirelen`` and ``ts_ns`` are
gathered from the record headers only when first asked for: many filters never load
``len``, and only a re-encoding writer or a printed line needs the time.
numpy is imported here only; nothing else in the readers needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from bpfc.capture.common import CaptureError

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.capture.pcap import PcapReader


class Chunk:
    """Index arrays over ``buf`` (uint8, the whole source) for ``len(data_off)`` packets."""

    __slots__ = (
        "buf", "data_off", "caplen", "iface", "linktypes", "rec_off", "rec_end",
        "_wirelen", "_ts_ns", "_gather",
    )  # fmt: skip

    def __init__(
        self,
        buf: Any,
        data_off: Any,
        caplen: Any,
        iface: Any,
        linktypes: dict[int, int],
        rec_off: Any,
        rec_end: Any,
        *,
        wirelen: Any = None,
        ts_ns: Any = None,
        gather: Callable[[str], Any] | None = None,
    ) -> None:
        self.buf = buf
        self.data_off = data_off
        self.caplen = caplen
        self.iface = iface
        self.linktypes = linktypes
        self.rec_off = rec_off
        self.rec_end = rec_end
        self._wirelen = wirelen
        self._ts_ns = ts_ns
        self._gather = gather

    def __len__(self) -> int:
        return int(self.data_off.shape[0])

    @property
    def wirelen(self) -> Any:
        if self._wirelen is None:
            assert self._gather is not None
            self._wirelen = self._gather("wirelen")
        return self._wirelen

    @property
    def ts_ns(self) -> Any:
        if self._ts_ns is None:
            assert self._gather is not None
            self._ts_ns = self._gather("ts_ns")
        return self._ts_ns

    def data(self, i: int) -> memoryview:
        """Packet ``i``'s bytes as a view into the source (no copy)."""
        start = int(self.data_off[i])
        return memoryview(self.buf)[start : start + int(self.caplen[i])]


def as_uint8(view: memoryview) -> Any:
    """A numpy uint8 array sharing memory with ``view`` (read-only views stay read-only)."""
    if len(view) == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(view, dtype=np.uint8)


def u32_at(buf: Any, pos: Any, big_endian: bool) -> Any:
    """The 32-bit words at byte offsets ``pos`` (any alignment), as int64."""
    b = [buf[pos + i].astype(np.int64) for i in range(4)]
    if big_endian:
        b.reverse()
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)


def pcap_chunk(reader: PcapReader, offsets: list[int], after: int) -> Chunk:
    """Index the complete pcap records starting at ``offsets``; ``after`` follows the last."""
    buf = reader.views.get("uint8")
    if buf is None or buf.shape[0] != len(reader.buffer):
        buf = reader.views["uint8"] = as_uint8(reader.buffer)
    layout = reader.record_layout
    pos = np.fromiter(offsets, dtype=np.int64, count=len(offsets))
    rec_end = np.empty_like(pos)
    rec_end[:-1] = pos[1:]
    rec_end[-1] = after
    data_off = pos + layout.header
    caplen = np.minimum(rec_end - data_off, reader.snapshot)
    big = layout.big_endian

    def gather(name: str) -> Any:
        if name == "wirelen":
            return u32_at(buf, pos + layout.wirelen, big)
        sec = u32_at(buf, pos + layout.ts_sec, big)
        return sec * 1_000_000_000 + u32_at(buf, pos + layout.ts_frac, big) * layout.frac_ns

    return Chunk(
        buf,
        data_off,
        caplen,
        np.zeros(pos.shape[0], dtype=np.int32),
        {0: reader.linktype},
        pos,
        rec_end,
        gather=gather,
    )


def list_chunk(
    buf: Any,
    data_off: list[int],
    caplen: list[int],
    wirelen: list[int],
    ts_ns: list[int],
    iface: list[int],
    linktypes: dict[int, int],
    rec_off: list[int],
    rec_end: list[int],
) -> Chunk:
    """A chunk from plain lists (pcapng blocks, zero-copy buffers, rings)."""
    i64 = np.int64
    try:
        stamps = np.asarray(ts_ns, dtype=i64)
    except OverflowError:  # a time stamp past 2**63 ns (pcapng allows 64-bit ticks): exact ints
        stamps = np.asarray(ts_ns, dtype=object)
    return Chunk(
        buf,
        np.asarray(data_off, dtype=i64),
        np.asarray(caplen, dtype=i64),
        np.asarray(iface, dtype=np.int32),
        dict(linktypes),
        np.asarray(rec_off, dtype=i64),
        np.asarray(rec_end, dtype=i64),
        wirelen=np.asarray(wirelen, dtype=i64),
        ts_ns=stamps,
    )


def record_chunks(
    buf: Any, records: Iterator[tuple[int, ...]], linktypes: dict[int, int], size: int
) -> Iterator[Chunk]:
    """Chunks of up to ``size`` records from ``records``, each ``(record offset, record end,
    interface, timestamp ns, caplen, wire length, data offset)`` (pcapng blocks, legacy
    pcap layouts).  A ``CaptureError`` from ``records`` is raised after the chunk of every
    complete record before it was handed out."""
    lists: tuple[list[int], ...] = ([], [], [], [], [], [], [])
    rec_off, rec_end, iface, ts, caplen, wirelen, data_off = lists

    def flush() -> Chunk:
        chunk = list_chunk(buf, data_off, caplen, wirelen, ts, iface, linktypes, rec_off, rec_end)
        for values in lists:
            values.clear()
        return chunk

    try:
        for record in records:
            for values, value in zip(lists, record, strict=True):
                values.append(value)
            if len(rec_off) >= size:
                yield flush()
    except CaptureError:
        if rec_off:  # every complete packet before the error is handed out first
            yield flush()
        raise
    if rec_off:
        yield flush()
