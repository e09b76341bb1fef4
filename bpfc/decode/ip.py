"""IPv4, IPv6 (with Hop-by-Hop options), ICMP and ICMPv6, as tcpdump prints them.

The header is ``IP src > dst: `` (``IP6`` for IPv6); TCP and UDP print the addresses
themselves, with the ports.  The IP total length (not the captured length) decides the
payload length handed on, so Ethernet padding is never counted.  Non-first fragments
print ``ip-proto-N``; protocols bpfc has no printer for print tcpdump's generic
``ip-proto-N LENGTH`` when tcpdump has no printer for them either, and are marked
inexact when it has one.
"""

from __future__ import annotations

from bpfc.decode.common import Out, Truncated, ip4, ip6, need, u16, u32
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
    demux(out, nh, data[offset:], length, fragmented, (6, src, dst, first))


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


#: ICMP destination unreachable codes: (text around the quoted destination)
ICMP_UNREACH = {
    0: ("net ", " unreachable"),
    1: ("host ", " unreachable"),
    4: ("", " unreachable - need to frag"),
    5: ("", " unreachable - source route failed"),
    6: ("net ", " unreachable - unknown"),
    7: ("host ", " unreachable - unknown"),
    8: ("", " unreachable - source host isolated"),
    9: ("net ", " unreachable - admin prohibited"),
    10: ("host ", " unreachable - admin prohibited"),
    11: ("net ", " unreachable - tos prohibited"),
    12: ("host ", " unreachable - tos prohibited"),
    13: ("host ", " unreachable - admin prohibited filter"),
    14: ("host ", " unreachable - host precedence violation"),
    15: ("host ", " unreachable - precedence cutoff"),
}
ICMP_REDIRECT = {0: "redirect {} to net {}", 1: "redirect {} to host {}"}
ICMP_REDIRECT |= {2: "redirect-tos {} to net {}", 3: "redirect-tos {} to host {}"}
ICMP_FIXED = {
    4: "source quench",
    10: "router solicitation",
    15: "information request",
    16: "information reply",
    17: "address mask request",
}
#: types tcpdump decodes further than bpfc (router advertisement, timestamp reply, and
#: the RFC 8335 extended echo)
ICMP_NOT_COPIED = frozenset((9, 14, 42, 43))


def _unreach(data: memoryview, code: int) -> str:
    need(data, 8 + 20, "icmp")  # the quoted header up to its destination
    inner = data[8:]
    dst = ip4(inner, 16)
    if code == 2:
        return f"{dst} protocol {inner[9]} unreachable"
    if code == 3:
        ihl = (inner[0] & 15) * 4
        need(inner, ihl + 4, "icmp")
        port, iproto = u16(inner, ihl + 2), inner[9]
        if iproto == PROTO_TCP:
            return f"{dst} tcp port {port} unreachable"
        if iproto == PROTO_UDP:
            return f"{dst} udp port {port} unreachable"
        return f"{dst} protocol {iproto} port {port} unreachable"
    if code not in ICMP_UNREACH:
        return f"{dst} unreachable - #{code}"
    before, after = ICMP_UNREACH[code]
    mtu = u16(data, 6) if code == 4 else 0
    return f"{before}{dst}{after}" + (f" (mtu {mtu})" if mtu else "")


def icmp_print(out: Out, data: memoryview, length: int) -> None:
    """ICMP as tcpdump prints it without -v; ``ICMP`` is printed once decoded."""
    out.proto = "icmp"
    need(data, 2, "icmp")
    kind, code = data[0], data[1]
    if kind in (0, 8):
        need(data, 8, "icmp")
        name = "echo reply" if kind == 0 else "echo request"
        text = f"{name}, id {u16(data, 4)}, seq {u16(data, 6)}"
    elif kind == 3:
        text = _unreach(data, code)
    elif kind == 5:
        need(data, 8 + 20, "icmp")
        form = ICMP_REDIRECT.get(code, f"redirect-#{code} {{}} to {{}}")
        text = form.format(ip4(data, 8 + 16), ip4(data, 4))
    elif kind == 11:
        need(data, 8 + 20, "icmp")  # tcpdump reads the quoted header's addresses
        if code in (0, 1):
            text = "time exceeded in-transit" if code == 0 else "ip reassembly time exceeded"
        else:
            text = f"time exceeded-#{code}"
    elif kind == 12:
        if code == 0:
            need(data, 5, "icmp")
            text = f"parameter problem - octet {data[4]}"
        else:
            text = f"parameter problem - code {code}"
    elif kind == 13:
        need(data, 8, "icmp")
        text = f"time stamp query id {u16(data, 4)} seq {u16(data, 6)}"
    elif kind == 18:
        need(data, 12, "icmp")
        text = f"address mask is 0x{u32(data, 8):08x}"
    elif kind in ICMP_FIXED:
        text = ICMP_FIXED[kind]
    else:
        if kind in ICMP_NOT_COPIED:
            out.exact = False
        text = f"type-#{kind}"
    out.add(f"ICMP {text}, length {length}")


