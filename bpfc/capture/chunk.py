"""A chunk: a run of records indexed into numpy arrays over the unchanged source buffer.

The batch engine wants, for a few tens of thousands of packets at once, where each
packet's bytes start in one packed buffer, how many were captured, and the wire length.
A capture file mapping already *is* such a buffer, so a chunk is just index arrays into
it (``data_off``, ``caplen``, ``wirelen``, ``ts_ns``, ``iface``) plus the record spans
(``rec_off``, ``rec_end``) that let a writer copy whole runs of records untouched.
numpy is imported here only; nothing else in the readers needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.capture.pcap import PcapReader


class Chunk(NamedTuple):
    """Index arrays over ``buf`` (uint8, the whole source) for ``len(data_off)`` packets."""

    buf: Any
    data_off: Any
    caplen: Any
    wirelen: Any
    ts_ns: Any
    iface: Any
    linktypes: dict[int, int]
    rec_off: Any
    rec_end: Any

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.data_off.shape[0])

    def data(self, i: int) -> memoryview:
        """Packet ``i``'s bytes as a view into the source (no copy)."""
        start = int(self.data_off[i])
        return memoryview(self.buf)[start : start + int(self.caplen[i])]


def as_uint8(view: memoryview) -> Any:
    """A numpy uint8 array sharing memory with ``view`` (read-only views stay read-only)."""
    if len(view) == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(view, dtype=np.uint8)


def pcap_chunk(reader: PcapReader, offsets: list[int], end: int) -> Chunk:
    """Index the pcap records starting at ``offsets`` (all complete) with one gather."""
    buf = getattr(reader, "_buf8", None)
    if buf is None or buf.shape[0] != len(reader.buffer):
        buf = as_uint8(reader.buffer)
        reader._buf8 = buf  # type: ignore[attr-defined]
    pos = np.asarray(offsets, dtype=np.int64)
    n = pos.shape[0]
    header = buf[pos[:, None] + np.arange(16, dtype=np.int64)]
    words = header.view(np.dtype(reader.byteorder + "u4")).reshape(n, 4).astype(np.int64)
    rec_end = pos + 16 + words[:, 2]
    caplen = np.minimum(words[:, 2], reader.snapshot)
    scale = 1 if reader.nsec else 1000
    data_off = pos + 16
    return Chunk(
        buf=buf,
        data_off=data_off,
        caplen=caplen,
        wirelen=words[:, 3],
        ts_ns=words[:, 0] * 1_000_000_000 + words[:, 1] * scale,
        iface=np.zeros(n, dtype=np.int32),
        linktypes={0: reader.linktype},
        rec_off=pos,
        rec_end=rec_end,
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
    return Chunk(
        buf=buf,
        data_off=np.asarray(data_off, dtype=i64),
        caplen=np.asarray(caplen, dtype=i64),
        wirelen=np.asarray(wirelen, dtype=i64),
        ts_ns=np.asarray(ts_ns, dtype=i64),
        iface=np.asarray(iface, dtype=np.int32),
        linktypes=dict(linktypes),
        rec_off=np.asarray(rec_off, dtype=i64),
        rec_end=np.asarray(rec_end, dtype=i64),
    )
