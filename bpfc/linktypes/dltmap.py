"""Capture-file LINKTYPE_* values <-> this platform's DLT_* values, as libpcap maps them.

Capture files name their link layer with a LINKTYPE_ value, which is the same on every
platform; a handle (and so ``pcap_compile``) works with DLT_ values, some of which differ
between platforms.  libpcap translates when it opens a file (``linktype_to_dlt``) and
when it writes one (``dlt_to_linktype``).  bpfc's DLT numbers are Linux's, so this is
the Linux build's translation:

* both "matching" ranges (0-10 and 104-304) are the same number on both sides;
* a few DLTs had platform-dependent numbers and were given LINKTYPE_ values just below
  the high range: :data:`LINKTYPE_TO_DLT` (100 ATM_RFC1483, 101 RAW, 102 SLIP_BSDOS,
  103 PPP_BSDOS, and 106 ATM_CLIP, which is inside the high range);
* any other file value is passed through unchanged (it may be a DLT written by a tool
  that did not translate, or a newer value), which a compile may then refuse;
* writing, DLTs outside both ranges with no LINKTYPE_ value of their own
  (:data:`SAME_OUTSIDE_RANGES`) have none: :func:`dlt_to_linktype` returns None.
"""

from __future__ import annotations

#: values that mean the same link layer on every platform
LOW_MATCHING = range(0, 10 + 1)
HIGH_MATCHING = range(104, 304 + 1)

#: file LINKTYPE_ values that are a different DLT_ value on Linux
LINKTYPE_TO_DLT: dict[int, int] = {
    100: 11,  # ATM_RFC1483: LLC/SNAP-encapsulated ATM
    101: 12,  # RAW: raw IP
    102: 15,  # SLIP_BSDOS
    103: 16,  # PPP_BSDOS
    106: 19,  # ATM_CLIP: Linux classical IP over ATM (106 is in the high range)
}
DLT_TO_LINKTYPE: dict[int, int] = {dlt: lt for lt, dlt in LINKTYPE_TO_DLT.items()}

#: DLTs outside both ranges written under their own number (REDBACK_SMARTEDGE,
#: PPP_SERIAL, PPP_ETHER, SYMANTEC_FIREWALL)
SAME_OUTSIDE_RANGES = frozenset({32, 50, 51, 99})


def _check(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {value}")
    return value


def linktype_to_dlt(linktype: int) -> int:
    """The DLT_ value of a capture file's LINKTYPE_ value (libpcap's ``linktype_to_dlt``)."""
    linktype = _check("linktype", linktype)
    if linktype in LOW_MATCHING:
        return linktype
    return LINKTYPE_TO_DLT.get(linktype, linktype)


def dlt_to_linktype(dlt: int) -> int | None:
    """The LINKTYPE_ value a capture file stores for ``dlt``; None when it has none."""
    dlt = _check("dlt", dlt)
    if dlt in LOW_MATCHING:
        return dlt
    if dlt in DLT_TO_LINKTYPE:
        return DLT_TO_LINKTYPE[dlt]
    if dlt in HIGH_MATCHING or dlt in SAME_OUTSIDE_RANGES:
        return dlt
    return None
