"""Qualified primitives: ``[proto] [dir] [kind] id`` and bare protocol words.

Checks which qualifier combinations libpcap accepts (with its error wording, from
:mod:`bpfc.codegen.messages`), turns ids into values (abbreviated IPv4 addresses,
prefixes, masks, port numbers and ranges, protocol names) and calls the generators.
Name lookups (hosts, services, protocols) go through ``state.resolver`` when the
names package provides one, with a small built-in table as fallback.
"""

from __future__ import annotations

from typing import Any

from bpfc import ast
from bpfc.cfg import Cond
from bpfc.codegen import (
    arcnet,
    decnet_osi_llc,
    link,
    messages,
    named,
    net,
    ports,
    protochain,
    resolve,
)
from bpfc.codegen.link import assert_nonwlan_dqual, gen_mac48_host
from bpfc.codegen.state import CodegenState

#: bare protocol words that are "network protocol is X" tests on the link layer
LINK_ABBREVS = {
    "ip": link.ETHERTYPE_IP,
    "ip6": link.ETHERTYPE_IPV6,
    "arp": link.ETHERTYPE_ARP,
    "rarp": link.ETHERTYPE_REVARP,
    "atalk": link.ETHERTYPE_ATALK,
    "aarp": link.ETHERTYPE_AARP,
    "decnet": link.ETHERTYPE_DN,
    "sca": 0x6007,
    "lat": 0x6004,
    "moprc": 0x6002,
    "mopdl": 0x6001,
    "stp": link.LLCSAP_8021D,
    "ipx": link.LLCSAP_IPX,
    "netbeui": link.LLCSAP_NETBEUI,
    "iso": link.LLCSAP_ISONS,
}
#: bare protocol words that are IP protocol tests: (number, families)
IP_ABBREVS = {
    "tcp": (6, "any"),
    "udp": (17, "any"),
    "sctp": (132, "any"),
    "icmp": (1, "ip"),
    "igmp": (2, "ip"),
    "igrp": (9, "ip"),
    "pim": (103, "any"),
    "vrrp": (112, "ip"),
    "carp": (112, "ip"),
    "icmp6": (58, "ip6"),
    "ah": (51, "any"),
    "esp": (50, "any"),
}


def gen_proto_abbrev(state: CodegenState, proto: str, span: Any = None) -> Cond:
    """A bare protocol word (``tcp``, ``ip6``, ``arp``, ``iso``, ``l1``...)."""
    if proto in LINK_ABBREVS:
        return link.gen_linktype(state, LINK_ABBREVS[proto])
    if proto in IP_ABBREVS:
        number, family = IP_ABBREVS[proto]
        if family == "ip":
            return net.gen_ip_proto(state, number)
        if family == "ip6":
            return net.gen_ip6_proto(state, number)
        return net.gen_proto_default(state, number)
    iso = decnet_osi_llc.gen_iso_abbrev(state, proto)
    if iso is not None:
        return iso
    # the link layer and the radio header are places, not protocols: 'link' alone says nothing
    raise state.error(messages.not_abbreviation(proto), span)


def parse_ipv4(state: CodegenState, text: str, span: Any) -> tuple[int, int]:
    """Value and bit length of a (possibly abbreviated) dotted IPv4 address."""
    parts = text.split(".")
    value = 0
    for part in parts:
        try:
            n = int(part, 10)
        except ValueError:
            raise state.error(messages.invalid_ipv4(text), span) from None
        if n > 255:
            raise state.error(messages.invalid_ipv4(text), span)
        value = (value << 8) | n
    return value, 8 * len(parts)


#: id node type -> how libpcap names it in "'KIND' qualifier applied to ..."
ID_DESCRIPTIONS = {
    ast.IPv4Id: "IPv4 address",
    ast.IPv4NetId: "IPv4 address and prefix length",
    ast.IPv4MaskId: "IPv4 address and netmask",
    ast.IPv6Id: "IPv6 address",
    ast.IPv6NetId: "IPv6 address and prefix length",
}


def gen_primitive(state: CodegenState, node: ast.Primitive) -> Cond:
    """``[proto] [dir] [kind] id`` with resolved qualifiers.

    One generator per kind of id, as libpcap has one per token (``gen_scode`` for names,
    ``gen_ncode`` for numbers and dotted quads, ``gen_mcode`` for IPv4 prefixes and masks,
    ``gen_mcode6`` for IPv6, ``gen_ecode`` for MAC addresses, ``gen_acode`` for ``$XX``):
    each runs its checks in libpcap's order, so the first error reported is libpcap's.
    An id with no qualifiers in force (after ``tcp and``) is checked too: libpcap's
    *undefined* qualifier values fail the checks that look at them, wherever they come."""
    return _ID_CODES[type(node.id)](state, node.qual, node.id, node.error_span)


