"""Error message templates for code generation, in libpcap master's wording.

Tests import these so that a wording change is made in one place.
"""

from __future__ import annotations

SYNTAX = "syntax error in filter expression"
ETHER_NON_ETHER = "Ethernet address used in non-ether expression"
NETMASK_UNKNOWN = "netmask not known, so 'ip broadcast' not supported"
DATA_SIZE = "data size must be 1, 2, or 4"


def invalid_qual(qual: str, what: str) -> str:
    return f"'{qual}' is not a valid qualifier for '{what}'"


def invalid_ipv4(text: str) -> str:
    return f"invalid IPv4 address '{text}'"


def unknown_host(name: str) -> str:
    return f"unknown host '{name}'"


def port_too_big(value: int) -> str:
    return f"port number {value} greater than maximum 65535"


def non_network_bits(text: str) -> str:
    return f'non-network bits set in "{text}"'


def not_supported_on(what: str, dlt: str) -> str:
    return f"'{what}' not supported on {dlt}"
