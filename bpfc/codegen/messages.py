"""Error message templates for code generation, in libpcap master's wording.

Tests import these so that a wording change is made in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfc.linktypes.descriptions import dlt_string

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.linktypes import LinkType

SYNTAX = "syntax error in filter expression"
ETHER_NON_ETHER = "Ethernet address used in non-ether expression"
NETMASK_UNKNOWN = "netmask not known, so 'ip broadcast' not supported"
DATA_SIZE = "data size must be 1, 2, or 4"


def invalid_qual(qual: str, what: str) -> str:
    return f"'{qual}' is not a valid qualifier for '{what}'"


def not_abbreviation(proto: str) -> str:
    """A protocol word that cannot stand alone (``link``, ``radio``)."""
    return f"'{proto}' cannot be used as an abbreviation"


def invalid_ipv4(text: str) -> str:
    return f"invalid IPv4 address '{text}'"


def unknown_host(name: str) -> str:
    return f"unknown host '{name}'"


def port_too_big(value: int) -> str:
    return f"port number {value} greater than maximum 65535"


def non_network_bits(text: str) -> str:
    return f'non-network bits set in "{text}"'


def link_string(link: LinkType | str) -> str:
    """The link type as libpcap master names it: ``DLT_RAW (Raw IPv4/IPv6)`` (a string is
    taken as already spelled)."""
    return (
        link if isinstance(link, str) else dlt_string(link.dlt, None if link.unnamed else link.name)
    )


def not_supported_on(what: str, link: LinkType | str) -> str:
    """``'what' not supported on DLT_X (description)``: master's ``fail_kw_on_dlt``."""
    return f"'{what}' not supported on {link_string(link)}"


def not_live(what: str, link: LinkType | str) -> str:
    """A Linux-only meta-data keyword (``inbound``, ``ifindex``...) on a dead handle."""
    return f"not a live capture, '{what}' not supported on {link_string(link)}"


def no_linktype_filtering(link: LinkType | str) -> str:
    """A link type whose header has no protocol field libpcap can test."""
    return f"link-layer type filtering not implemented for {link_string(link)}"
