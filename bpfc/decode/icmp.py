"""ICMP, ICMPv6, IGMP and VRRP messages as tcpdump prints them without ``-v``.

The texts and the order of tcpdump's bounds checks (what is printed before ``[|icmp]``)
were checked message by message against tcpdump 4.99.3 with generated packets.  Router
advertisements, timestamp replies, extended echo and the rarer ICMPv6 types print a
generic, inexact form.
"""

from __future__ import annotations

from bpfc.decode.common import Out, ip4, ip6, need, u16, u32

PROTO_TCP, PROTO_UDP = 6, 17

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


def igmp_print(out: Out, data: memoryview, length: int) -> None:
    """IGMP v1/v2 reports, leaves and v2 queries, v3 report counts; DVMRP, PIMv1,
    mtrace and v3 queries are not copied."""
    out.proto = "igmp"
    need(data, 1, "igmp")
    kind = data[0]
    if kind == 0x11:
        if length != 8:  # v3 queries: not copied
            out.inexact("igmp query")
            return
        out.add("igmp query")
        need(data, 2, "igmp")
        delay = data[1]
        if delay == 0:  # v1 queries: not copied
            out.exact = False
            return
        out.add(" v2" + (f" [max resp time {delay}]" if delay != 100 else ""))
        need(data, 8, "igmp")
        group = ip4(data, 4)
        out.add(f" [gaddr {group}]" if group != "0.0.0.0" else "")
    elif kind in (0x12, 0x16, 0x17):
        need(data, 8, "igmp")
        name = {0x12: "v1 report", 0x16: "v2 report", 0x17: "leave"}[kind]
        out.add(f"igmp {name} {ip4(data, 4)}")
        if kind == 0x12 and length != 8:
            out.add(f" [len {length}]")
    elif kind == 0x22:
        out.add("igmp v3 report")
        if length < 16 or length % 4:
            out.add(f" [invalid len {length}]")
        else:
            need(data, 8, "igmp")
            out.add(f", {u16(data, 6)} group record(s)")
    elif kind in (0x13, 0x14, 0x1E, 0x1F):
        out.inexact(f"igmp-{kind}")
    else:
        out.add(f"igmp-{kind}")


VRRP_AUTH = {0: "none", 1: "simple", 2: "ah"}


def vrrp_print(out: Out, data: memoryview, length: int, ttl: int) -> None:
    """VRRP v2/v3 advertisements without ``-v`` (tcpdump notes a TTL other than 255)."""
    out.proto = "vrrp"
    out.add("VRRP")
    need(data, 1, "vrrp")
    version, kind = data[0] >> 4, data[0] & 15
    name = "Advertisement" if kind == 1 else f"unknown type ({kind})"
    out.add(f"v{version}, {name}" + (f", (ttl {ttl})" if ttl != 255 else ""))
    if version not in (2, 3) or kind != 1:
        return
    need(data, 3, "vrrp")
    out.add(f", vrid {data[1]}, prio {data[2]}")
    if version == 2:
        need(data, 5, "vrrp")
        out.add(f", authtype {VRRP_AUTH.get(data[4], f'#{data[4]}')}")
        need(data, 6, "vrrp")
        out.add(f", intvl {data[5]}s, length {length}")
    else:
        need(data, 6, "vrrp")
        out.add(f", intvl {(data[4] & 15) << 8 | data[5]}cs, length {length}")