ICMP6_FIXED = {
    133: "router solicitation",
    134: "router advertisement",
    141: "inverse neighbor solicitation",
    142: "inverse neighbor advertisement",
    145: "ha discovery reply",
    147: "mobile router advertisement",
}
ICMP6_UNREACH = {0: "unreachable route", 1: " unreachable prohibited", 3: "unreachable address"}
ICMP6_PARAM = {0: "erroneous", 1: "next header", 2: "option", 3: "incomplete header chain"}


def icmp6_print(out: Out, data: memoryview, length: int) -> None:
    """ICMPv6 as tcpdump prints it without -v (the common types).

    tcpdump prints the message name first and then reads its fields, so a short capture
    ends after the name with ``[|icmp6]``.
    """
    out.proto = "icmp6"
    if length == 0:
        out.add("ICMP6, length 0 (invalid)")
        return
    need(data, 1, "icmp6")
    out.add("ICMP6, ")
    kind = data[0]
    code = data[1] if len(data) > 1 else -1
    if kind in (128, 129):
        out.add("echo request" if kind == 128 else "echo reply")
        need(data, 8, "icmp6")
        out.add(f", id {u16(data, 4)}, seq {u16(data, 6)}")
    elif kind == 1 and code in ICMP6_UNREACH:
        out.add(f"destination unreachable, {ICMP6_UNREACH[code]}")
        need(data, 8 + 40, "icmp6")
        out.add(" " + ip6(data, 8 + 24))
    elif kind == 2:
        out.add("packet too big")
        need(data, 8, "icmp6")
        out.add(f", mtu {u32(data, 4)}")
    elif kind == 3 and code >= 0:
        out.add("time exceeded in-transit")
        if code == 0:
            need(data, 8 + 40, "icmp6")
            out.add(f" for {ip6(data, 8 + 24)}")
        else:
            out.add(" (reassembly)" if code == 1 else f", unknown code ({code})")
    elif kind == 4 and code >= 0:
        out.add("parameter problem")
        need(data, 8 + 40, "icmp6")
        name = ICMP6_PARAM.get(code)
        out.add(f", {name} - octet {u32(data, 4)}" if name else f", code-#{code}")
    elif kind in (131, 132) or (kind == 130 and length == 24):
        out.add("multicast listener " + {130: "query", 131: "report", 132: "done"}[kind])
        if length < 24 or len(data) < 24:  # tcpdump's checks here are not copied
            out.exact = False
        else:
            out.add(f"max resp delay: {u16(data, 4)} addr: {ip6(data, 8)}")
    elif kind == 130 and length < 28:
        out.inexact(f"multicast listener query unknown-version (len {length}) ")
    elif kind == 135:
        out.add("neighbor solicitation")
        need(data, 24, "icmp6")
        out.add(f", who has {ip6(data, 8)}")
    elif kind == 136:
        out.add("neighbor advertisement")
        need(data, 24, "icmp6")
        out.add(f", tgt is {ip6(data, 8)}")
    elif kind == 137:
        out.add("redirect")
        need(data, 40, "icmp6")
        out.add(f", {ip6(data, 24)} to {ip6(data, 8)}")
    elif kind in (144, 146):
        out.add("ha discovery request" if kind == 144 else "mobile router solicitation")
        need(data, 6, "icmp6")
        out.add(f", id 0x{u16(data, 4):04x}")
    elif kind in ICMP6_FIXED:
        out.add(ICMP6_FIXED[kind])
        need(data, 2, "icmp6")  # tcpdump reads the code next
    elif kind == 143 and length >= 8:
        out.add("multicast listener report v2")
        need(data, 8, "icmp6")
        out.add(f", {u16(data, 6)} group record(s)")
    else:
        out.inexact(f"type {kind}")
    out.add(f", length {length}")
