"""Name lookups for the code generator: protocols, services, Ethernet types.

The bundled tables live in :mod:`bpfc.names` (libpcap's matching rules); resolver-provided
protocol names win when the resolver has them.  A minimal fallback table keeps the code
generator usable when that package is not importable.
"""

from __future__ import annotations

from typing import Any

from bpfc.codegen.state import CodegenState

#: fallback tables used when bpfc.names is not available
_PROTO_NAMES = {
    "tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "igmp": 2, "igrp": 9, "pim": 103,
    "vrrp": 112, "carp": 112, "icmp6": 58, "ah": 51, "esp": 50,
    "ip": 0, "hopopt": 0, "ggp": 3, "ipencap": 4, "st": 5, "egp": 8, "pup": 12, "hmp": 20,
    "xns-idp": 22, "rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "ipv6": 41,
    "ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "gre": 47, "skip": 57,
    "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88,
    "ospf": 89, "ax.25": 93, "ipip": 94, "etherip": 97, "encap": 98, "ipcomp": 108,
    "l2tp": 115, "isis": 124, "fc": 133, "mobility-header": 135, "udplite": 136,
    "mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142,
    "ethernet": 143,
}  # fmt: skip
_SERVICES = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
    "http": 80, "www": 80, "pop3": 110, "ntp": 123, "imap": 143, "snmp": 161, "bgp": 179,
    "https": 443, "syslog": 514,
}  # fmt: skip
_ETHERPROTO_NAMES = {
    "ip": 0x0800, "ip6": 0x86DD, "arp": 0x0806, "rarp": 0x8035, "atalk": 0x809B,
    "aarp": 0x80F3, "decnet": 0x6003, "sca": 0x6007, "lat": 0x6004, "moprc": 0x6002,
    "mopdl": 0x6001, "stp": 0x42, "ipx": 0xE0, "netbeui": 0xF0, "iso": 0xFE,
    "loopback": 0x9000, "lldp": 0x88CC, "slow": 0x8809, "802.1q": 0x8100, "mpls": 0x8847,
}  # fmt: skip


def names_module() -> Any:
    """The bundled name tables (``bpfc.names``), or None before that package exists."""
    try:
        import bpfc.names as names
    except ImportError:  # pragma: no cover
        return None
    return names


def nametoport(text: str) -> tuple[int, str | None] | None:
    names = names_module()
    if names is not None:
        return names.nametoport(text)
    value = _SERVICES.get(text)
    return None if value is None else (value, None)


def ether_proto(name: str) -> int | None:
    names = names_module()
    if names is None:
        return _ETHERPROTO_NAMES.get(name.lower())
    found = names.ether_proto(name)
    return names.llc_sap(name) if found is None else found


def ip_proto(state: CodegenState, name: str) -> int | None:
    resolver = state.resolver
    fn = getattr(resolver, "protocol", None) if resolver is not None else None
    if fn is not None:
        try:
            found = fn(name)
        except (LookupError, ValueError):
            found = None
        if isinstance(found, int):
            return found
    names = names_module()
    if names is not None:
        return names.ip_proto(name)
    return _PROTO_NAMES.get(name.lower())
