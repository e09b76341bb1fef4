"""Names in filters: bundled protocol/service tables and the host-name resolver.

* :mod:`bpfc.names.tables` — the data (IP protocols, services, Ethernet types, LLC SAPs,
  802.11 type/subtype/dir names, pflog reasons and actions);
* :mod:`bpfc.names.lookup` — lookups in those tables with libpcap's matching rules;
* :mod:`bpfc.names.addr` — libpcap's address spellings (IPv4, DECnet, ARCnet, MAC);
* :mod:`bpfc.names.resolver` — hosts, ethers and networks: :class:`Resolver`,
  :class:`SystemResolver` (``/etc`` files, DNS only when asked), :class:`StaticResolver`.
"""

from __future__ import annotations

from bpfc.names.addr import ether_aton, inet_network, parse_arcnet, parse_decnet, parse_ipv4
from bpfc.names.lookup import (
    ether_proto,
    ip_proto,
    llc_kind,
    llc_sap,
    nametoport,
    pf_action,
    pf_reason,
    port_range,
    service,
    service_conflict,
    wlan_dir,
    wlan_subtype,
    wlan_type,
)
from bpfc.names.resolver import Resolver, StaticResolver, SystemResolver, default_resolver

__all__ = [
    "Resolver", "StaticResolver", "SystemResolver", "default_resolver",
    "ether_aton", "inet_network", "parse_arcnet", "parse_decnet", "parse_ipv4",
    "ether_proto", "ip_proto", "llc_kind", "llc_sap", "nametoport", "pf_action", "pf_reason",
    "port_range", "service", "service_conflict", "wlan_dir", "wlan_subtype", "wlan_type",
]  # fmt: skip
