"""GRE version 0 and MPLS as tcpdump prints them without ``-v``, with the packet inside.

``GREv0[, off 0x..][, key=0x..][, seq N], length N: `` and then the encapsulated
packet (IPv4, IPv6, Ethernet for transparent bridging) printed by the same printers,
or ``gre-proto-0xNNNN`` for protocols tcpdump 4.99.3 does not decode there.  GRE
version 1 (PPTP), source routes and the protocols tcpdump decodes but bpfc does not
(MPLS, IPX, AppleTalk, OSI) are marked inexact.

The packet inside is printed through ``out.payloads`` (EtherType -> printer, built in
:mod:`bpfc.decode.link`), not by importing the IP and Ethernet printers: those import
this module, and the recursion (GRE in IP in GRE) stays out of the import graph.
"""

from __future__ import annotations

from bpfc.decode.common import Out, Truncated, need, u16, u32

#: GRE payload types tcpdump 4.99.3 hands to a printer bpfc does not copy (read back
#: from it)
GRE_DECODED_ELSEWHERE = frozenset((0x00FE, 0x809B, 0x8137))

ETHERTYPE_IP = 0x0800
ETHERTYPE_IPV6 = 0x86DD
#: GRE payload types printed, through ``Out.payloads`` (IPv4, IPv6, transparent
#: Ethernet bridging, MPLS unicast)
GRE_PAYLOADS = frozenset((ETHERTYPE_IP, ETHERTYPE_IPV6, 0x6558, 0x8847))


def _field(data: memoryview, cp: int, left: int, size: int) -> None:
    """An optional GRE header field of ``size`` bytes at ``cp``: inside the ``left`` bytes
    the IP header leaves, and captured (tcpdump's two checks, both ``[|gre]``)."""
    if left < size:
        raise Truncated("gre")
    need(data, cp + size, "gre")


def gre_print(out: Out, data: memoryview, length: int) -> None:
    out.proto = "gre"
    need(data, 2, "gre")
    version = u16(data, 0) & 7
    out.add(f"GREv{version}")
    if version != 0:
        out.inexact()
        return
    left = length
    if left < 2:
        raise Truncated("gre")
    flags = u16(data, 0)
    left -= 2
    if left < 2:
        raise Truncated("gre")
    need(data, 4, "gre")
    proto = u16(data, 2)
    left -= 2
    cp = 4
    if flags & 0xC000:  # checksum or routing present: checksum and offset fields
        if flags & 0x4000:
            out.exact = False  # source routes: not copied
        _field(data, cp, left, 2)
        cp, left = cp + 2, left - 2
        _field(data, cp, left, 2)
        out.add(f", off 0x{u16(data, cp):x}")
        cp, left = cp + 2, left - 2
    if flags & 0x2000:
        _field(data, cp, left, 4)
        out.add(f", key=0x{u32(data, cp):x}")
        cp, left = cp + 4, left - 4
    if flags & 0x1000:
        _field(data, cp, left, 4)
        out.add(f", seq {u32(data, cp)}")
        cp, left = cp + 4, left - 4
    if flags & 0x4000:
        return
    out.add(f", length {length}: ")
    inner = data[cp:]
    if proto in GRE_PAYLOADS:  # IPv4, IPv6, Ethernet, MPLS: the line's own printers
        out.payloads[proto](out, inner, left)
    elif proto in GRE_DECODED_ELSEWHERE:
        out.exact = False
    else:
        out.add(f"gre-proto-0x{proto:x}")


def mpls_print(out: Out, data: memoryview, length: int) -> None:
    """An MPLS label stack and the IPv4/IPv6 packet under it (guessed as tcpdump does:
    explicit-null labels, else the first nibble); other payloads are hex dumps in
    tcpdump, inexact here."""
    out.proto = "mpls"
    out.add("MPLS")
    cp = 0
    while True:
        if length < 4:
            out.inexact(" (invalid)")
            return
        need(data, cp + 4, "mpls")
        entry = u32(data, cp)
        label = entry >> 12
        bottom = entry & 0x100
        out.add(f" (label {label}, tc {(entry >> 9) & 7}")
        out.add((", [S]" if bottom else "") + f", ttl {entry & 0xFF})")
        cp += 4
        length -= 4
        if bottom:
            break
    inner = data[cp:]
    if label in (0, 3):
        kind = 4
    elif label == 2:
        kind = 6
    else:
        if length < 1:
            return
        need(inner, 1, "mpls")
        first = inner[0]
        kind = 4 if 0x45 <= first <= 0x4F else 6 if 0x60 <= first <= 0x6F else 0
    if kind == 4:
        out.add(" ")
        out.payloads[ETHERTYPE_IP](out, inner, length)
    elif kind == 6:
        out.add(" ")
        out.payloads[ETHERTYPE_IPV6](out, inner, length)
    else:  # OSI or unknown: an OSI decode or a hex dump in tcpdump
        out.exact = False
