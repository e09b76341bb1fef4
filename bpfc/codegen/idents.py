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
from bpfc.codegen import link, messages, named, net, transport
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

#: fallback tables used when bpfc.names is not available
_PROTO_NAMES = {k: v for k, (v, _) in IP_ABBREVS.items()} | {"ip": 4, "ipv6": 41}
_SERVICES = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
    "http": 80, "www": 80, "pop3": 110, "ntp": 123, "imap": 143, "snmp": 161, "bgp": 179,
    "https": 443, "syslog": 514,
}  # fmt: skip
_ETHERPROTO_NAMES = LINK_ABBREVS | {
    "loopback": 0x9000, "lldp": 0x88CC, "slow": 0x8809, "802.1q": 0x8100, "mpls": 0x8847,
}  # fmt: skip


def gen_proto_abbrev(state: CodegenState, proto: str, span: Any = None) -> Cond:
    """A bare protocol word (``tcp``, ``ip6``, ``arp``, ``iso``...)."""
    if proto in LINK_ABBREVS:
        return link.gen_linktype(state, LINK_ABBREVS[proto])
    if proto in IP_ABBREVS:
        number, family = IP_ABBREVS[proto]
        if family == "ip":
            return net.gen_ip_proto(state, number)
        if family == "ip6":
            return net.gen_ip6_proto(state, number)
        return net.gen_proto_default(state, number)
    raise state.error(f"'{proto}' is not supported by bpfc yet", span)


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


def gen_primitive(state: CodegenState, node: ast.Primitive) -> Cond:
    q = node.qual
    ident = node.id
    span = _span(node)
    if q.undefined:
        raise state.error(messages.SYNTAX, span)
    proto = q.proto
    direction = q.dir or "default"
    kind = q.kind
    if isinstance(ident, ast.EtherId):
        if kind not in (None, "host") or proto not in (None, "link"):
            raise state.error(messages.ETHER_NON_ETHER, span)
        return link.gen_mac_host(state, ident.octets, _mac_dir(direction))
    if kind in ("port", "portrange"):
        return _gen_port(state, q, ident, span)
    if kind == "proto":
        return _gen_proto(state, q, ident, span)
    if isinstance(ident, ast.NameId) and kind in (None, "host", "net", "gateway"):
        return named.gen_named(state, q, ident, span)
    if kind == "gateway":
        raise state.error(messages.invalid_qual("gateway", _id_text(ident)), span)
    if kind == "protochain":
        raise state.error("'protochain' is not supported by bpfc yet", span)
    if isinstance(ident, (ast.IPv6Id, ast.IPv6NetId)):
        return _gen_ip6(state, q, ident, span)
    if isinstance(ident, (ast.IPv4Id, ast.NumberId, ast.IPv4NetId, ast.IPv4MaskId)):
        return _gen_ip4(state, q, ident, span)
    raise state.error(f"'{type(ident).__name__}' ids are not supported by bpfc yet", span)


def _mac_dir(direction: str) -> str:
    return link.DIR_OR if direction == "default" else direction