#: the id forms whose (port, portrange, proto, protochain) kinds the grammar itself refuses
_GRAMMAR_ID_KINDS = ("port", "portrange", "proto", "protochain")


def _check_id_kind(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> None:
    """libpcap's grammar refuses an address (not a bare number) under a kind that takes a
    port or protocol before any code generation for it.  The error is marked
    ``from_grammar``: libpcap records it only if nothing else was (unlike code
    generation's errors, which replace an error the scanner recorded)."""
    if q.kind in _GRAMMAR_ID_KINDS:
        what = ID_DESCRIPTIONS[type(ident)]
        if q.kind == "proto" and isinstance(ident, ast.IPv6NetId):
            what += " "  # master's grammar has this one message end in a space
        err = state.error(f"'{q.kind}' qualifier applied to {what}", span)
        err.from_grammar = True  # type: ignore[attr-defined]
        raise err


def _kind_word(q: ast.Qualifiers) -> str:
    """libpcap's name of the kind qualifier in "not a valid qualifier" messages; it has no
    word for an absent or undefined one and prints its placeholder."""
    if q.undefined:
        return "<invalid type 255>"
    return q.kind if q.kind is not None else "<invalid type 0>"


def _gen_ecode(state: CodegenState, q: ast.Qualifiers, ident: ast.EtherId, span: Any) -> Cond:
    """A MAC address: only ``link [dir] [host] MAC`` (``ether``, ``wlan``... are ``link``)."""
    if q.kind not in (None, "host") or q.proto != "link":
        raise state.error(messages.ETHER_NON_ETHER, span)
    return gen_mac48_host(state, ident.octets, q.dir, "XX:XX:XX:XX:XX:XX", span)


def _gen_acode(state: CodegenState, q: ast.Qualifiers, ident: ast.ArcnetId, span: Any) -> Cond:
    """``$XX``: never with an 802.11 direction (the ARCnet module handles the rest)."""
    assert_nonwlan_dqual(state, q.dir, span, q.undefined)
    return arcnet.gen_arcnet_id(state, ast.Primitive(q, ident, span=span or ast.NO_SPAN))


def _gen_host4(
    state: CodegenState, q: ast.Qualifiers, value: int, mask: int, context: str, span: Any
) -> Cond:
    """libpcap's ``gen_host``: the direction, then the protocol, then the test."""
    assert_nonwlan_dqual(state, q.dir, span)
    if q.proto not in (None, "ip", "arp", "rarp"):
        raise state.error(messages.invalid_qual(q.proto, context), span)
    return net.gen_host4(state, value, mask, q.dir or "default", q.proto or "default")


def _gen_ncode(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    """A bare number or a (possibly abbreviated) dotted quad."""
    if isinstance(ident, ast.IPv4Id):
        _check_id_kind(state, q, ident, span)
    if q.proto == "decnet":
        return _gen_dnhost(state, q, ident, span)
    kind = q.kind
    if isinstance(ident, ast.NumberId):
        value, bits, idstr = ident.value & 0xFFFFFFFF, 32, str(ident.value)
    else:
        value, bits = parse_ipv4(state, ident.text, span)
        idstr = ident.text
    if q.undefined:
        raise state.error(messages.SYNTAX, span)
    if kind in (None, "host", "net"):
        if q.proto == "link":
            raise state.error(f"illegal link-layer address '{idstr}'", span)
        mask = 0xFFFFFFFF
        if isinstance(ident, ast.NumberId) and kind == "net":
            while value and value & 0xFF000000 == 0:  # a short net number, left-justified
                value = (value << 8) & 0xFFFFFFFF
                mask = (mask << 8) & 0xFFFFFFFF
        else:
            value = (value << (32 - bits)) & 0xFFFFFFFF
            mask = (mask << (32 - bits)) & 0xFFFFFFFF
        context = "net <IPv4 address>" if kind == "net" else "host <IPv4 address>"
        return _gen_host4(state, q, value, mask, context, span)
    if kind in ("port", "portrange"):
        ports.check_port_proto(state, q.proto, kind, span)
        if value > 65535:
            raise state.error(messages.port_too_big(value), span)
        return ports.gen_port_range(state, q, value, value, q.proto, span)
    if kind == "proto":
        return _gen_proto(state, q, ident, span)
    if kind == "protochain":
        return _gen_protochain(state, q, ident, span)
    raise state.error(messages.invalid_qual(_kind_word(q), idstr), span)


def _gen_mcode(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    """An IPv4 network: ``ADDR/LEN`` or ``ADDR mask MASK``."""
    _check_id_kind(state, q, ident, span)
    if q.proto == "decnet":
        raise state.error(messages.invalid_qual("decnet", q.kind or "host"), span)
    value, bits = parse_ipv4(state, ident.addr.text, span)
    value = (value << (32 - bits)) & 0xFFFFFFFF
    if isinstance(ident, ast.IPv4NetId):
        if ident.prefix > 32:
            raise state.error(f"netmask length {ident.prefix} greater than maximum 32", span)
        mask = (0xFFFFFFFF << (32 - ident.prefix)) & 0xFFFFFFFF
    else:
        mask, mbits = parse_ipv4(state, ident.mask.text, span)
        mask = (mask << (32 - mbits)) & 0xFFFFFFFF
    if value & ~mask & 0xFFFFFFFF:
        raise state.error(messages.non_network_bits(_id_text(ident)), span)
    if q.kind != "net" or q.undefined:
        raise state.error(messages.invalid_qual(_kind_word(q), _id_text(ident)), span)
    return _gen_host4(state, q, value, mask, "net <IPv4 prefix>", span)


def _gen_mcode6(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    """An IPv6 address or prefix."""
    _check_id_kind(state, q, ident, span)
    prefix = ident.prefix if isinstance(ident, ast.IPv6NetId) else 128
    if prefix > 128:
        raise state.error("mask length must be <= 128", span)
    addr = ident.addr.packed if isinstance(ident, ast.IPv6NetId) else ident.packed
    mask_int = ((1 << 128) - 1) ^ ((1 << (128 - prefix)) - 1)
    if int.from_bytes(addr, "big") & ~mask_int:
        raise state.error(messages.non_network_bits(_id_text(ident)), span)
    kind = q.kind
    if kind not in (None, "host", "net") or q.undefined:  # a /128 is named by its address
        text = ident.addr.text if prefix == 128 and isinstance(ident, ast.IPv6NetId) else None
        raise state.error(messages.invalid_qual(_kind_word(q), text or _id_text(ident)), span)
    if kind in (None, "host") and prefix != 128:
        raise state.error(messages.invalid_qual("host", _id_text(ident)), span)
    assert_nonwlan_dqual(state, q.dir, span)
    if q.proto not in (None, "ip6"):
        context = "host <IPv6 address>" if kind == "host" else "net <IPv6 prefix>"
        raise state.error(messages.invalid_qual(q.proto, context), span)
    return net.gen_host6(state, addr, mask_int.to_bytes(16, "big"), q.dir or "default")


def _gen_scode(state: CodegenState, q: ast.Qualifiers, ident: ast.NameId, span: Any) -> Cond:
    """A name: a host, network, service, protocol or port range, by the kind qualifier."""
    kind = q.kind
    if q.proto == "decnet":
        raise state.error(messages.invalid_qual("decnet", kind or "host"), span)
    if q.undefined:
        raise state.error(messages.SYNTAX, span)
    if kind in ("port", "portrange"):
        return ports.gen_port_name(state, q, ident, span)
    if kind == "proto":
        return _gen_proto(state, q, ident, span)
    if kind == "protochain":
        return _gen_protochain(state, q, ident, span)
    return named.gen_named(state, q, ident, span)


def _gen_dnhost(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    """``decnet [dir] [host] AREA.NODE``: the only primitive with ``decnet`` and an id."""
    assert_nonwlan_dqual(state, q.dir, span)
    kind = q.kind or "host"
    if kind != "host":
        raise state.error(messages.invalid_qual("decnet", kind), span)
    if isinstance(ident, ast.NumberId):
        raise state.error(f"invalid DECnet address '{ident.value}'", span)
    addr = decnet_osi_llc.parse_decnet(state, ident.text, span)
    return decnet_osi_llc.gen_decnet_host(state, addr, q.dir or "default")


_ID_CODES: dict[type, Any] = {
    ast.NameId: _gen_scode,
    ast.NumberId: _gen_ncode,
    ast.IPv4Id: _gen_ncode,
    ast.IPv4NetId: _gen_mcode,
    ast.IPv4MaskId: _gen_mcode,
    ast.IPv6Id: _gen_mcode6,
    ast.IPv6NetId: _gen_mcode6,
    ast.EtherId: _gen_ecode,
    ast.ArcnetId: _gen_acode,
}


def _lookup_proto(state: CodegenState, q: ast.Qualifiers, name: str, span: Any) -> int:
    """A protocol name under ``proto``/``protochain``, looked up in the table its protocol
    qualifier selects (IP protocols, EtherTypes, ISO NLPIDs); a qualifier with no table
    (``ipx proto NAME``) knows no names, which is reported before the qualifier itself."""
    proto = q.proto
    found: int | None = None
    if proto in (None, "ip", "ip6"):
        found = resolve.ip_proto(state, name)
    elif proto == "link":
        found = resolve.ether_proto(name)
    elif proto == "iso":
        found = decnet_osi_llc.ISO_NLPID.get(name)
    if found is None:
        what = f"{proto} {q.kind}" if proto else q.kind
        raise state.error(f"unknown '{what}' value '{name}'", span)
    return found


def _gen_protochain(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    if q.proto == "decnet":
        raise state.error(messages.invalid_qual("decnet", "protochain"), span)
    if isinstance(ident, ast.NumberId):
        value = ident.value
    elif isinstance(ident, ast.NameId):
        value = _lookup_proto(state, q, ident.text, span)
    else:
        raise state.error(messages.invalid_qual("protochain", _id_text(ident)), span)
    if q.proto not in (None, "ip", "ip6"):
        raise state.error(messages.invalid_qual(q.proto, "protochain"), span)
    if value > 255:
        raise state.error(f"protocol number {value} greater than maximum 255", span)
    return protochain.gen_protochain(state, value, q.proto)


def _id_text(ident: Any) -> str:
    if isinstance(ident, ast.IPv4NetId):
        return f"{ident.addr.text}/{ident.prefix}"
    if isinstance(ident, ast.IPv6NetId):
        return f"{ident.addr.text}/{ident.prefix}"
    if isinstance(ident, ast.IPv4MaskId):
        return f"{ident.addr.text} mask {ident.mask.text}"
    return getattr(ident, "text", str(getattr(ident, "value", "")))


#: framings where a link protocol up to 1500 is an 802.2 LLC DSAP (one byte), not a type
LLC_DSAP_FRAMINGS = ("ether", "llc", "sll", "wlan")
#: framings with a 16-bit type field, so a link protocol over 65535 is an error; elsewhere
#: it is a value the link type's test knows nothing about (never true), as in libpcap
TYPE_FIELD_FRAMINGS = frozenset(
    "ether llc sll sll2 ethertype wlan chdlc ppp ppp_bsdos sunatm lane".split()
)

LINK_PROTO_NAMES = {"ppp": "PPP protocol", "ppp_bsdos": "PPP protocol", "chdlc": "HDLC protocol"}


def _gen_proto(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    proto = q.proto
    if proto == "decnet":
        raise state.error(messages.invalid_qual(proto, "proto"), span)
    if isinstance(ident, ast.NumberId):
        value = ident.value
    elif isinstance(ident, ast.NameId):
        value = _lookup_proto(state, q, ident.text, span)
    else:
        raise state.error(messages.invalid_qual("proto", _id_text(ident)), span)
    if proto == "iso":
        return decnet_osi_llc.gen_iso_proto(state, value)
    if proto == "isis":
        return decnet_osi_llc.gen_isis_proto(state, value)
    if proto not in (None, "ip", "ip6", "link"):
        raise state.error(messages.invalid_qual(proto, "proto"), span)
    if proto == "link":
        # the link type's own field limits; an encapsulation's test (after mpls) judges
        # the value itself
        framing = None if state.extra.get("linktype_hook") else state.link.framing
        field = LINK_PROTO_NAMES.get(state.link.framing, "EtherType")
        if value > 65535 and framing in TYPE_FIELD_FRAMINGS:
            raise state.error(f"{field} {value} greater than maximum 65535", span)
        if framing in LLC_DSAP_FRAMINGS and 255 < value <= 1500:
            raise state.error(f"LLC DSAP {value} greater than maximum 255", span)
        return link.gen_linktype(state, value)
    if value > 255:
        raise state.error(f"protocol number {value} greater than maximum 255", span)
    if proto == "ip":
        return net.gen_ip_proto(state, value)
    if proto == "ip6":
        return net.gen_ip6_proto(state, value)
    return net.gen_proto_default(state, value)
