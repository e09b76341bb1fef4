"""Linux live capture: an AF_PACKET socket with our program in the kernel and a TPACKET_V3 ring.

The socket is created with protocol 0 (it receives nothing yet), the ring is set up and
mapped, the program is attached with ``SO_ATTACH_FILTER``, and only then is the socket
bound to the interface with ``ETH_P_ALL``, so no packet ever reaches the ring unfiltered.

The kernel fills *blocks* of the ring; a block whose ``block_status`` has
``TP_STATUS_USER`` belongs to us.  We walk its ``tpacket3_hdr`` records in place (each
packet is a ``memoryview`` into the ring, no copy), then give the block back by writing
``TP_STATUS_KERNEL`` -- the same generation-style handover as the zero-copy buffer pair.
A packet's view is valid only until the next block is requested.

As libpcap does, outgoing packets on the loopback interface are skipped (each packet on
``lo`` is seen twice, once outgoing and once incoming), and a VLAN tag the kernel moved
into the ring header is put back into the packet (that one packet is then copied).

The filter a socket runs is a *Linux* filter: compile it with ``linux=True`` so that
VLAN tests use the kernel's ancillary loads.  Needs CAP_NET_RAW.
"""

from __future__ import annotations

import mmap
import select
import socket
import struct
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bpfc.capture.common import CaptureError, Packet

SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
ETH_P_ALL = 0x0003
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
PACKET_OUTGOING = 4
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
DLT_EN10MB = 1

# tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1 (block_status, num_pkts,
# offset_to_first_pkt, ...)
BLOCK_STATUS, BLOCK_NUM_PKTS, BLOCK_FIRST = 8, 12, 16
TP3 = struct.Struct("=IIIIIIHHIIHH")
"""tpacket3_hdr: next_offset, sec, nsec, snaplen, len, status, mac, net, rxhash, vlan_tci,
vlan_tpid, padding."""
SLL_PKTTYPE = 48 + 10  # sockaddr_ll follows the aligned tpacket3_hdr; pkttype is byte 10


def _hardware_type(iface: str) -> int:
    try:
        return int(Path(f"/sys/class/net/{iface}/type").read_text())
    except (OSError, ValueError):
        return ARPHRD_ETHER