def _gen_ip4(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    kind = q.kind or "host"
    proto = q.proto
    if isinstance(ident, ast.IPv4NetId):
        if kind == "host":
            raise state.error(messages.invalid_qual("host", _id_text(ident)), span)
        value, bits = parse_ipv4(state, ident.addr.text, span)
        value <<= 32 - bits
        if ident.prefix > 32:
            raise state.error("mask length must be <= 32", span)
        mask = (0xFFFFFFFF << (32 - ident.prefix)) & 0xFFFFFFFF if ident.prefix else 0
        if value & ~mask & 0xFFFFFFFF:
            raise state.error(messages.non_network_bits(_id_text(ident)), span)
        desc = "<IPv4 prefix>"
    elif isinstance(ident, ast.IPv4MaskId):
        if kind == "host":
            raise state.error(messages.invalid_qual("host", _id_text(ident)), span)
        value, bits = parse_ipv4(state, ident.addr.text, span)
        value <<= 32 - bits
        mask, mbits = parse_ipv4(state, ident.mask.text, span)
        mask <<= 32 - mbits
        if value & ~mask & 0xFFFFFFFF:
            raise state.error(messages.non_network_bits(_id_text(ident)), span)
        desc = "<IPv4 prefix>"
    elif isinstance(ident, ast.NumberId):
        value, mask = ident.value & 0xFFFFFFFF, 0xFFFFFFFF
        if kind == "net":
            while value and value & 0xFF000000 == 0:
                value = (value << 8) & 0xFFFFFFFF
                mask = (mask << 8) & 0xFFFFFFFF
        desc = "<IPv4 address>"
    else:
        value, bits = parse_ipv4(state, ident.text, span)
        value = (value << (32 - bits)) & 0xFFFFFFFF
        mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
        desc = "<IPv4 address>"
    if proto not in (None, "ip", "arp", "rarp"):
        raise state.error(messages.invalid_qual(proto, f"{kind} {desc}"), span)
    if kind == "net" and value & ~mask & 0xFFFFFFFF:
        raise state.error(messages.non_network_bits(_id_text(ident)), span)
    return net.gen_host4(state, value, mask, q.dir or "default", proto or "default")


def _gen_ip6(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    kind = q.kind or "host"
    if isinstance(ident, ast.IPv6NetId):
        if kind == "host":
            raise state.error(messages.invalid_qual("host", _id_text(ident)), span)
        if ident.prefix > 128:
            raise state.error("mask length must be <= 128", span)
        addr = ident.addr.packed
        mask_int = ((1 << 128) - 1) ^ ((1 << (128 - ident.prefix)) - 1)
    else:
        addr = ident.packed
        mask_int = (1 << 128) - 1
    if q.proto not in (None, "ip6"):
        desc = "<IPv6 prefix>" if kind == "net" else "<IPv6 address>"
        raise state.error(messages.invalid_qual(q.proto, f"{kind} {desc}"), span)
    if int.from_bytes(addr, "big") & ~mask_int:
        raise state.error(messages.non_network_bits(_id_text(ident)), span)
    mask = mask_int.to_bytes(16, "big")
    return net.gen_host6(state, addr, mask, q.dir or "default")


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
        value = _lookup_service(state, text, proto)
        if value is None:
            raise state.error(f"unknown port in range '{text}'", span)
    if value > 65535:
        raise state.error(messages.port_too_big(value), span)
    return value


def _lookup_service(state: CodegenState, name: str, proto: str | None) -> int | None:
    resolver = state.resolver
    fn = getattr(resolver, "service", None) if resolver is not None else None
    if fn is not None:
        try:
            found = fn(name, proto)
        except Exception:  # noqa: BLE001 - a resolver miss is just "unknown"
            found = None
        if isinstance(found, int):
            return found
    return _SERVICES.get(name.lower())


def _gen_port(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    kind = q.kind or "port"
    proto = q.proto
    direction = q.dir or "default"
    if isinstance(ident, (ast.IPv4Id,)):
        raise state.error(f"'{kind}' qualifier applied to IPv4 address", span)
    if isinstance(ident, ast.IPv4NetId):
        raise state.error(f"'{kind}' qualifier applied to IPv4 address and prefix length", span)
    if isinstance(ident, ast.IPv4MaskId):
        raise state.error(f"'{kind}' qualifier applied to IPv4 address and netmask", span)
    if proto not in (None, "tcp", "udp", "sctp"):
        raise state.error(messages.invalid_qual(proto, kind), span)
    if direction not in ("default", "src", "dst", "src or dst", "src and dst"):
        raise state.error(messages.invalid_qual(direction, kind), span)
    if isinstance(ident, ast.NumberId):
        if ident.value > 65535:
            raise state.error(messages.port_too_big(ident.value), span)
        lo = hi = ident.value
    elif isinstance(ident, ast.NameId):
        text = ident.text
        value = None if ident.escaped else _lookup_service(state, text, proto)
        if value is not None:
            lo = hi = value
        elif "-" in text and kind == "portrange":
            a, _, b = text.partition("-")
            lo, hi = _port_value(state, a, proto, span), _port_value(state, b, proto, span)
        else:
            raise state.error(f"unknown port '{text}'", span)
    else:
        raise state.error(messages.invalid_qual(kind, _id_text(ident)), span)
    return transport.gen_port(state, lo, hi, proto or "", direction)


def _gen_proto(state: CodegenState, q: ast.Qualifiers, ident: Any, span: Any) -> Cond:
    proto = q.proto
    if proto not in (None, "ip", "ip6", "link"):
        raise state.error(messages.invalid_qual(proto, "proto"), span)
    if isinstance(ident, ast.NumberId):
        value = ident.value
    elif isinstance(ident, ast.NameId):
        table = _ETHERPROTO_NAMES if proto == "link" else _PROTO_NAMES
        found = table.get(ident.text.lower())
        if found is None:
            what = "ether proto" if proto == "link" else f"{proto or 'ip'} proto"
            raise state.error(f"unknown '{what}' value '{ident.text}'", span)
        value = found
    else:
        raise state.error(messages.invalid_qual("proto", _id_text(ident)), span)
    if proto == "link":
        if value > 65535:
            raise state.error(f"EtherType {value} greater than maximum 65535", span)
        return link.gen_linktype(state, value)
    if value > 255:
        raise state.error(f"IP protocol {value} greater than maximum 255", span)
    if proto == "ip":
        return net.gen_ip_proto(state, value)
    if proto == "ip6":
        return net.gen_ip6_proto(state, value)
    return net.gen_proto_default(state, value)
