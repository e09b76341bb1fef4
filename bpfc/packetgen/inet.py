"""Network- and transport-layer header builders (IPv4, IPv6, ARP, TCP, UDP, ICMP, ...).

Every builder returns ``bytes`` and takes plain Python values, so tests and the
targeted generator can plant any constant at any field.  Checksums are filled in
where cheap; filters never look at them, but readable captures are nicer to debug.
Field layouts follow the RFCs; nothing here knows about link layers.
"""

from __future__ import annotations

import ipaddress
import struct
from functools import lru_cache

# IP protocol numbers used by the builders and the targeted generator.
PROTO = {
    "hopopt": 0, "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "igrp": 9, "udp": 17,
    "ip6": 41, "routing": 43, "fragment": 44, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
    "icmp6": 58, "nonext": 59, "dstopts": 60, "eigrp": 88, "ospf": 89, "pim": 103,
    "ipcomp": 108, "vrrp": 112, "carp": 112, "sctp": 132, "mobility": 135,
}  # fmt: skip

IPV6_EXT = (0, 43, 44, 60, 51, 135)


@lru_cache(maxsize=4096)
def ip4(addr: str | int) -> bytes:
    """Four bytes of an IPv4 address given as text or integer."""
    return ipaddress.IPv4Address(addr).packed


@lru_cache(maxsize=4096)
def ip6(addr: str | int) -> bytes:
    """Sixteen bytes of an IPv6 address given as text or integer."""
    return ipaddress.IPv6Address(addr).packed


def checksum(data: bytes) -> int:
    """The Internet one's-complement checksum of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(
    src: str | int = "10.0.0.1",
    dst: str | int = "10.0.0.2",
    proto: int = 6,
    payload: bytes = b"",
    *,
    options: bytes = b"",
    ttl: int = 64,
    tos: int = 0,
    ident: int = 1,
    df: bool = False,
    mf: bool = False,
    frag_offset: int = 0,
    total_length: int | None = None,
) -> bytes:
    """An IPv4 header (options padded to a multiple of 4) followed by ``payload``.

    ``frag_offset`` is in 8-byte units, as on the wire.
    """
    options = options + b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    length = total_length if total_length is not None else 4 * ihl + len(payload)
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_offset & 0x1FFF)
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        0x40 | ihl, tos, length & 0xFFFF, ident, flags, ttl, proto & 0xFF, 0, ip4(src), ip4(dst),
    )  # fmt: skip
    hdr += options
    csum = checksum(hdr)
    return hdr[:10] + struct.pack("!H", csum) + hdr[12:] + payload


def ipv6(
    src: str | int = "fe80::1",
    dst: str | int = "fe80::2",
    nxt: int = 6,
    payload: bytes = b"",
    *,
    hlim: int = 64,
    tclass: int = 0,
    flow: int = 0,
) -> bytes:
    """A fixed IPv6 header followed by ``payload`` (which may start with extension headers)."""
    vtf = (6 << 28) | ((tclass & 0xFF) << 20) | (flow & 0xFFFFF)
    return struct.pack("!IHBB16s16s", vtf, len(payload), nxt, hlim, ip6(src), ip6(dst)) + payload


def ipv6_ext(kind: int, nxt: int, body: bytes = b"", *, frag_offset: int = 0, mf: bool = False):
    """One IPv6 extension header of type ``kind`` whose next header is ``nxt``.

    Hop-by-hop, routing, destination options and mobility use the 8-octet length unit;
    AH uses 4-octet units; the fragment header is always 8 bytes.
    """
    if kind == 44:
        return struct.pack("!BBHI", nxt, 0, (frag_offset << 3) | (1 if mf else 0), 0x1234)
    if kind == 43 and not body:
        body = bytes([0, 0]) + b"\0" * 4  # type 0, segments left 0
    if kind == 51:
        body = body or struct.pack("!HII", 0, 0x100, 1) + b"\0" * 4
        body += b"\0" * (-(len(body) + 2) % 4)
        return bytes([nxt, (len(body) + 2) // 4 - 2]) + body
    body = body or b"\x01\x04\0\0\0\0"  # PadN
    body += b"\0" * (-(len(body) + 2) % 8)
    return bytes([nxt, (len(body) + 2) // 8 - 1]) + body


def ipv6_chain(kinds: list[int], last: int, payload: bytes) -> tuple[int, bytes]:
    """Extension headers ``kinds`` (in order) ending in protocol ``last``: (first nxt, bytes)."""
    out = payload
    nxt = last
    for kind in reversed(kinds):
        out = ipv6_ext(kind, nxt) + out
        nxt = kind
    return nxt, out


TCP_FLAGS = {"fin": 1, "syn": 2, "rst": 4, "push": 8, "ack": 16, "urg": 32, "ece": 64, "cwr": 128}


def tcp(
    sport: int = 1024,
    dport: int = 80,
    flags: int = 0x02,
    payload: bytes = b"",
    *,
    seq: int = 1,
    ack: int = 0,
    options: bytes = b"",
    window: int = 8192,
) -> bytes:
    """A TCP header (options padded to 4 bytes) followed by ``payload``; checksum left 0."""
    options = options + b"\1" * (-len(options) % 4)
    off = (5 + len(options) // 4) << 4
    return (
        struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off, flags & 0xFF, window, 0, 0)
        + options
        + payload
    )


def udp(sport: int = 1024, dport: int = 53, payload: bytes = b"") -> bytes:
    """A UDP header followed by ``payload``; checksum left 0."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def sctp(sport: int = 1024, dport: int = 80, payload: bytes = b"") -> bytes:
    """An SCTP common header (verification tag 1) and one DATA-like chunk."""
    chunk = payload or struct.pack("!BBH", 0, 3, 4)
    return struct.pack("!HHII", sport, dport, 1, 0) + chunk


