"""Link layers and ARP: what tcpdump prints (without ``-e``) before the network layer.

Without ``-e`` tcpdump prints nothing of an Ethernet, Linux cooked or loopback header
when it knows the protocol inside, and VLAN tags (802.1Q, QinQ) are skipped silently;
so these printers mostly find the payload and hand it on.  When the protocol inside is
one tcpdump has a printer for and bpfc does not (LLC, STP, LLDP, MPLS, PPPoE...), the
line is the generic ``ethertype NAME (0xXXXX), length N`` and marked inexact.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from bpfc.decode.common import Out, ip4, mac, need, u16, u32
from bpfc.decode.ip import ip6_print, ip_print, ipn_print
from bpfc.decode.tunnel import mpls_print

ETHERTYPE_IP = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_RARP = 0x8035
ETHERTYPE_IPV6 = 0x86DD
#: tags ether_print skips (802.1Q, the 0x9100/0x9200 pre-standard QinQ tags, 802.1ad)
VLAN_TYPES = frozenset((0x8100, 0x9100, 0x9200, 0x88A8))

#: tcpdump 4.99.3's names for EtherTypes and ARP hardware types (read back from it by
#: sweeping every value through its ARP printer)
ETHERTYPE_NAMES = {
    0x00FE: "GRE-OSI",
    0x0200: "PUP",
    0x0500: "Sprite",
    0x0600: "NS",
    0x0707: "GeoNet (old)",
    0x0800: "IPv4",
    0x0806: "ARP",
    0x1000: "Trail",
    0x1111: "CALM FAST",
    0x6001: "MOP DL",
    0x6002: "MOP RC",
    0x6003: "DN",
    0x6004: "LAT",
    0x6007: "SCA",
    0x6558: "TEB",
    0x8035: "Reverse ARP",
    0x8038: "Lanbridge",
    0x803C: "DEC DNS",
    0x803E: "DEC DTS",
    0x805B: "VEXP",
    0x805C: "VPROD",
    0x809B: "Appletalk",
    0x80F3: "Appletalk ARP",
    0x8100: "802.1Q",
    0x8137: "IPX",
    0x86DD: "IPv6",
    0x8808: "MPCP",
    0x8809: "Slow Protocols",
    0x880B: "PPP",
    0x8847: "MPLS unicast",
    0x8848: "MPLS multicast",
    0x8863: "PPPoE D",
    0x8864: "PPPoE S",
    0x886F: "MS NLB heartbeat",
    0x8870: "Jumbo",
    0x888E: "EAPOL",
    0x8899: "Realtek protocols",
    0x88A2: "AoE",
    0x88A8: "802.1Q-QinQ",
    0x88CA: "TIPC",
    0x88CC: "LLDP",
    0x88E5: "802.1AE MACsec",
    0x88F7: "PTP",
    0x8902: "CFM",
    0x893A: "IEEE1905.1",
    0x8947: "GeoNet",
    0x894F: "NSH",
    0x9000: "Loopback",
    0x9100: "802.1Q-9100",
    0x9200: "802.1Q-9200",
    0xABCD: "CFM (old)",
    0xD28B: "Arista Vendor Specific Protocol",
    0xFEFE: "OSI",
}
ARP_HARDWARE = {1: "Ethernet", 6: "TokenRing", 7: "ArcNet", 15: "FrameRelay", 23: "Strip"}
ARP_HARDWARE |= {24: "IEEE 1394", 32: "InfiniBand"}


def ethertype_print(out: Out, kind: int, data: memoryview, length: int) -> bool:
    """Print the network layer for ``kind``; False when it is not one bpfc decodes."""
    if kind == ETHERTYPE_IP:
        ip_print(out, data, length)
    elif kind == ETHERTYPE_IPV6:
        ip6_print(out, data, length)
    elif kind in (ETHERTYPE_ARP, ETHERTYPE_RARP):
        arp_print(out, data, length)
    elif kind in (0x8847, 0x8848):
        mpls_print(out, data, length)
    else:
        return False
    return True


def _generic(out: Out, kind: int, length: int) -> None:
    name = ETHERTYPE_NAMES.get(kind, "Unknown")
    out.inexact(f"ethertype {name} (0x{kind:04x}), length {length}")


def ether_print(out: Out, data: memoryview, length: int) -> None:
    """Ethernet II / 802.3: skip the header and any VLAN tags, print the payload."""
    out.proto = "ether"
    need(data, 14, "ether")
    kind = u16(data, 12)
    offset = 14
    length -= 14
    while kind in VLAN_TYPES:
        out.proto = "vlan"
        need(data, offset + 4, "vlan")
        kind = u16(data, offset + 2)
        offset += 4
        length -= 4
    if kind <= 1500:
        out.inexact(f"LLC, length {length}")
        return
    if not ethertype_print(out, kind, data[offset:], length):
        _generic(out, kind, length)


def sll_print(out: Out, data: memoryview, length: int) -> None:
    """Linux cooked v1: 16 bytes, the protocol in the last two."""
    out.proto = "sll"
    need(data, 16, "sll")
    _cooked(out, u16(data, 14), data[16:], length - 16)


def sll2_print(out: Out, data: memoryview, length: int) -> None:
    """Linux cooked v2: 20 bytes, the protocol in the first two.  tcpdump prints the
    interface (its name on this machine, as ``if_indextoname`` gives it) and the
    direction even without ``-e``."""
    out.proto = "sll2"
    need(data, 20, "sll2")
    out.add(f"{_ifname(u32(data, 4)):<5} {SLL_DIRECTIONS.get(data[10], '?'):<3} ")
    _cooked(out, u16(data, 0), data[20:], length - 20)


SLL_DIRECTIONS = {0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"}


def _ifname(index: int) -> str:
    try:
        return socket.if_indextoname(index)
    except (OSError, OverflowError, AttributeError):
        return "?"


def _cooked(out: Out, kind: int, data: memoryview, length: int) -> None:
    while kind == 0x8100:  # tcpdump names the protocol inside each tag
        out.proto = "vlan"
        need(data, 4, "vlan")
        kind = u16(data, 2)
        data = data[4:]
        length -= 4
        if kind not in ETHERTYPE_NAMES:
            out.exact = False  # the form for unnamed EtherTypes is not checked
        out.add(f"ethertype {ETHERTYPE_NAMES.get(kind, 'Unknown')}, ")
    if kind <= 1500:
        out.inexact(f"Linux cooked protocol 0x{kind:04x}, length {length}")
        return
    if not ethertype_print(out, kind, data, length):
        _generic(out, kind, length)


#: BSD address families that carry IPv6 (BSD, FreeBSD, Darwin numbering)
AF_INET6 = frozenset((24, 28, 30))


def null_print(out: Out, data: memoryview, length: int, *, network_order: bool) -> None:
    """BSD loopback (host byte order family) and OpenBSD LOOP (network byte order)."""
    out.proto = "null"
    need(data, 4, "null")
    raw = bytes(data[:4])
    family = int.from_bytes(raw, "big" if network_order else "little")
    if not network_order and family & 0xFFFF0000:
        family = int.from_bytes(raw, "big")
    length -= 4
    if family == 2:
        ip_print(out, data[4:], length)
    elif family in AF_INET6:
        ip6_print(out, data[4:], length)
    else:
        out.inexact(f"AF {family}, length {length}")


def raw_print(out: Out, data: memoryview, length: int) -> None:
    """RAW, IPV4 and IPV6 link types: tcpdump looks at the version nibble for all three."""
    ipn_print(out, data, length)


#: LINKTYPE number -> printer ``(out, data, wire length)``
PRINTERS: dict[int, Callable[[Out, memoryview, int], None]] = {
    0: lambda out, data, length: null_print(out, data, length, network_order=False),
    1: ether_print,
    12: raw_print,
    101: raw_print,
    108: lambda out, data, length: null_print(out, data, length, network_order=True),
    113: sll_print,
    228: raw_print,
    229: raw_print,
    276: sll2_print,
}

#: EtherType -> printer of what a tunnel (GRE, MPLS) carries: handed to each line's
#: :class:`Out`, so that :mod:`bpfc.decode.tunnel` imports none of these printers
PAYLOADS: dict[int, Callable[[Out, memoryview, int], None]] = {
    ETHERTYPE_IP: ip_print,
    ETHERTYPE_IPV6: ip6_print,
    0x6558: ether_print,  # transparent Ethernet bridging
    0x8847: mpls_print,  # MPLS unicast
}

ARP_OPS = {
    1: "Request",
    2: "Reply",
    3: "Reverse Request",
    4: "Reverse Reply",
    8: "Inverse Request",
    9: "Inverse Reply",
}


def arp_print(out: Out, data: memoryview, length: int) -> None:
    """ARP / RARP for Ethernet and IPv4 addresses; other hardware is the generic line."""
    out.proto = "arp"
    need(data, 8, "arp")
    hrd, pro, hln, pln, op = u16(data, 0), u16(data, 2), data[4], data[5], u16(data, 6)
    if hrd == 19:  # ATM ARP has its own layout
        out.inexact(f"ARP, ATM, length {length}")
        return
    need(data, 8 + 2 * hln + 2 * pln, "arp")
    out.add("ARP, ")
    if pro not in (0x0800, 0x1000) or pln != 4 or hln == 0:
        hardware = ARP_HARDWARE.get(hrd, f"Unknown Hardware ({hrd})")
        protocol = ETHERTYPE_NAMES.get(pro, f"Unknown Protocol (0x{pro:04x})")
        out.add(f"{hardware} (len {hln}), {protocol} (len {pln}), length {length}")
        return
    if hrd == 15 or op not in ARP_OPS:  # Frame Relay addresses, unknown operations
        out.inexact(f"hardware type {hrd}, protocol 0x{pro:04x}, length {length}")
        return
    sha, spa = 8, 8 + hln
    tha, tpa = spa + 4, spa + 4 + hln
    if op == 1:
        known = any(data[tha : tha + hln])
        out.add(f"Request who-has {ip4(data, tpa)}")
        out.add(f" ({mac(data, tha, hln)})" if known else "")
        out.add(f" tell {ip4(data, spa)}")
    elif op == 2:
        out.add(f"Reply {ip4(data, spa)} is-at {mac(data, sha, hln)}")
    elif op in (3, 8):
        out.add(f"{ARP_OPS[op]} who-is {mac(data, tha, hln)} tell {mac(data, sha, hln)}")
    elif op == 4:
        out.add(f"{ARP_OPS[op]} {mac(data, tha, hln)} at {ip4(data, tpa)}")
    else:
        out.add(f"{ARP_OPS[op]} {mac(data, sha, hln)} at {ip4(data, spa)}")
    out.add(f", length {length}")
