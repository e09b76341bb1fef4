"""Classic pcap files: read in place from a mapping, write with either timestamp precision.

A pcap file is a 24-byte header (magic, version, snaplen, link type) followed by records
of a 16-byte header (seconds, micro- or nanoseconds, captured length, wire length) and
the captured bytes.  The magic says the byte order and the timestamp precision.

Two legacy layouts are read as libpcap reads them: files older than version 2.3 (and
DG/UX's 543.0) store the wire length before the captured length, version 2.3 files may
or may not (the smaller of the two is the captured length), and the "Kuznetzov"
magic of patched Linux libpcaps has 24-byte record headers (interface index, protocol
and packet type after the lengths).  Such files take the generic record loop; only the
standard layout has the fast paths (the walk of the length chain, raw record copies).

Reading never copies packet bytes: :meth:`PcapReader.__iter__` hands out
:class:`~bpfc.capture.common.Packet` records whose ``data`` is a slice of the mapping,
and :meth:`PcapReader.chunks` indexes runs of records into numpy arrays for the batch
engine (the mapping itself is the packed packet buffer).  Pages already consumed are
released from the resident set as reading advances, so memory stays flat.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from operator import sub
from typing import Any, BinaryIO, NamedTuple

from bpfc.capture.common import (
    INT_MAX,
    CaptureError,
    Packet,
    close_mapping,
    compile_snapshot,
    header_dlt,
    map_file,
    max_snaplen,
    release_pages,
    struct_byte_order,
)

MAGIC_USEC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D
MAGIC_KUZNETZOV = 0xA1B2CD34
KUZNETZOV_RECORD_HEADER = 24
FILE_HEADER = 24
RECORD_HEADER = 16
RELEASE_EVERY = 8 << 20
"""Release consumed pages from the resident set every this many bytes."""

LT_LINKTYPE_MASK = 0x0000FFFF
LT_RESERVED_MASK = 0x03FF0000
LT_FCS_PRESENT = 0x04000000


def sniff_pcap(head: bytes) -> tuple[str, bool] | None:
    """``(byte order, nanosecond?)`` when ``head`` starts with a pcap magic, else None."""
    if len(head) < 4:
        return None
    for order in "<>":
        (magic,) = struct.unpack(order + "I", head[:4])
        if magic in (MAGIC_USEC, MAGIC_KUZNETZOV):
            return order, False
        if magic == MAGIC_NSEC:
            return order, True
    return None


class RecordLayout(NamedTuple):
    """Where the fields of a standard pcap record header sit, for code that indexes records
    itself (the batch chunker gathers them for a whole run at once)."""

    header: int
    """Bytes before the packet data."""
    ts_sec: int
    """Offset of the seconds field (u32)."""
    ts_frac: int
    """Offset of the sub-second field (u32)."""
    caplen: int
    """Offset of the captured length (u32)."""
    wirelen: int
    """Offset of the wire length (u32)."""
    frac_ns: int
    """Nanoseconds per unit of the sub-second field (1 or 1000)."""
    big_endian: bool
    """Byte order of every field."""


class PcapReader:
    """A classic pcap file mapped read-only; iterate for packets, or take chunks for batches."""

    format = "pcap"

    def __init__(self, path: str, data: Any = None) -> None:
        """Map ``path``; or, with ``data`` (any bytes-like object), read that in place."""
        self.views: dict[str, Any] = {}
        """Derived views of :attr:`buffer` a consumer builds once (e.g. the chunker's uint8
        array), kept with the reader and dropped by :meth:`close`."""
        self.path = str(path)
        if data is None:
            self._map, self._mv = map_file(self.path)
        else:
            self._map, self._mv = None, memoryview(data).cast("B")
        mv = self._mv
        sniffed = sniff_pcap(bytes(mv[:4]))
        if sniffed is None:
            raise CaptureError("not a pcap file (bad magic number)", self.path, 0)
        self.byteorder, self.nsec = sniffed
        if len(mv) < FILE_HEADER:
            raise CaptureError(
                f"truncated pcap file header ({len(mv)} of {FILE_HEADER} bytes)", self.path, 0
            )
        _, major, minor, _, _, snaplen, linktype = struct.unpack_from(
            self.byteorder + "IHHiIII", mv, 0
        )
        if not ((major == 2 and minor <= 4) or (major == 543 and minor == 0)):
            raise CaptureError(f"unsupported pcap savefile version {major}.{minor}", self.path, 4)
        if linktype & LT_RESERVED_MASK:
            raise CaptureError(
                f"savefile linktype reserved field not zero (0x{linktype & LT_RESERVED_MASK:08x})",
                self.path,
                20,
            )
        self.version = (major, minor)
        kuznetzov = struct.unpack_from(self.byteorder + "I", mv, 0)[0] == MAGIC_KUZNETZOV
        self.record_header = KUZNETZOV_RECORD_HEADER if kuznetzov else RECORD_HEADER
        if major == 543 or minor < 3:
            self.lengths = "swapped"  # wire length first, then captured length
        elif minor == 3:
            self.lengths = "maybe"  # swapped exactly when the first looks larger
        else:
            self.lengths = "plain"
        self.plain = self.lengths == "plain" and not kuznetzov
        """The standard layout: the fast paths (length-chain walk, raw copies) apply."""
        self.snaplen = snaplen
        self.linktype = linktype & LT_LINKTYPE_MASK
        self.linktype_field = linktype  # with the FCS bits, for writing the same header
        self.fcs_len = (linktype >> 28) if linktype & LT_FCS_PRESENT else None
        self.linktypes = {0: self.linktype}
        # what pcap_open_offline gives pcap_compile: the DLT, the snapshot, the byte order
        self.dlt = header_dlt(self.linktype)
        self.byte_order = struct_byte_order(self.byteorder)
        self.compile_snaplen = compile_snapshot(self.dlt, snaplen)
        if kuznetzov and self.dlt == 1:  # maybe cooked: a faked Ethernet header was added
            self.compile_snaplen = min(self.compile_snaplen + 14, INT_MAX)
        # Records longer than the snapshot are cut to it (the rest is skipped), as libpcap does.
        self.snapshot = compile_snapshot(self.dlt, snaplen)
        self.max_caplen = max_snaplen(self.dlt)
        """A record longer than this is an error (longer than the snapshot only: cut)."""
        self._record = struct.Struct(self.byteorder + "IIII")
        self._caplen = struct.Struct(self.byteorder + "I")

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Unmap the file (left to the GC while views into it are still alive)."""
        mapping, self._map = self._map, None
        self._mv = memoryview(b"")
        self.views.clear()
        close_mapping(mapping)

    def __enter__(self) -> PcapReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def buffer(self) -> memoryview:
        """The whole file as one read-only view (the packed buffer chunks index into)."""
        return self._mv

    @property
    def native(self) -> bool:
        """True when records are in this machine's byte order (raw copies are valid pcap)."""
        return self.byteorder == ("<" if sys.byteorder == "little" else ">")

    # -- per-packet path -----------------------------------------------------------------
    def __iter__(self) -> Iterator[Packet]:
        if not self.plain:
            yield from self._legacy_packets()
            return
        mv = self._mv
        end = len(mv)
        unpack = self._record.unpack_from
        scale = 1 if self.nsec else 1000
        linktype = self.linktype
        snapshot = self.snapshot
        pos = FILE_HEADER
        released = 0
        while pos < end:
            if pos + RECORD_HEADER > end:
                raise self._truncated_header(pos, end)
            sec, frac, caplen, wirelen = unpack(mv, pos)
            if caplen > self.max_caplen:
                raise self._too_long(pos, caplen)
            start = pos + RECORD_HEADER
            stop = start + caplen
            if stop > end:
                raise self._truncated_record(pos, caplen, end - start)
            if caplen > snapshot:
                caplen = snapshot
            yield Packet(
                sec * 1_000_000_000 + frac * scale,
                caplen,
                wirelen,
                linktype,
                0,
                mv[start : start + caplen],
            )
            pos = stop
            if pos - released > RELEASE_EVERY:
                release_pages(self._map, released, pos)
                released = pos

    def _fields(self, pos: int) -> tuple[int, int, int, int]:
        """``(seconds, fraction, captured length, wire length)`` of the record at ``pos``,
        with a legacy layout's lengths put in order."""
        sec, frac, first, second = self._record.unpack_from(self._mv, pos)
        if self.lengths == "swapped" or (self.lengths == "maybe" and first > second):
            return sec, frac, second, first
        return sec, frac, first, second

    def _legacy_records(self) -> Iterator[tuple[int, int, int, int, int, int]]:
        """``(record offset, record end, seconds, fraction, caplen, wirelen)`` per record of
        a legacy layout, the error that ends the file raised after the records before it."""
        end = len(self._mv)
        size = self.record_header
        pos = FILE_HEADER
        while pos < end:
            if pos + size > end:
                raise self._truncated_header(pos, end)
            sec, frac, caplen, wirelen = self._fields(pos)
            if caplen > self.max_caplen:
                raise self._too_long(pos, caplen)
            stop = pos + size + caplen
            if stop > end:
                raise self._truncated_record(pos, caplen, end - pos - size)
            yield pos, stop, sec, frac, caplen, wirelen
            pos = stop

    def _legacy_packets(self) -> Iterator[Packet]:
        scale = 1 if self.nsec else 1000
        size = self.record_header
        for pos, _, sec, frac, caplen, wirelen in self._legacy_records():
            keep = min(caplen, self.snapshot)
            start = pos + size
            yield Packet(
                sec * 1_000_000_000 + frac * scale,
                keep,
                wirelen,
                self.linktype,
                0,
                self._mv[start : start + keep],
            )

    def packet_at(self, pos: int) -> tuple[Packet, int]:
        """The packet whose record starts at byte ``pos`` (an offset :meth:`record_runs` gave),
        and where its record ends (it may hold more than the snapshot it was cut to)."""
        sec, frac, caplen, wirelen = self._fields(pos)
        start = pos + self.record_header
        ts_ns = sec * 1_000_000_000 + frac * (1 if self.nsec else 1000)
        keep = min(caplen, self.snapshot)
        packet = Packet(ts_ns, keep, wirelen, self.linktype, 0, self._mv[start : start + keep])
        return packet, start + caplen

    def _truncated_header(self, pos: int, end: int) -> CaptureError:
        return CaptureError(
            f"truncated record header ({end - pos} of {self.record_header} bytes)", self.path, pos
        )

    def _too_long(self, pos: int, caplen: int) -> CaptureError:
        return CaptureError(
            f"invalid packet capture length {caplen}, bigger than the maximum of "
            f"{self.max_caplen} for its link type",
            self.path,
            pos,
        )

    def _truncated_record(self, pos: int, caplen: int, left: int) -> CaptureError:
        return CaptureError(
            f"truncated packet record (caplen {caplen}, only {left} bytes left)", self.path, pos
        )

    # -- batch path ----------------------------------------------------------------------
    def _walk(self, pos: int, size: int) -> list[int] | None:
        """Where each of ``size`` records from ``pos`` ends (the fast path of :meth:`_offsets`;
        ``IndexError`` when the chain runs off the end of the file, None if it cannot run).

        The caplen fields are read as native 32-bit words through four word-views of the
        file, one per alignment (``views[q & 3][q >> 2]`` is the word at byte ``q``): about
        a fifth cheaper per record than a ``struct`` call.
        """
        mv = self._mv
        end = len(mv)
        try:
            views = [mv[k : k + (end - k) // 4 * 4].cast("I") for k in range(4)]
        except (TypeError, ValueError):  # pragma: no cover - a view that cannot be cast
            return None
        try:
            q = pos + 8  # the caplen field of the record at pos
            step = RECORD_HEADER
            return [(q := q + step + views[q & 3][q >> 2]) - 8 for _ in range(size)]
        finally:
            for view in views:
                view.release()

    def _offsets(self, pos: int, size: int) -> tuple[list[int], int, CaptureError | None]:
        """Up to ``size`` record offsets from ``pos``, the offset after them, and any error.

        The fast path walks the chain of record lengths in one list comprehension (the
        records are contiguous, so each start is the previous start + 16 + caplen); when
        it runs off the end of the file it is redone carefully to find the exact error.
        """
        mv = self._mv
        end = len(mv)
        caplen_at = self._caplen.unpack_from
        start = pos
        try:
            nexts = self._walk(pos, size) if self.native else None
            if nexts is None:
                nexts = [
                    pos := pos + RECORD_HEADER + caplen_at(mv, pos + 8)[0] for _ in range(size)
                ]
        except (struct.error, IndexError):
            nexts = []
        if nexts and nexts[-1] <= end:
            offsets = [start, *nexts[:-1]]
            longest = max(map(sub, nexts, offsets)) - RECORD_HEADER
            if longest <= self.max_caplen:
                return offsets, nexts[-1], None
        offsets = []
        pos = start
        while pos < end and len(offsets) < size:
            if pos + RECORD_HEADER > end:
                return offsets, pos, self._truncated_header(pos, end)
            caplen = caplen_at(mv, pos + 8)[0]
            if caplen > self.max_caplen:
                return offsets, pos, self._too_long(pos, caplen)
            stop = pos + RECORD_HEADER + caplen
            if stop > end:
                left = end - pos - RECORD_HEADER
                return offsets, pos, self._truncated_record(pos, stop - pos - RECORD_HEADER, left)
            offsets.append(pos)
            pos = stop
        return offsets, pos, None

    def record_runs(self, size: int = 65536) -> Iterator[tuple[list[int], int]]:
        """``(offsets, after)`` for up to ``size`` complete records at a time: where each
        record starts and where the last one ends.  Pages already walked are released; the
        error that ends the file is raised after the records before it were handed out.
        The standard layout only (:attr:`plain`)."""
        if not self.plain:
            raise ValueError(f"{self.path}: record runs need the standard pcap layout")
        end = len(self._mv)
        pos = FILE_HEADER
        prev = 0
        while pos < end:
            offsets, after, error = self._offsets(pos, size)
            release_pages(self._map, prev, pos)
            prev = pos
            if offsets:
                yield offsets, after
            if error is not None:
                raise error
            pos = after

    @property
    def record_layout(self) -> RecordLayout:
        """The record header's layout; only the standard one has fixed field offsets."""
        if not self.plain:
            raise ValueError(f"{self.path}: not the standard pcap record layout")
        scale = 1 if self.nsec else 1000
        return RecordLayout(self.record_header, 0, 4, 8, 12, scale, self.byteorder == ">")

    def chunks(self, size: int = 65536) -> Iterator[Any]:
        """Yield :class:`~bpfc.capture.chunk.Chunk` s of up to ``size`` records (needs numpy)."""
        from bpfc.capture.chunk import pcap_chunk

        if not self.plain:
            yield from self._legacy_chunks(size)
            return
        for offsets, after in self.record_runs(size):
            yield pcap_chunk(self, offsets, after)

    def _legacy_chunks(self, size: int) -> Iterator[Any]:
        from bpfc.capture.chunk import as_uint8, record_chunks

        scale = 1 if self.nsec else 1000
        head, snapshot = self.record_header, self.snapshot
        records = (
            (
                pos,
                stop,
                0,
                sec * 1_000_000_000 + frac * scale,
                min(caplen, snapshot),
                wire,
                pos + head,
            )
            for pos, stop, sec, frac, caplen, wire in self._legacy_records()
        )
        return record_chunks(as_uint8(self._mv), records, self.linktypes, size)


class PcapWriter:
    """Write a classic pcap file (this machine's byte order, micro- or nanosecond stamps)."""

    def __init__(
        self,
        out: BinaryIO,
        linktype: int,
        snaplen: int = 262144,
        *,
        nsec: bool = False,
        field: int | None = None,
    ) -> None:
        """``field`` is the header's whole link-type field (FCS bits included), if not bare."""
        self.out = out
        self.nsec = nsec
        self.linktype = linktype
        self.snaplen = snaplen
        self.count = 0
        magic = MAGIC_NSEC if nsec else MAGIC_USEC
        header = linktype if field is None else field
        out.write(struct.pack("=IHHiIII", magic, 2, 4, 0, 0, snaplen, header))
        self._record = struct.Struct("=IIII")

    def write(self, ts_ns: int, wirelen: int, data: Any) -> None:
        """Append one record; ``data`` is any bytes-like object (written as is)."""
        sec, rest = divmod(ts_ns, 1_000_000_000)
        frac = rest if self.nsec else rest // 1000
        self.out.write(self._record.pack(sec & 0xFFFFFFFF, frac, len(data), wirelen))
        self.out.write(data)
        self.count += 1

    def write_packet(self, packet: Packet) -> None:
        self.write(packet.ts_ns, packet.wirelen, packet.data)

    def write_raw(self, runs: list[Any], count: int) -> None:
        """Append ``count`` records already encoded in this file's format (runs of a source)."""
        self.out.writelines(runs)
        self.count += count
