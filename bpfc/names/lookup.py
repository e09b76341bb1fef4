"""Lookups in the bundled tables, with libpcap's matching rules.

Protocol names (``ip proto NAME``) and service names (``port NAME``) are case-sensitive, as
``getprotobyname``/``getservbyname`` are; Ethernet-type and LLC names match exactly, as in
``pcap_nametoeproto``; 802.11, LLC-kind and pflog names match case-insensitively, as
libpcap's ``str2tok`` does.  Each function returns ``None`` when the name is unknown: the
code generator owns the error messages (it knows the span and the context).
"""

from __future__ import annotations

from bpfc.names import tables

TCP, UDP, SCTP = "tcp", "udp", "sctp"


def ip_proto(name: str) -> int | None:
    """IP protocol number of ``name`` (``tcp`` -> 6), as ``pcap_nametoproto``."""
    return tables.IP_PROTOCOLS.get(name)


def ether_proto(name: str) -> int | None:
    """Ethernet type of ``name`` (``ip`` -> 0x0800), as ``pcap_nametoeproto``."""
    return tables.ETHER_PROTOCOLS.get(name)


def llc_sap(name: str) -> int | None:
    """LLC SAP of ``name`` (``stp`` -> 0x42), as ``pcap_nametollc``."""
    return tables.LLC_SAPS.get(name)


def nametoport(name: str) -> tuple[int, str | None] | None:
    """``(port, protocol)`` for a service name, as libpcap's ``pcap_nametoport``.

    The TCP entry wins; ``protocol`` is ``None`` ("either") when the UDP entry has the same
    port, ``"tcp"`` when it differs or is missing, ``"udp"`` for a UDP-only name and
    ``"sctp"`` for an SCTP-only name.  ``None`` when the name is not a service."""
    entry = tables.SERVICES.get(name)
    if entry is None:
        return None
    tcp, udp, sctp = entry
    if tcp is not None:
        return (tcp, None if udp == tcp else TCP)
    if udp is not None:
        return (udp, UDP)
    if sctp is not None:
        return (sctp, SCTP)
    return None


def service(name: str, proto: str | None = None) -> int | None:
    """The port of service ``name`` for ``port``/``portrange`` under protocol qualifier
    ``proto`` (``None``, ``"tcp"``, ``"udp"`` or ``"sctp"``).

    ``None`` when libpcap would reject the pair: unknown name, or a name whose
    :func:`nametoport` protocol is another one (libpcap: ``port 'NAME' is tcp``)."""
    found = nametoport(name)
    if found is None:
        return None
    port, real = found
    if proto is None or real is None or real == proto:
        return port
    return None


def service_conflict(name: str, proto: str | None) -> str | None:
    """The protocol that makes ``proto port NAME`` invalid (for ``port 'NAME' is tcp``), or
    ``None`` when the pair is fine or the name unknown."""
    found = nametoport(name)
    if found is None or proto is None or found[1] is None or found[1] == proto:
        return None
    return found[1]


def port_range(text: str, proto: str | None = None) -> tuple[int, int] | None:
    """``(low, high)`` of a ``portrange`` id: ``N-M`` numbers or ``name-name`` services
    (as ``pcap_nametoportrange``); ``None`` when either end is unknown."""
    first, sep, second = text.partition("-")
    if not sep:
        return None
    if first.isdigit() and second.isdigit():
        return int(first), int(second)
    low, high = service(first, proto), service(second, proto)
    if low is None or high is None:
        return None
    return low, high


def wlan_type(name: str) -> int | None:
    """802.11 type value of ``name`` (``mgt`` -> 0x00, ``data`` -> 0x08)."""
    return tables.WLAN_TYPES.get(name.lower())


def wlan_subtype(name: str, wlan_type: int | None = None) -> int | None:
    """Subtype bits of ``name`` within ``wlan_type``; with no type, the first type that
    knows the name, and the result includes the type bits (``subtype beacon`` -> 0x80)."""
    key = name.lower()
    if wlan_type is not None:
        return tables.WLAN_SUBTYPES.get(wlan_type, {}).get(key)
    for type_value, subtypes in tables.WLAN_SUBTYPES.items():
        if key in subtypes:
            return subtypes[key] | type_value
    return None


def wlan_dir(name: str) -> int | None:
    """802.11 ``dir`` value of ``nods``/``tods``/``fromds``/``dstods``."""
    return tables.WLAN_DIRS.get(name.lower())


def llc_kind(name: str) -> tuple[str, int | None] | None:
    """``llc KIND``: ``("i"|"s"|"u", None)`` for a frame format, ``("s", value)`` or
    ``("u", value)`` for a subtype; ``None`` for an unknown name."""
    key = name.lower()
    if key in ("i", "s", "u"):
        return (key, None)
    if key in tables.LLC_S_SUBTYPES:
        return ("s", tables.LLC_S_SUBTYPES[key])
    if key in tables.LLC_U_SUBTYPES:
        return ("u", tables.LLC_U_SUBTYPES[key])
    return None


def pf_reason(name: str) -> int | None:
    """pflog reason code of ``name``."""
    return tables.PF_REASONS.get(name.lower())


def pf_action(name: str) -> int | None:
    """pflog action code of ``name``."""
    return tables.PF_ACTIONS.get(name.lower())
