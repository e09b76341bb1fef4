"""IPv4 and IPv6 (with its extension headers), as tcpdump prints them.

The header is ``IP src > dst: `` (``IP6`` for IPv6); TCP and UDP print the addresses
themselves, with the ports.  The IP total length (not the captured length) decides the
payload length handed on, so Ethernet padding is never counted.  Non-first fragments
print ``ip-proto-N``; protocols bpfc has no printer for print tcpdump's generic
``ip-proto-N LENGTH`` when tcpdump has no printer for them either, and are marked
inexact when it has one.
"""

from __future__ import annotations

from bpfc.decode.common import Out, Truncated, ip4, ip6, need, u16
from bpfc.decode.icmp import icmp6_print, icmp_print, igmp_print, vrrp_print
from bpfc.decode.transport import tcp_print, udp_print
from bpfc.decode.tunnel import gre_print

PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMP6 = 1, 6, 17, 58
#: IP protocols with a tcpdump printer bpfc does not copy (IGMP, IPIP, EGP, IGRP,
#: DCCP, IPv6, RSVP, GRE, ESP, AH, mobile IP, NONE, ND, EIGRP, OSPF, PIM, IPComp,
#: VRRP/CARP, PGM, SCTP, mobility, pfsync...)
PRINTED_ELSEWHERE = frozenset(
    (4, 8, 9, 33, 41, 46, 50, 51, 55, 59, 60, 77, 88, 89, 103, 108, 113, 132, 135)
    + (0, 43, 44, 62, 94, 115, 136, 143, 240, 254)
)


def ipn_print(out: Out, data: memoryview, length: int) -> None:
    """Raw IP: the version nibble picks IPv4 or IPv6."""
    out.proto = "ipn"
    if length < 1:
        out.add(f"truncated-ip {length}")
        return
    need(data, 1, "ipn")
    version = data[0] >> 4
    if version == 4:
        ip_print(out, data, length)
    elif version == 6:
        ip6_print(out, data, length)
    else:
        out.add(f"unknown ip {version}")


def ip_print(out: Out, data: memoryview, length: int) -> None:
    """IPv4: the checks and messages of tcpdump's ``ip_print``, then the payload."""
    out.proto = "ip"
    need(data, 1, "ip")
    version = data[0] >> 4
    if version != 4:
        out.add("IP6, wrong link-layer encapsulation" if version == 6 else f"IP{version}")
        out.add(" (invalid)")
        return
    out.add("IP ")
    need(data, 20, "ip")
    if length < 20:
        out.add(f"truncated-ip {length}")
        return
    hlen = (data[0] & 15) * 4
    if hlen < 20:
        out.add(f"bad-hlen {hlen}")
        return
    total = u16(data, 2)
    if length < total:
        out.add(f"truncated-ip - {total - length} bytes missing! ")
    if total < hlen:
        if total == 0:  # tcpdump may be built to guess TSO here
            out.exact = False
        out.add(f"bad-len {total}")
        return
    data = data[:total]
    off = u16(data, 6)
    proto = data[9]
    src, dst = ip4(data, 12), ip4(data, 16)
    if off & 0x1FFF:
        out.add(f"{src} > {dst}: ip-proto-{proto}")
        return
    if proto not in (PROTO_TCP, PROTO_UDP, 33, 132):
        out.add(f"{src} > {dst}: ")
    if len(data) < hlen:
        out.add(f" [remaining caplen({len(data)}) < header length({hlen})]")
        raise Truncated("ip")
    fragmented = bool(off & 0x2000)
    demux(out, proto, data[hlen:], total - hlen, fragmented, (4, src, dst, proto), data[8])


