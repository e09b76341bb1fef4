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
from bpfc.codegen import legacy, link, lookups, messages, named, net, transport
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
    iso = legacy.gen_iso_abbrev(state, proto)
    if iso is not None:
        return iso
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


def _span(node: Any) -> Any:
    span = getattr(node, "span", None)
    return None if span == ast.NO_SPAN else span


WLAN_DIRS = ("addr1", "addr2", "addr3", "addr4", "ra", "ta")

#: id node type -> how libpcap names it in "'KIND' qualifier applied to ..."
ID_DESCRIPTIONS = {
    ast.IPv4Id: "IPv4 address",
    ast.IPv4NetId: "IPv4 address and prefix length",
    ast.IPv4MaskId: "IPv4 address and netmask",
    ast.IPv6Id: "IPv6 address",
    ast.IPv6NetId: "IPv6 address and prefix length",
}


def gen_primitive(state: CodegenState, node: ast.Primitive) -> Cond:
    """``[proto] [dir] [kind] id`` with resolved qualifiers."""
    q = node.qual
    ident = node.id
    span = _span(node)
    if q.undefined:
        raise state.error(messages.SYNTAX, span)
    proto = q.proto
    direction = q.dir or "default"
    kind = q.kind
    if direction in WLAN_DIRS and kind in ("port", "portrange"):
        raise state.error(messages.invalid_qual(direction, kind), span)
    mac_id = isinstance(ident, ast.EtherId) or (proto == "link" and isinstance(ident, ast.NameId))
    if direction in WLAN_DIRS and (state.link.mac != "wlan" or not mac_id):
        raise state.error(f"'{direction}' is valid for 802.11 syntax only", span)
    if kind in ("port", "portrange", "proto", "protochain") and type(ident) in ID_DESCRIPTIONS:
        what = ID_DESCRIPTIONS[type(ident)]
        raise state.error(f"'{kind}' qualifier applied to {what}", span)
    if isinstance(ident, ast.EtherId):
        if kind not in (None, "host") or proto not in (None, "link"):
            raise state.error(messages.ETHER_NON_ETHER, span)
        return link.gen_mac_host(state, ident.octets, _mac_dir(direction))
    if kind in ("port", "portrange"):
        return _gen_port(state, q, ident, span)
    if kind == "proto":
        return _gen_proto(state, q, ident, span)
    if kind == "protochain":
        return _gen_protochain(state, q, ident, span)
    if kind == "gateway" and isinstance(ident, (ast.IPv6Id, ast.IPv6NetId)):
        raise state.error(messages.invalid_qual("gateway", _id_text(ident)), span)
    if kind == "gateway" and proto == "decnet":
        raise state.error(messages.invalid_qual(proto, "gateway"), span)
    if kind == "gateway" and not isinstance(ident, ast.NameId):
        raise state.error(messages.invalid_qual("gateway", _id_text(ident)), span)
    if kind == "gateway" and proto not in (None, "ip", "arp", "rarp"):
        raise state.error(messages.invalid_qual(proto, "gateway"), span)
    if kind == "gateway" and state.link.mac not in link.GATEWAY_MACS:
        raise state.error(messages.not_supported_on("gateway", state.link), span)
    if proto == "decnet" and kind in (None, "host", "net"):
        return _gen_decnet(state, q, ident, span)
    if isinstance(ident, ast.NameId) and kind in (None, "host", "net", "gateway"):
        return named.gen_named(state, q, ident, span)
    if kind == "gateway":
        raise state.error(messages.invalid_qual("gateway", _id_text(ident)), span)
    if isinstance(ident, (ast.IPv6Id, ast.IPv6NetId)):
        return _gen_ip6(state, q, ident, span)
    if isinstance(ident, (ast.IPv4Id, ast.NumberId, ast.IPv4NetId, ast.IPv4MaskId)):
        return _gen_ip4(state, q, ident, span)
    if isinstance(ident, ast.ArcnetId):
        raise state.error(messages.not_supported_on("link host $XX", state.link), span)
    raise state.error(f"'{type(ident).__name__}' ids are not supported by bpfc yet", span)