class LiveCapture:
    """Capture on one interface through a TPACKET_V3 ring; iterate for packets."""

    def __init__(
        self,
        iface: str,
        program: Sequence[Sequence[int]] | None = None,
        *,
        block_size: int = 1 << 18,
        block_count: int = 16,
        frame_size: int = 1 << 11,
        timeout_ms: int = 50,
        promiscuous: bool = False,
    ) -> None:
        self.iface = iface
        hatype = _hardware_type(iface)
        if hatype not in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
            raise CaptureError(f"interface {iface}: hardware type {hatype} is not Ethernet-like")
        self.linktype = DLT_EN10MB
        self.loopback = hatype == ARPHRD_LOOPBACK
        try:
            self.ifindex = socket.if_nametoindex(iface)
        except OSError:
            raise CaptureError(f"no such interface {iface!r}") from None
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self._ring: mmap.mmap | None = None
        try:
            self._setup(program, block_size, block_count, frame_size, timeout_ms, promiscuous)
        except BaseException:
            self.close()
            raise
        self._block = 0
        self._walking: Iterator[Packet] | None = None
        self.seen = 0
        self.skipped_outgoing = 0

    def _setup(
        self,
        program: Sequence[Sequence[int]] | None,
        block_size: int,
        block_count: int,
        frame_size: int,
        timeout_ms: int,
        promiscuous: bool,
    ) -> None:
        sock = self.sock
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        frames = block_size * block_count // frame_size
        request = struct.pack(
            "=IIIIIII", block_size, block_count, frame_size, frames, timeout_ms, 0, 0
        )
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, request)
        self.block_size, self.block_count = block_size, block_count
        self._ring = mmap.mmap(
            sock.fileno(),
            block_size * block_count,
            mmap.MAP_SHARED,
            mmap.PROT_READ | mmap.PROT_WRITE,
        )
        self._view = memoryview(self._ring)
        if program is not None:
            attach(sock, program)
        if promiscuous:
            mreq = struct.pack("=iHH8s", self.ifindex, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        sock.bind((self.iface, ETH_P_ALL))

    # -- ring walking ------------------------------------------------------------------
    def _wait(self, timeout: float | None) -> bool:
        status = struct.unpack_from("=I", self._view, self._block * self.block_size + BLOCK_STATUS)
        if status[0] & TP_STATUS_USER:
            return True
        poller = select.poll()
        poller.register(self.sock, select.POLLIN | select.POLLERR)
        poller.poll(None if timeout is None else max(0, int(timeout * 1000)))
        status = struct.unpack_from("=I", self._view, self._block * self.block_size + BLOCK_STATUS)
        return bool(status[0] & TP_STATUS_USER)

    def _walk_block(self) -> Iterator[Packet]:
        view = self._view
        base = self._block * self.block_size
        count, first = struct.unpack_from("=II", view, base + BLOCK_NUM_PKTS)
        pos = base + first
        unpack = TP3.unpack_from
        try:
            for _ in range(count):
                nxt, sec, nsec, snaplen, wirelen, status, mac, _, _, tci, tpid, _ = unpack(
                    view, pos
                )
                self.seen += 1
                if self.loopback and view[pos + SLL_PKTTYPE] == PACKET_OUTGOING:
                    self.skipped_outgoing += 1
                else:
                    data = view[pos + mac : pos + mac + snaplen]
                    if status & TP_STATUS_VLAN_VALID and snaplen >= 12:
                        tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                        tag = struct.pack(">HH", tpid, tci & 0xFFFF)
                        data = memoryview(bytes(data[:12]) + tag + bytes(data[12:]))
                        snaplen, wirelen = snaplen + 4, wirelen + 4
                    yield Packet(
                        sec * 1_000_000_000 + nsec, snaplen, wirelen, self.linktype, 0, data
                    )
                if not nxt:
                    break
                pos += nxt
        finally:
            # hand the block back to the kernel and move on
            struct.pack_into("=I", view, base + BLOCK_STATUS, TP_STATUS_KERNEL)
            self._block = (self._block + 1) % self.block_count

    def packets(self, count: int | None = None, timeout: float | None = None) -> Iterator[Packet]:
        """Packets as they arrive; stop after ``count`` packets or ``timeout`` seconds idle."""
        if self._ring is None:
            raise CaptureError(f"capture on {self.iface} is closed")
        delivered = 0
        while count is None or delivered < count:
            if self._walking is None:
                if not self._wait(timeout):
                    return
                self._walking = self._walk_block()
            # a block left half-read by a previous call is resumed, not handed back early
            for packet in self._walking:
                yield packet
                delivered += 1
                if count is not None and delivered >= count:
                    return
            self._walking = None

    def __iter__(self) -> Iterator[Packet]:
        return self.packets()

    def stats(self) -> tuple[int, int]:
        """``(packets, drops)`` the kernel counted since the last call (PACKET_STATISTICS)."""
        raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12)
        packets, drops, _ = struct.unpack("=III", raw)
        return packets, drops

    def close(self) -> None:
        walking, self._walking = getattr(self, "_walking", None), None
        if walking is not None:
            walking.close()  # type: ignore[attr-defined]
        ring, self._ring = self._ring, None
        if ring is not None:
            self._view.release()
            try:
                ring.close()
            except BufferError:  # views still alive; the GC unmaps later
                pass
        self.sock.close()

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def attach(sock: socket.socket, program: Sequence[Sequence[int]]) -> None:
    """Attach a classic BPF program to any socket (``SO_ATTACH_FILTER``)."""
    from bpfc.program import Program

    Program.from_insns(program).attach(sock)


def collect(
    capture: LiveCapture, count: int | None, timeout: float
) -> list[tuple[int, int, bytes]]:
    """``(ts_ns, wirelen, bytes)`` of packets until ``count`` or ``timeout`` seconds pass."""
    out: list[tuple[int, int, bytes]] = []
    deadline = time.monotonic() + timeout
    while (count is None or len(out) < count) and time.monotonic() < deadline:
        left = deadline - time.monotonic()
        for packet in capture.packets(None if count is None else count - len(out), max(0, left)):
            out.append((packet.ts_ns, packet.wirelen, bytes(packet.data)))
    return out
