"""Primitives whose id is a name: hosts, networks, Ethernet hosts, gateways.

Names go through ``state.resolver`` (see :mod:`bpfc.names`: ``host(name)`` returns
the IPv4/IPv6 addresses, ``ether(name)`` the MAC, ``network(name)`` the network
number); without one, :func:`bpfc.names.default_resolver` (the ``/etc`` files, no DNS)
is created on the first lookup.  As libpcap master, a host with several
addresses tests each protocol's link type once and then any of the addresses (IPv4
addresses in ascending order, then IPv6), and IPv4 comes before IPv6.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from bpfc import ast
from bpfc.cfg import Cond, and_, or_
from bpfc.codegen import link, messages, net
from bpfc.codegen.link import assert_nonwlan_dqual, gen_mac48_host
from bpfc.codegen.state import CodegenState

V4_PROTOS = (None, "ip", "arp", "rarp")


def _call(state: CodegenState, method: str, name: str) -> Any:
    resolver = state.resolver
    if resolver is None:  # the default reads /etc/hosts, /etc/ethers, /etc/networks
        try:
            from bpfc.names import default_resolver
        except ImportError:  # pragma: no cover
            return None
        resolver = state.resolver = default_resolver()
    fn = getattr(resolver, method, None) if resolver is not None else None
    if fn is None:
        return None
    try:
        return fn(name)
    except (LookupError, ValueError, OSError):
        return None


def resolve_host(state: CodegenState, name: str) -> tuple[list[int], list[bytes]]:
    """The IPv4 (as ints, ascending) and IPv6 (16 bytes, ascending) addresses of ``name``."""
    found = _call(state, "host", name) or []
    v4: set[int] = set()
    v6: set[bytes] = set()
    for item in found:
        addr = item if isinstance(item, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else None
        if addr is None:
            if isinstance(item, int):
                addr = ipaddress.IPv4Address(item)
            elif isinstance(item, (bytes, bytearray)):
                addr = ipaddress.ip_address(bytes(item))
            else:
                addr = ipaddress.ip_address(str(item))
        if addr.version == 4:
            v4.add(int(addr))
        else:
            v6.add(addr.packed)
    return sorted(v4), sorted(v6)


def resolve_ether(state: CodegenState, name: str) -> bytes | None:
    found = _call(state, "ether", name)
    if found is None:
        return None
    if isinstance(found, str):
        return bytes(int(x, 16) for x in found.replace("-", ":").split(":"))
    return bytes(found)


def resolve_network(state: CodegenState, name: str) -> int | None:
    found = _call(state, "network", name)
    if found is None:
        return None
    if isinstance(found, ipaddress.IPv4Address):
        return int(found)
    if isinstance(found, str):
        return int(ipaddress.IPv4Address(found))
    return int(found)


def gen_named(state: CodegenState, q: ast.Qualifiers, ident: ast.NameId, span: Any) -> Cond:
    """``[proto] [dir] [host|net|gateway] NAME``, checked in libpcap's order: the name is
    looked up first, then the direction and protocol qualifiers are judged."""
    name = ident.text
    kind = q.kind or "host"
    proto = q.proto
    direction = q.dir or "default"
    if kind == "gateway":
        return gen_gateway(state, q, name, span)
    if kind == "net":
        value = resolve_network(state, name)
        if value is None:
            raise state.error(f"unknown network '{name}'", span)
        assert_nonwlan_dqual(state, q.dir, span)
        if proto not in V4_PROTOS:
            raise state.error(messages.invalid_qual(proto, "net <IPv4 network name>"), span)
        mask = 0xFFFFFFFF
        while value and value & 0xFF000000 == 0:
            value = (value << 8) & 0xFFFFFFFF
            mask = (mask << 8) & 0xFFFFFFFF
        return net.gen_host4(state, value, mask, direction, proto or "default")
    if proto == "link":
        link.check_mac48_link(state, "NAME")
        mac = resolve_ether(state, name)
        if mac is None:
            raise state.error(f"unknown Ethernet-like host '{name}'", span)
        return gen_mac48_host(state, mac, q.dir, "NAME", span)
    v4, v6 = resolve_host(state, name)
    if not v4 and not v6:
        raise state.error(messages.unknown_host(name), span)
    if proto == "ip6":
        v4 = []
    elif proto in ("ip", "arp", "rarp"):
        v6 = []
    if v4 or v6:  # libpcap judges the qualifiers as it generates each family's test
        assert_nonwlan_dqual(state, q.dir, span)
        if proto not in ((*V4_PROTOS,) if v4 else (None, "ip6")):
            raise state.error(messages.invalid_qual(proto, "host <Internet hostname>"), span)
    if not v4 and not v6:
        raise state.error(f"unknown host '{name}' for specified address family", span)
    result: Cond | None = None
    if v4:
        result = net.gen_host4(
            state, [(a, 0xFFFFFFFF) for a in v4], 0xFFFFFFFF, direction, proto or "default"
        )
    if v6:
        ones = b"\xff" * 16
        b6 = net.gen_host6(state, [(a, ones) for a in v6], ones, direction)
        result = b6 if result is None else or_(result, b6)
    assert result is not None
    return result


def gen_gateway(state: CodegenState, q: ast.Qualifiers, name: str, span: Any) -> Cond:
    """``[ip|arp|rarp] gateway NAME``: the MAC is the host's but no IP address is."""
    proto = q.proto
    if proto not in V4_PROTOS:
        raise state.error(messages.invalid_qual(proto, "gateway"), span)
    # after the protocol, in libpcap's order: no MAC address to find inside MPLS or a tunnel
    if state.label_depth > 0:
        raise state.error("'gateway' cannot be used within MPLS", span)
    if state.extra.get("tunnel"):
        raise state.error("'gateway' cannot be used within VXLAN or Geneve", span)
    if state.link.mac not in link.GATEWAY_MACS:
        raise state.error(messages.not_supported_on("gateway", state.link), span)
    mac = resolve_ether(state, name)
    if mac is None:
        raise state.error(f"unknown Ethernet-like host '{name}'", span)
    v4, v6 = resolve_host(state, name)
    if not v4:  # (only IPv4 addresses count; with a protocol, libpcap says which family)
        family = " for specified address family" if proto and v6 else ""
        raise state.error(messages.unknown_host(name) + family, span)
    b0 = link.gen_mac_host(state, mac, link.DIR_OR)
    addrs = [(a, 0xFFFFFFFF) for a in v4]
    parts = [
        net.gen_hostop(state, addrs, "default", p, negate=True)
        for p in ((proto,) if proto else ("ip", "arp", "rarp"))
    ]
    result = parts[0]
    for part in parts[1:]:
        result = or_(result, part)
    return and_(b0, result)