def demux(
    out: Out,
    proto: int,
    data: memoryview,
    length: int,
    fragmented: bool,
    net: tuple[int, str, str, int],
    ttl: int = 0,
) -> None:
    """The transport layer: ``net`` is (IP version, source, destination, first next
    header); ``ttl`` the TTL or hop limit (VRRP prints it when it is not 255)."""
    if proto == PROTO_TCP:
        tcp_print(out, data, length, net)
    elif proto == PROTO_UDP:
        udp_print(out, data, length, net, fragmented)
    elif proto == PROTO_ICMP:
        if net[0] == 4:
            icmp_print(out, data, length)
        else:
            out.add("[ICMP requires IPv4] (invalid)")
    elif proto == 2:
        if net[0] == 4:
            igmp_print(out, data, length)
        else:
            out.add("[IGMP requires IPv4] (invalid)")
    elif proto == PROTO_ICMP6:
        if net[0] == 6:
            icmp6_print(out, data, length)
        else:
            out.add("[ICMPv6 requires IPv6] (invalid)")
    elif proto == 112:
        vrrp_print(out, data, length, ttl)
    elif proto == 47:
        gre_print(out, data, length)
    else:
        if proto in PRINTED_ELSEWHERE:
            out.exact = False
        if proto in (33, 132):  # DCCP and SCTP print the addresses themselves
            out.add(f"{net[1]} > {net[2]}:")
        out.add(f" ip-proto-{proto} {length}")


def ip6_print(out: Out, data: memoryview, length: int) -> None:
    """IPv6 and its extension headers (Hop-by-Hop, destination options, fragment and,
    without its text, routing), then the upper layer."""
    out.proto = "ip6"
    need(data, 40, "ip6")
    if length < 40:
        out.add(f"truncated-ip6 {length}")
        return
    out.add("IP6 ")
    if data[0] >> 4 != 6:
        out.add(f"version error: {data[0] >> 4} != 6")
        return
    payload = u16(data, 4)
    if payload and length < payload + 40:
        out.add(f"truncated-ip6 - {payload + 40 - length} bytes missing!")
    data = data[: payload + 40]
    nh = data[6]
    src, dst = ip6(data, 8), ip6(data, 24)
    first = nh
    if nh not in (PROTO_TCP, PROTO_UDP, 33, 132):
        out.add(f"{src} > {dst}: ")
    if payload == 0 and nh in IP6_EXTENSIONS:  # a jumbogram or garbage: not copied
        out.inexact(f"ip6-jumbo {length - 40}")
        return
    offset, length, fragmented = 40, payload, False
    while nh in IP6_EXTENSIONS:
        if nh in (0, 60):
            if nh == 0 and offset != 40:
                out.inexact("HBH not first")
                return
            proto = "hbhopt" if nh == 0 else "dstopt"
            need(data, offset + 2, proto)
            size = (data[offset + 1] + 1) * 8
            need(data, offset + size, proto)
            out.add("HBH " if nh == 0 else "DSTOPT ")
            if nh == 0:  # tcpdump walks these options for a Jumbo Payload option
                _options6(out, data[offset + 2 : offset + size], proto)
        elif nh == 44:
            if len(data) < offset + 8:
                out.inexact("frag")
                raise Truncated("frag6")
            size = 8
            frag = u16(data, offset + 2) & 0xFFF8
            out.add(f"frag ({frag}|{payload - (offset - 40) - 8})")
            if frag:
                return
            out.add(" ")
            if len(data) <= offset + size:  # nothing captured after it: tcpdump stops
                return
            fragmented = True
        elif nh == 43:  # the routing header's text is not copied; go on to keep state
            out.exact = False
            need(data, offset + 2, "rt6")
            size = (data[offset + 1] + 1) * 8
            out.add("RT6 ")
        else:  # mobility and the rest: the line ends here
            out.inexact(f"ip6-ext-{nh} {length}")
            return
        if size > length:
            out.exact = False
        nh = data[offset]
        offset += size
        length -= size
    demux(out, nh, data[offset:], length, fragmented, (6, src, dst, first), data[7])


#: IPv6 extension headers: Hop-by-Hop, routing, fragment, destination options, mobility,
#: HIP, shim6
IP6_EXTENSIONS = frozenset((0, 43, 44, 60, 135, 139, 140))


def _options6(out: Out, opts: memoryview, proto: str) -> None:
    """Walk Hop-by-Hop options as tcpdump does (it prints them only with -v): an option
    running past the header ends the line with ``[|hbhopt]``."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:  # Pad1
            i += 1
            continue
        if i + 1 >= len(opts):
            raise Truncated(proto)
        size = opts[i + 1] + 2
        if i + size > len(opts):
            raise Truncated(proto)
        if kind != 1 and not (kind == 5 and size == 4):  # PadN, Router Alert
            out.exact = False  # Jumbo Payload and the rest: checks not copied
        i += size
