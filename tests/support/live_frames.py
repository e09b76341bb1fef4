"""Ethernet frames for the live tests (a veth pair in a network namespace): one set that
splits the verdicts of everyday filters, shared by the socket-filter tests
(``tests/capture/test_live.py``) and the XDP/TC attach tests (``tests/ebpf/``).

Every frame is distinct, so a receiver can tell which ones arrived."""

from __future__ import annotations

import struct

BROADCAST = b"\xff" * 6
UNICAST = b"\x02\x00\x00\x00\x00\x02"


def ether(dst: bytes, ethertype: int, payload: bytes) -> bytes:
    """An Ethernet frame from 02:00:00:00:00:01."""
    return dst + b"\x02\x00\x00\x00\x00\x01" + struct.pack(">H", ethertype) + payload


def ipv4(proto: int, body: bytes, ttl: int = 64) -> bytes:
    """An IPv4 packet 10.0.0.1 -> 10.0.0.2 (checksum left 0: nothing on the path checks it)."""
    head = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(body), 1, 0, ttl, proto, 0)
    return head + bytes([10, 0, 0, 1, 10, 0, 0, 2]) + body


def l4(sport: int, dport: int, tag: int, tcp: bool) -> bytes:
    """A TCP SYN or a UDP datagram whose sequence number or payload is ``tag``."""
    if tcp:
        return struct.pack(">HHIIBBHHH", sport, dport, tag, 0, 0x50, 0x02, 512, 0, 0) + b"tcp"
    return struct.pack(">HHHH", sport, dport, 12, 0) + struct.pack(">I", tag)


def mixed_frames() -> list[bytes]:
    """TCP and UDP to four ports with three TTLs, two ARPs, IPv6 UDP to ff02::1, ICMP, and a
    short local-experimental frame."""
    out = []
    tag = 0
    for dport in (53, 80, 443, 7000):
        for tcp in (False, True):
            for ttl in (1, 64, 255):
                tag += 1
                body = l4(1000 + tag, dport, tag, tcp)
                out.append(ether(UNICAST, 0x800, ipv4(6 if tcp else 17, body, ttl)))
    arp = struct.pack(
        ">HHBBH6s4s6s4s", 1, 0x800, 6, 4, 1, b"\x02" * 6, b"\x0a\0\0\1", b"\0" * 6, b"\x0a\0\0\2"
    )
    out.append(ether(BROADCAST, 0x806, arp))
    out.append(ether(BROADCAST, 0x806, arp[:-1] + b"\x03"))
    ip6 = struct.pack(
        ">IHBB16s16s",
        0x60000000,
        12,
        17,
        64,
        b"\xfe\x80" + bytes(14),
        b"\xff\x02" + bytes(13) + b"\x01",
    )
    out.append(ether(b"\x33\x33\x00\x00\x00\x01", 0x86DD, ip6 + l4(5, 53, 99, False)))
    out.append(ether(UNICAST, 0x800, ipv4(1, b"\x08\x00\x00\x00\x00\x01\x00\x01")))  # icmp
    out.append(ether(UNICAST, 0x88B5, b"short local experimental"))
    return out