def icmp(typ: int = 8, code: int = 0, payload: bytes = b"\0\1\0\1") -> bytes:
    """An ICMP message with a correct checksum."""
    body = bytes([typ & 0xFF, code & 0xFF, 0, 0]) + payload
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def icmp6(typ: int = 128, code: int = 0, payload: bytes = b"\0\1\0\1") -> bytes:
    """An ICMPv6 message (checksum left 0: it needs the pseudo header)."""
    return bytes([typ & 0xFF, code & 0xFF, 0, 0]) + payload


def igmp(typ: int = 0x16, group: str = "224.0.0.251") -> bytes:
    """An IGMPv2 message."""
    body = bytes([typ, 0, 0, 0]) + ip4(group)
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def pim(typ: int = 0, version: int = 2) -> bytes:
    """A PIM header (hello by default) with one option."""
    return bytes([(version << 4) | typ, 0, 0, 0]) + struct.pack("!HHH", 1, 2, 105)


def vrrp(vrid: int = 1, prio: int = 100, addr: str = "10.0.0.254") -> bytes:
    """A VRRPv2 advertisement with one address."""
    return bytes([0x21, vrid, prio, 1, 0, 1, 0, 0]) + ip4(addr) + b"\0" * 8


def gre(proto: int = 0x0800, payload: bytes = b"") -> bytes:
    """A GRE header without options carrying ``proto``."""
    return struct.pack("!HH", 0, proto) + payload


def esp(spi: int = 0x100) -> bytes:
    """The start of an ESP packet."""
    return struct.pack("!II", spi, 1) + b"\0" * 16


def ah(nxt: int, payload: bytes, spi: int = 0x100) -> bytes:
    """An IPv4 AH header (RFC 4302) followed by ``payload``."""
    return bytes([nxt, 4, 0, 0]) + struct.pack("!II", spi, 1) + b"\0" * 12 + payload


def vxlan(vni: int, inner: bytes) -> bytes:
    """A VXLAN header (I flag set) followed by an inner Ethernet frame."""
    return struct.pack("!II", 0x08000000, (vni & 0xFFFFFF) << 8) + inner


def geneve(vni: int, inner: bytes, proto: int = 0x6558, opt_len: int = 0) -> bytes:
    """A GENEVE header with ``opt_len`` 4-byte option words of padding, then ``inner``."""
    return (
        struct.pack("!BBHI", opt_len & 0x3F, 0, proto, (vni & 0xFFFFFF) << 8)
        + b"\0" * (4 * opt_len)
        + inner
    )


def arp(
    op: int = 1,
    sha: bytes = b"\x02\0\0\0\0\1",
    spa: str = "10.0.0.1",
    tha: bytes = b"\0" * 6,
    tpa: str = "10.0.0.2",
    *,
    htype: int = 1,
    ptype: int = 0x0800,
) -> bytes:
    """An ARP/RARP packet for Ethernet/IPv4 (use ``op`` 3/4 for RARP)."""
    return struct.pack("!HHBBH", htype, ptype, 6, 4, op) + sha + ip4(spa) + tha + ip4(tpa)
