"""pcapng files: walk the blocks of a mapping in place, and write sections of our own.

A pcapng file is a sequence of sections; each starts with a Section Header Block (which
fixes the byte order) and declares interfaces (IDB: link type, snaplen, timestamp
resolution and offset).  Packets come in Enhanced (EPB), Simple (SPB) or obsolete
Packet (PB) blocks; every other block type is skipped.  Interfaces are numbered here
globally across sections, so a packet's ``interface`` identifies its link type for the
whole file (pcapng may mix link types; ``linktypes`` maps interface to link type).

Every length read from the file is checked against the block and the file before use:
a corrupt block raises :class:`~bpfc.capture.common.CaptureError` with its offset, after
every packet before it has been handed out.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from bpfc.capture.common import (
    CaptureError,
    Packet,
    close_mapping,
    compile_snapshot,
    header_dlt,
    map_file,
    release_pages,
    struct_byte_order,
)

SHB = 0x0A0D0D0A
IDB = 0x00000001
PB = 0x00000002
SPB = 0x00000003
EPB = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_TSRESOL = 9
OPT_TSOFFSET = 14
RELEASE_EVERY = 8 << 20
SHB_INSANE_MAX = 1 << 20
"""libpcap refuses a first section header block longer than this."""

Record = tuple[int, int, int, int, int, int, int]
"""``(block_start, block_end, iface, ts_ns, caplen, wirelen, data_start)`` of one packet."""


def sniff_pcapng(head: bytes) -> bool:
    return len(head) >= 4 and head[:4] == b"\x0a\x0d\x0d\x0a"


class _Interface:
    __slots__ = ("linktype", "snaplen", "snapshot", "mul", "div", "offset_ns")

    def __init__(self, linktype: int, snaplen: int) -> None:
        self.linktype = linktype
        self.snaplen = snaplen
        self.snapshot = compile_snapshot(header_dlt(linktype), snaplen)
        self.mul, self.div, self.offset_ns = 1000, 1, 0  # default resolution: microseconds

    def set_tsresol(self, value: int) -> None:
        exponent = value & 0x7F
        if value & 0x80:
            self.mul, self.div = 1_000_000_000, 1 << exponent
        elif exponent <= 9:
            self.mul, self.div = 10 ** (9 - exponent), 1
        else:
            self.mul, self.div = 1, 10 ** (exponent - 9)

    def ts_ns(self, hi: int, lo: int) -> int:
        return ((hi << 32) | lo) * self.mul // self.div + self.offset_ns


class PcapngReader:
    """A pcapng file mapped read-only; iterate for packets, or take chunks for batches."""

    format = "pcapng"
    nsec = True
    native = False

    def __init__(self, path: str, data: Any = None) -> None:
        """Map ``path``; or, with ``data`` (any bytes-like object), read that in place."""
        self.path = str(path)
        if data is None:
            self._map, self._mv = map_file(self.path)
        else:
            self._map, self._mv = None, memoryview(data).cast("B")
        if not sniff_pcapng(bytes(self._mv[:4])):
            raise CaptureError("not a pcapng file (bad block type)", self.path, 0)
        self.linktypes: dict[int, int] = {}
        self._ifaces: list[_Interface] = []
        # Read the first section header (and its interfaces) eagerly so that snaplen and the
        # first link type are known before any packet is asked for.
        self.snaplen = 0
        self.snapshot = 0
        """The first interface's snapshot as libpcap adjusts it (what tcpdump compiles with
        and writes in its output header)."""
        self.linktype: int | None = None
        # what pcap_open_offline gives pcap_compile (the first interface's, as libpcap)
        self.dlt: int | None = None
        self.byte_order = "little"
        self.compile_snaplen = 0
        self._order = "<"
        self._section: list[int] = []
        self._pending: list[Record] = []
        self._walker = self._walk()
        # As libpcap opens a pcapng file: the blocks up to the first interface are read now
        # (a packet before it, or none at all, makes the file unreadable); the blocks after
        # it are read only when packets are asked for, so damage there still lets every
        # packet before it through.
        for record in self._walker:
            if record is not None:
                raise self._fail(
                    "the capture file has a packet block before any interface description block",
                    record[0],
                )
            if self.linktype is not None:
                break
        if self.linktype is None:
            raise self._fail("the capture file has no Interface Description Blocks", len(self._mv))

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        mapping, self._map = self._map, None
        self._mv = memoryview(b"")
        close_mapping(mapping)

    def __enter__(self) -> PcapngReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def buffer(self) -> memoryview:
        return self._mv

    # -- block walking -------------------------------------------------------------------
    def _fail(self, message: str, offset: int) -> CaptureError:
        return CaptureError(message, self.path, offset)

    def _walk(self) -> Iterator[Record | None]:
        """Yield a :data:`Record` per packet block, and None after each interface block."""
        mv = self._mv
        end = len(mv)
        pos = 0
        released = 0
        u32 = struct.Struct("<I").unpack_from
        while pos < end:
            if pos + 12 > end:
                raise self._fail(f"truncated block header ({end - pos} of 12 bytes)", pos)
            (btype,) = u32(mv, pos)
            if btype == SHB:
                self._read_order(pos)
            order = self._order
            btype, total = struct.unpack_from(order + "II", mv, pos)
            first = pos == 0  # read as libpcap opens a file: no length rounding, no trailer
            if first and not 28 <= total <= SHB_INSANE_MAX:
                raise self._fail(f"section header block has invalid length {total}", pos)
            if total < 12 or (total % 4 and not first):
                raise self._fail(f"invalid block total length {total}", pos)
            if pos + total > end:
                raise self._fail(
                    f"truncated block (total length {total}, only {end - pos} bytes left)", pos
                )
            (trailer,) = struct.unpack_from(order + "I", mv, pos + total - 4)
            if trailer != total and not first:
                raise self._fail(
                    f"block total length in header {total} and trailer {trailer} don't match", pos
                )
            stop = pos + total
            if btype == SHB:
                self._read_shb(pos, total)
            elif btype == IDB:
                self._read_idb(pos, total)
                pos = stop
                yield None
                continue
            elif btype in (EPB, PB, SPB):
                yield self._read_packet(btype, pos, total)
            pos = stop
            if pos - released > RELEASE_EVERY:
                release_pages(self._map, released, pos)
                released = pos

    def _read_order(self, pos: int) -> None:
        mv = self._mv
        if pos + 12 > len(mv):
            raise self._fail("truncated section header block", pos)
        for order in "<>":
            if struct.unpack_from(order + "I", mv, pos + 8)[0] == BYTE_ORDER_MAGIC:
                self._order = order
                return
        raise self._fail("bad byte-order magic in section header block", pos + 8)

    def _read_shb(self, pos: int, total: int) -> None:
        if total < 28:
            raise self._fail(f"section header block too short ({total} bytes)", pos)
        major, minor = struct.unpack_from(self._order + "HH", self._mv, pos + 12)
        if major != 1 or (pos == 0 and minor not in (0, 2)):  # later sections: major only
            raise self._fail(f"unsupported pcapng savefile version {major}.{minor}", pos + 12)
        self._section = []

    def _read_idb(self, pos: int, total: int) -> None:
        if total < 20:
            raise self._fail(f"interface description block too short ({total} bytes)", pos)
        linktype, _, snaplen = struct.unpack_from(self._order + "HHI", self._mv, pos + 8)
        iface = _Interface(linktype, snaplen)
        seen: set[int] = set()
        for code, start, length in self._options(pos + 16, pos + total - 4):
            if code not in (OPT_TSRESOL, OPT_TSOFFSET):
                continue
            name = "if_tsresol" if code == OPT_TSRESOL else "if_tsoffset"
            want = 1 if code == OPT_TSRESOL else 8
            if length != want:
                raise self._fail(f"{name} option with length {length} != {want}", start - 4)
            if code in seen:
                raise self._fail(f"more than one {name} option", start - 4)
            seen.add(code)
            if code == OPT_TSRESOL:
                value = self._mv[start]
                if (value & 0x80 and value & 0x7F > 63) or (not value & 0x80 and value > 19):
                    raise self._fail(f"if_tsresol option resolution {value:#x} is too high", start)
                iface.set_tsresol(value)
            else:
                (seconds,) = struct.unpack_from(self._order + "q", self._mv, start)
                iface.offset_ns = seconds * 1_000_000_000
        number = len(self._ifaces)
        self._ifaces.append(iface)
        self._section.append(number)
        self.linktypes[number] = linktype
        if self.linktype is None:
            self.linktype = linktype
            self.snaplen = snaplen
            self.dlt = header_dlt(linktype)
            self.byte_order = struct_byte_order(self._order)
            self.compile_snaplen = compile_snapshot(self.dlt, snaplen)
            self.snapshot = iface.snapshot

    def _options(self, pos: int, end: int) -> Iterator[tuple[int, int, int]]:
        """``(code, value start, length)`` per option in ``[pos, end)``, checked as libpcap
        checks them: every header and padded value inside the block, an end-of-options
        option empty (and the last one read)."""
        while pos < end:
            if pos + 4 > end:
                raise self._fail("option header runs past its block", pos)
            code, length = struct.unpack_from(self._order + "HH", self._mv, pos)
            start = pos + 4
            pos = start + length + (-length % 4)
            if pos > end:
                raise self._fail(f"option {code} (length {length}) runs past its block", start - 4)
            if code == 0:
                if length:
                    raise self._fail(f"end-of-options option with length {length}", start - 4)
                return
            yield code, start, length

    def _iface(self, local: int, pos: int) -> tuple[int, _Interface]:
        if local >= len(self._section):
            raise self._fail(f"packet for undeclared interface {local}", pos)
        number = self._section[local]
        return number, self._ifaces[number]

    def _read_packet(self, btype: int, pos: int, total: int) -> Record:
        mv, order = self._mv, self._order
        if btype == SPB:
            if total < 16:
                raise self._fail(f"simple packet block too short ({total} bytes)", pos)
            (wirelen,) = struct.unpack_from(order + "I", mv, pos + 8)
            number, iface = self._iface(0, pos)
            caplen = min(wirelen, iface.snapshot)
            if caplen > total - 16:
                raise self._fail(
                    f"captured length {caplen} larger than its block ({total} bytes)", pos
                )
            return pos, pos + total, number, 0, caplen, wirelen, pos + 12
        if total < 32:
            raise self._fail(f"packet block too short ({total} bytes)", pos)
        if btype == EPB:
            local, hi, lo, caplen, wirelen = struct.unpack_from(order + "IIIII", mv, pos + 8)
        else:
            local, _, hi, lo, caplen, wirelen = struct.unpack_from(order + "HHIIII", mv, pos + 8)
        if caplen > total - 32:
            raise self._fail(f"captured length {caplen} larger than its block ({total} bytes)", pos)
        number, iface = self._iface(local, pos)
        if caplen > iface.snapshot:
            raise self._fail(
                f"invalid packet capture length {caplen}, bigger than the snapshot length "
                f"{iface.snapshot}",
                pos,
            )
        return pos, pos + total, number, iface.ts_ns(hi, lo), caplen, wirelen, pos + 28

    def _records(self) -> Iterator[Record]:
        pending, self._pending = self._pending, []
        yield from pending
        for record in self._walker:
            if record is not None:
                yield record

    # -- public iteration ----------------------------------------------------------------
    def __iter__(self) -> Iterator[Packet]:
        mv = self._mv
        linktypes = self.linktypes
        for _, _, number, ts_ns, caplen, wirelen, start in self._records():
            yield Packet(
                ts_ns, caplen, wirelen, linktypes[number], number, mv[start : start + caplen]
            )

    def chunks(self, size: int = 65536) -> Iterator[Any]:
        """Yield :class:`~bpfc.capture.chunk.Chunk` s of up to ``size`` packets (needs numpy)."""
        from bpfc.capture.chunk import as_uint8, record_chunks

        return record_chunks(as_uint8(self._mv), self._records(), self.linktypes, size)


class PcapngWriter:
    """Write one pcapng section; interfaces are declared on first use, nanosecond stamps."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.count = 0
        self._ids: dict[tuple[int, int], int] = {}
        out.write(struct.pack("=IIIHHq", SHB, 28, BYTE_ORDER_MAGIC, 1, 0, -1))
        out.write(struct.pack("=I", 28))

    def interface(self, linktype: int, key: int = 0, snaplen: int = 262144) -> int:
        """The IDB number for ``(linktype, key)``, writing the IDB the first time."""
        ident = self._ids.get((linktype, key))
        if ident is None:
            ident = self._ids[(linktype, key)] = len(self._ids)
            options = struct.pack("=HHB3x", OPT_TSRESOL, 1, 9) + struct.pack("=HH", 0, 0)
            total = 20 + len(options)
            self.out.write(struct.pack("=IIHHI", IDB, total, linktype, 0, snaplen))
            self.out.write(options + struct.pack("=I", total))
        return ident

    def write(self, ts_ns: int, wirelen: int, data: Any, linktype: int, key: int = 0) -> None:
        ident = self.interface(linktype, key)
        caplen = len(data)
        pad = -caplen % 4
        total = 32 + caplen + pad
        ts = ts_ns & 0xFFFFFFFFFFFFFFFF
        self.out.write(
            struct.pack("=IIIIIII", EPB, total, ident, ts >> 32, ts & 0xFFFFFFFF, caplen, wirelen)
        )
        self.out.write(data)
        self.out.write(b"\0" * pad + struct.pack("=I", total))
        self.count += 1

    def write_packet(self, packet: Packet) -> None:
        self.write(packet.ts_ns, packet.wirelen, packet.data, packet.linktype, packet.interface)
