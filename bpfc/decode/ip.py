"""IPv4, IPv6 (with Hop-by-Hop options), ICMP and ICMPv6, as tcpdump prints them.

The header is ``IP src > dst: `` (``IP6`` for IPv6); TCP and UDP print the addresses
themselves, with the ports.  The IP total length (not the captured length) decides the
payload length handed on, so Ethernet padding is never counted.  Non-first fragments
print ``ip-proto-N``; protocols bpfc has no printer for print tcpdump's generic
``ip-proto-N LENGTH`` when tcpdump has no printer for them either, and are marked
inexact when it has one.
"""

from __future__ import annotations

from bpfc.decode.common import Out, Truncated, ip4, ip6, need, u16
from bpfc.decode.transport import tcp_print, udp_print

PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMP6 = 1, 6, 17, 58
#: IP protocols with a tcpdump printer bpfc does not copy (IGMP, IPIP, EGP, IGRP,
#: DCCP, IPv6, RSVP, GRE, ESP, AH, mobile IP, NONE, ND, EIGRP, OSPF, PIM, IPComp,
#: VRRP/CARP, PGM, SCTP, mobility, pfsync...)
PRINTED_ELSEWHERE = frozenset(
    (2, 4, 8, 9, 33, 41, 46, 47, 50, 51, 55, 59, 60, 77, 88, 89, 103, 108, 112, 113, 132, 135)
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
    demux(out, proto, data[hlen:], total - hlen, fragmented, (4, src, dst, proto))


def demux(
    out: Out,
    proto: int,
    data: memoryview,
    length: int,
    fragmented: bool,
    net: tuple[int, str, str, int],
) -> None:
    """The transport layer: ``net`` is (IP version, source, destination, first next header)."""
    if proto == PROTO_TCP:
        tcp_print(out, data, length, net)
    elif proto == PROTO_UDP:
        udp_print(out, data, length, net, fragmented)
    elif proto == PROTO_ICMP:
        if net[0] == 4:
            icmp_print(out, data, length)
        else:
            out.add("[ICMP requires IPv4] (invalid)")
    elif proto == PROTO_ICMP6:
        if net[0] == 6:
            icmp6_print(out, data, length)
        else:
            out.add("[ICMPv6 requires IPv6] (invalid)")
    else:
        if proto in PRINTED_ELSEWHERE:
            out.exact = False
        if proto in (33, 132):  # DCCP and SCTP print the addresses themselves
            out.add(f"{net[1]} > {net[2]}:")
        out.add(f" ip-proto-{proto} {length}")


def ip6_print(out: Out, data: memoryview, length: int) -> None:
    """IPv6 and a Hop-by-Hop header; other extension headers end the line (inexact)."""
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
    if payload == 0:  # a jumbogram, or garbage: tcpdump looks for a Jumbo option
        out.exact = False
        payload = length
    total = payload + 40
    if length < total:
        out.add(f"truncated-ip6 - {total - length} bytes missing!")
    data = data[:total]
    nh = data[6]
    src, dst = ip6(data, 8), ip6(data, 24)
    first = nh
    if nh not in (PROTO_TCP, PROTO_UDP, 33, 132):
        out.add(f"{src} > {dst}: ")
    offset = 40
    length = payload
    if nh == 0:
        need(data, offset + 2, "hbhopt")
        size = (data[offset + 1] + 1) * 8
        need(data, offset + size, "hbhopt")
        out.add("HBH ")
        if size > length:
            out.exact = False
        nh = data[offset]
        offset += size
        length -= size
        if offset >= len(data):
            return
    if nh in (0, 43, 44, 60, 135, 139, 140):
        out.inexact(f"ip6-ext-{nh} {length}")
        return
    demux(out, nh, data[offset:], length, False, (6, src, dst, first))


ICMP_UNREACH = {0: "net", 1: "host"}


def icmp_print(out: Out, data: memoryview, length: int) -> None:
    """ICMP echo, unreachable and time exceeded; ``ICMP`` is printed once decoded."""
    out.proto = "icmp"
    need(data, 2, "icmp")
    kind, code = data[0], data[1]
    if kind in (0, 8):
        need(data, 8, "icmp")
        name = "echo reply" if kind == 0 else "echo request"
        text = f"{name}, id {u16(data, 4)}, seq {u16(data, 6)}"
    elif kind == 3 and code in (0, 1, 2, 3):
        need(data, 8 + 20, "icmp")
        inner = data[8:]
        dst = ip4(inner, 16)
        iproto = inner[9]
        if code in ICMP_UNREACH:
            text = f"{ICMP_UNREACH[code]} {dst} unreachable"
        elif code == 2:
            text = f"{dst} protocol {iproto} unreachable"
        else:
            ihl = (inner[0] & 15) * 4
            need(inner, ihl + 4, "icmp")
            port = u16(inner, ihl + 2)
            if iproto == PROTO_TCP:
                text = f"{dst} tcp port {port} unreachable"
            elif iproto == PROTO_UDP:
                text = f"{dst} udp port {port} unreachable"
            else:
                text = f"{dst} protocol {iproto} port {port} unreachable"
    elif kind == 11 and code in (0, 1):
        need(data, 8 + 20, "icmp")  # tcpdump reads the quoted header's addresses
        text = "time exceeded in-transit" if code == 0 else "ip reassembly time exceeded"
    else:
        out.exact = False
        text = f"type {kind}, code {code}"
    out.add(f"ICMP {text}, length {length}")


ICMP6_NAMES = {
    133: "router solicitation",
    134: "router advertisement",
}


def icmp6_print(out: Out, data: memoryview, length: int) -> None:
    out.proto = "icmp6"
    need(data, 1, "icmp6")
    out.add("ICMP6, ")
    kind = data[0]
    if kind in (128, 129):
        need(data, 8, "icmp6")
        name = "echo request" if kind == 128 else "echo reply"
        out.add(f"{name}, id {u16(data, 4)}, seq {u16(data, 6)}")
    elif kind == 135:
        need(data, 24, "icmp6")
        out.add(f"neighbor solicitation, who has {ip6(data, 8)}")
    elif kind == 136:
        need(data, 24, "icmp6")
        out.add(f"neighbor advertisement, tgt is {ip6(data, 8)}")
    elif kind in ICMP6_NAMES:
        out.add(ICMP6_NAMES[kind])
    elif kind == 143:
        need(data, 8, "icmp6")
        out.add(f"multicast listener report v2, {u16(data, 6)} group record(s)")
    else:
        out.inexact(f"type {kind}")
    out.add(f", length {length}")
