"""Address spellings: IPv4 (full and abbreviated), DECnet, ARCnet and MAC addresses.

These restate libpcap's own parsers (``atoin``, ``atodn``, ``atoan``, ``pcap_ether_aton``)
so that bpfc accepts and rejects exactly the same strings.  Every function returns
``None`` for a string libpcap refuses; none of them raises.
"""

from __future__ import annotations

import re

_HEX = "0123456789abcdefABCDEF"
_DECIMAL_PART = re.compile(r"[0-9]+")
_MAC_FORMS = (
    re.compile(r"([0-9A-Fa-f]{1,2})" + r":([0-9A-Fa-f]{1,2})" * 5),
    re.compile(r"([0-9A-Fa-f]{1,2})" + r"-([0-9A-Fa-f]{1,2})" * 5),
    re.compile(r"([0-9A-Fa-f]{1,2})" + r"\.([0-9A-Fa-f]{1,2})" * 5),
    re.compile(r"([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})\.([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})"
               r"\.([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})"),
    re.compile(r"([0-9A-Fa-f]{2})" * 6),
)  # fmt: skip


def parse_ipv4(text: str) -> tuple[int, int] | None:
    """``(value, bits)`` of a dotted IPv4 address of 1-4 decimal parts, each 0-255;
    ``bits`` is 8 per part written, and ``value`` is right-aligned
    (``"10.1"`` -> ``(0x0A01, 16)``), as libpcap's ``atoin`` returns them."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    value = 0
    for part in parts:
        if not _DECIMAL_PART.fullmatch(part) or int(part) > 255:
            return None
        value = (value << 8) | int(part)
    return value, 8 * len(parts)


def parse_decnet(text: str) -> int | None:
    """A DECnet ``area.node`` address as its 16-bit value (area <= 63, node <= 1023)."""
    parts = text.split(".")
    if len(parts) != 2 or not all(_DECIMAL_PART.fullmatch(p) for p in parts):
        return None
    area, node = int(parts[0]), int(parts[1])
    if area > 63 or node > 1023:
        return None
    return (area << 10) | node


def parse_arcnet(text: str) -> int | None:
    """An ARCnet address ``$x`` or ``$xx`` (hex) as its byte value."""
    if not (2 <= len(text) <= 3 and text[0] == "$" and all(c in _HEX for c in text[1:])):
        return None
    return int(text[1:], 16)


def ether_aton(text: str) -> bytes | None:
    """The 6 bytes of a MAC address written ``a:b:c:d:e:f``, ``a-b-c-d-e-f``,
    ``a.b.c.d.e.f`` (1-2 hex digits each), ``aabb.ccdd.eeff`` or ``aabbccddeeff``."""
    for form in _MAC_FORMS:
        m = form.fullmatch(text)
        if m:
            return bytes(int(g, 16) for g in m.groups())
    return None


def format_mac(octets: bytes) -> str:
    """``01:02:03:04:05:06`` (lowercase, two digits each)."""
    return ":".join(f"{b:02x}" for b in octets)


def inet_network(text: str) -> int | None:
    """A network number as ``getnetbyname``/``inet_network`` give it: 1-4 parts, each
    decimal, ``0x`` hex or ``0`` octal, right-aligned (``"10.20"`` -> ``0x0A14``)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    value = 0
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                number = int(part[2:], 16)
            elif len(part) > 1 and part.startswith("0"):
                number = int(part[1:], 8)
            else:
                number = int(part, 10)
        except ValueError:
            return None
        if number > 255 or part.startswith(("+", "-")):
            return None
        value = (value << 8) | number
    return value
