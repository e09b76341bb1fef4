"""Rows for the link types whose headers carry fields with primitives of their own:
OpenBSD pflog (``ifname``, ``rnr``, ``reason``, ``action``...), SunATM (``vpi``, ``vci``,
``lane``, ``oam``...) and SS7 MTP2 (``fisu``, ``sio``, ``opc``, ``dpc``, ``sls``...).

Kept apart from :mod:`bpfc.linktypes` (which registers these rows when it is imported)
because each needs more than offsets: the generators are in :mod:`bpfc.codegen.pflog`,
:mod:`bpfc.codegen.atm` and :mod:`bpfc.codegen.mtp`.  Layouts were learnt from libpcap
master's listings and the pflog/SunATM/Q.703 header formats, never copied from code.

* pflog: the header length is its first byte (rounded up to 4), so the payload offset is
  variable (``vlhdr="pflog"``: a prologue loads it); the address family is byte 1 (in
  the capturing host's byte order: Linux values, as libpcap on Linux), the direction is
  byte 60 (1 in, 2 out).
* SunATM: a 4-byte pseudo-header (flags with the payload type in the low nibble, VPI,
  VCI) before an LLC-encapsulated payload; ``lane`` switches everything after it to
  LAN-emulated Ethernet (:data:`LANE`).
* MTP2 and friends have no network layer: only ``link[...]`` and the SS7 fields, whose
  offsets are the rows' ``ss7`` field (:data:`SS7_OFFSETS` lists them).
"""

from __future__ import annotations

from bpfc.linktypes.row import VLAN_MPLS, LinkType, SS7Offsets

#: libpcap's marker for "no such header here" (loads relative to it wrap, as libpcap's)
OFFSET_NOT_SET = -1

#: pflog header: field offsets (struct pfloghdr) and sizes
PFLOG_AF, PFLOG_ACTION, PFLOG_REASON = 1, 2, 3
PFLOG_IFNAME, PFLOG_RULESET, PFLOG_NAME_SIZE = 4, 20, 16
PFLOG_RULENR, PFLOG_SUBRULENR, PFLOG_DIR = 36, 40, 60
PF_IN, PF_OUT = 1, 2

#: SunATM pseudo-header: flags/payload type, VPI, VCI; the payload follows it
SUNATM_PROTO, SUNATM_VPI, SUNATM_VCI, SUNATM_PAYLOAD = 0, 1, 2, 4
#: LANE data frames carry a 2-byte LE header before the Ethernet header
LANE_HDR_LEN = 2


_L = LinkType
_NS = OFFSET_NOT_SET

ROWS: tuple[LinkType, ...] = (
    _L("PFLOG", 117, 0, 0, "pflog", vlhdr="pflog", description="OpenBSD pflog",
       dir_field=(PFLOG_DIR, 1, PF_IN, PF_OUT)),
    _L("SUNATM", 123, SUNATM_PAYLOAD, SUNATM_PAYLOAD, "sunatm", 8, 3,
       description="SunATM pseudo-header + AAL5"),
    # SS7 fields (the row's ss7 offsets; a pseudo-header shifts them)
    _L("MTP2_WITH_PHDR", 139, None, _NS, "none", _NS, _NS,
       description="SS7 MTP2 with pseudo-header", ss7=SS7Offsets(6, 8, 7, 8, 8, 11)),
    _L("MTP2", 140, None, _NS, "none", _NS, _NS, description="SS7 MTP2",
       ss7=SS7Offsets(2, 4, 3, 4, 4, 7)),
    _L("ERF", 197, None, _NS, "none", _NS, _NS, description="Endace ERF",
       ss7=SS7Offsets(22, 24, 23, 24, 24, 27)),
)  # fmt: skip

#: link types with SS7 fields -> their offsets: a view of the rows' ``ss7`` field
SS7_OFFSETS: dict[str, SS7Offsets] = {row.name: row.ss7 for row in ROWS if row.ss7 is not None}

#: SunATM after ``lane``: LAN-emulated Ethernet behind the pseudo-header and LE header.
#: libpcap switches its link type to Ethernet here, so names and messages are Ethernet's;
#: the ``lane`` MAC layout adds the "not an LE control frame" check to MAC tests.
#: ``vlan``/``mpls`` after ``lane`` are accepted as on Ethernet (libpcap checks the
#: link type, now DLT_EN10MB), so the row takes Ethernet's ``encaps``.
LANE = _L("EN10MB", 1, SUNATM_PAYLOAD + LANE_HDR_LEN + 12, SUNATM_PAYLOAD + LANE_HDR_LEN + 14,
          "lane", 0, 3, mac="lane", off_linkhdr=SUNATM_PAYLOAD + LANE_HDR_LEN,
          description="SunATM LANE (Ethernet)", encaps=VLAN_MPLS)  # fmt: skip