def _gen_decnet(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    kind = q.kind or "host"
    if isinstance(ident, ast.IPv6NetId) and kind == "host" and ident.prefix != 128:
        raise state.error(messages.invalid_qual("host", _id_text(ident)), span)
    if isinstance(ident, (ast.IPv6Id, ast.IPv6NetId)):
        raise state.error(messages.invalid_qual("decnet", _ip6_context(q)), span)
    if kind == "net" or not isinstance(ident, (ast.IPv4Id, ast.NumberId)):
        raise state.error(messages.invalid_qual("decnet", kind), span)
    text = ident.text if isinstance(ident, ast.IPv4Id) else str(ident.value)
    addr = legacy.parse_decnet(state, text, span)
    return legacy.gen_decnet_host(state, addr, q.dir or "default")


def _gen_protochain(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    if q.proto == "decnet":
        raise state.error(messages.invalid_qual("decnet", "protochain"), span)
    if isinstance(ident, ast.NumberId):
        value = ident.value
    elif isinstance(ident, ast.NameId):
        found = lookups.ip_proto(state, ident.text)
        if found is None:
            what = f"{q.proto} protochain" if q.proto else "protochain"
            raise state.error(f"unknown '{what}' value '{ident.text}'", span)
        value = found
    else:
        raise state.error(messages.invalid_qual("protochain", _id_text(ident)), span)
    if q.proto not in (None, "ip", "ip6"):
        raise state.error(messages.invalid_qual(q.proto, "protochain"), span)
    if value > 255:
        raise state.error(f"protocol number {value} greater than maximum 255", span)
    from bpfc.codegen import protochain

    return protochain.gen_protochain(state, value, q.proto)


def _mac_dir(direction: str) -> str:
    return link.DIR_OR if direction == "default" else direction


def _gen_ip4(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    kind = q.kind or "host"
    proto = q.proto
    if isinstance(ident, (ast.IPv4NetId, ast.IPv4MaskId)):
        if kind == "host":
            raise state.error(messages.invalid_qual("host", _id_text(ident)), span)
        if proto not in (None, "ip", "arp", "rarp"):
            raise state.error(messages.invalid_qual(proto, "net <IPv4 prefix>"), span)
        value, bits = parse_ipv4(state, ident.addr.text, span)
        value <<= 32 - bits
        if isinstance(ident, ast.IPv4NetId):
            if ident.prefix > 32:
                raise state.error(f"netmask length {ident.prefix} greater than maximum 32", span)
            mask = (0xFFFFFFFF << (32 - ident.prefix)) & 0xFFFFFFFF if ident.prefix else 0
        else:
            mask, mbits = parse_ipv4(state, ident.mask.text, span)
            mask <<= 32 - mbits
        if value & ~mask & 0xFFFFFFFF:
            raise state.error(messages.non_network_bits(_id_text(ident)), span)
        return net.gen_host4(state, value, mask, q.dir or "default", proto or "default")
    if isinstance(ident, ast.NumberId):
        value, mask = ident.value & 0xFFFFFFFF, 0xFFFFFFFF
        if kind == "net":
            while value and value & 0xFF000000 == 0:
                value = (value << 8) & 0xFFFFFFFF
                mask = (mask << 8) & 0xFFFFFFFF
    else:
        value, bits = parse_ipv4(state, ident.text, span)
        value = (value << (32 - bits)) & 0xFFFFFFFF
        mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    if proto == "link":
        raise state.error(f"illegal link-layer address '{_id_text(ident)}'", span)
    if proto not in (None, "ip", "arp", "rarp"):
        raise state.error(messages.invalid_qual(proto, f"{kind} <IPv4 address>"), span)
    if kind == "net" and value & ~mask & 0xFFFFFFFF:
        raise state.error(messages.non_network_bits(_id_text(ident)), span)
    return net.gen_host4(state, value, mask, q.dir or "default", proto or "default")


def _gen_ip6(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    kind = q.kind or "host"
    prefix = ident.prefix if isinstance(ident, ast.IPv6NetId) else 128
    if kind == "host" and prefix != 128:
        raise state.error(messages.invalid_qual("host", _id_text(ident)), span)
    if q.proto not in (None, "ip6"):
        raise state.error(messages.invalid_qual(q.proto, _ip6_context(q)), span)
    if prefix > 128:
        raise state.error("mask length must be <= 128", span)
    addr = ident.addr.packed if isinstance(ident, ast.IPv6NetId) else ident.packed
    mask_int = ((1 << 128) - 1) ^ ((1 << (128 - prefix)) - 1)
    if int.from_bytes(addr, "big") & ~mask_int:
        raise state.error(messages.non_network_bits(_id_text(ident)), span)
    return net.gen_host6(state, addr, mask_int.to_bytes(16, "big"), q.dir or "default")


def _ip6_context(q: ast.Qualifiers) -> str:
    """How master names an IPv6 id in a qualifier error: only an explicit ``host`` is a
    host; with no type qualifier it is named as a prefix, like ``net``."""
    return "host <IPv6 address>" if q.kind == "host" else "net <IPv6 prefix>"


def _id_text(ident: Any) -> str:
    if isinstance(ident, ast.IPv4NetId):
        return f"{ident.addr.text}/{ident.prefix}"
    if isinstance(ident, ast.IPv6NetId):
        return f"{ident.addr.text}/{ident.prefix}"
    if isinstance(ident, ast.IPv4MaskId):
        return f"{ident.addr.text} mask {ident.mask.text}"
    return getattr(ident, "text", str(getattr(ident, "value", "")))


def _port_value(state: CodegenState, text: str, proto: str | None, span: Any) -> int:
    if text.isdigit():
        value = int(text)
    else:
        found = lookups.nametoport(text)
        if found is None:
            raise state.error(f"'{text}' is not a valid port", span)
        value = found[0]
    if value > 65535:
        raise state.error(messages.port_too_big(value), span)
    return value


def _gen_port(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    kind = q.kind or "port"
    proto = q.proto
    direction = q.dir or "default"
    if proto not in (None, "tcp", "udp", "sctp"):
        raise state.error(messages.invalid_qual(proto, kind), span)
    if isinstance(ident, ast.NumberId):
        if ident.value > 65535:
            raise state.error(messages.port_too_big(ident.value), span)
        lo = hi = ident.value
    elif isinstance(ident, ast.NameId):
        text = ident.text
        found = lookups.nametoport(text)
        if found is not None:
            lo = hi = found[0]
            real = found[1]
            if proto is not None and real is not None and real != proto:
                raise state.error(f"port '{text}' is {real}", span)
            proto = proto or real  # a tcp-only service name means tcp
        elif "-" in text and kind == "portrange":
            a, _, b = text.partition("-")
            lo, hi = _port_value(state, a, proto, span), _port_value(state, b, proto, span)
        else:
            raise state.error(f"unknown port '{text}'", span)
    else:
        raise state.error(messages.invalid_qual(kind, _id_text(ident)), span)
    return transport.gen_port(state, lo, hi, proto or "", direction)


#: how libpcap names the link-layer protocol field, per framing, in range errors
LINK_PROTO_NAMES = {"ppp": "PPP protocol", "ppp_bsdos": "PPP protocol", "chdlc": "HDLC protocol"}


def _gen_proto(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    proto = q.proto
    if proto == "decnet":
        raise state.error(messages.invalid_qual(proto, "proto"), span)
    if isinstance(ident, ast.NumberId):
        value = ident.value
    elif isinstance(ident, ast.NameId):
        if proto == "link":
            found = lookups.ether_proto(ident.text)
        elif proto in ("iso", "isis"):
            found = legacy.ISO_NLPID.get(ident.text.lower()) if proto == "iso" else None
        else:
            found = lookups.ip_proto(state, ident.text)
        if found is None:
            what = f"{proto} proto" if proto else "proto"
            raise state.error(f"unknown '{what}' value '{ident.text}'", span)
        value = found
    else:
        raise state.error(messages.invalid_qual("proto", _id_text(ident)), span)
    if proto == "iso":
        return legacy.gen_iso_proto(state, value)
    if proto == "isis":
        return legacy.gen_isis_proto(state, value)
    if proto not in (None, "ip", "ip6", "link"):
        raise state.error(messages.invalid_qual(proto, "proto"), span)
    if proto == "link":
        field = LINK_PROTO_NAMES.get(state.link.framing, "EtherType")
        if value > 65535:
            raise state.error(f"{field} {value} greater than maximum 65535", span)
        if state.link.framing in ("ether", "llc", "sll", "sll2") and 255 < value <= 1500:
            raise state.error(f"LLC DSAP {value} greater than maximum 255", span)
        return link.gen_linktype(state, value)
    if value > 255:
        raise state.error(f"protocol number {value} greater than maximum 255", span)
    if proto == "ip":
        return net.gen_ip_proto(state, value)
    if proto == "ip6":
        return net.gen_ip6_proto(state, value)
    return net.gen_proto_default(state, value)
