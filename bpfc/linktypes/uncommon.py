"""Rows for the less common link types bpfc filters on (ARCnet, BACnet MS/TP, DSA tags,
Frame Relay, the Juniper family, netANALYZER, LocalTalk, ATM LLC, IP over FireWire,
Symantec firewall, NetBSD HDLC).

Kept apart from :mod:`bpfc.linktypes` so that table stays readable; that module
registers these rows when it is imported, over the name-only entries it keeps
for DLTs it knows nothing about.  The data were learnt from libpcap master's
listings and the system libpcap's ``tcpdump -d`` output (offsets of ``ip[0]``,
``link[0]``, ``clnp``...), never copied from its source.

Framings introduced here (generators in :mod:`bpfc.codegen.arcnet` and
:mod:`bpfc.codegen.juniper_fr_dsa`):

* ``arcnet``: one-byte ARCnet protocol ids (RFC 1201 only, as libpcap master);
* ``ethertype``: a plain 16-bit ethertype, with no 802.3/LLC alternative;
* ``frelay``: the Q.933 NLPID after a 2-byte address (``0x03cc`` is IPv4);
* ``juniper``: only the 3-byte Juniper magic is checked, whatever the protocol;
* ``ltalk``: LocalTalk carries only AppleTalk.

``OFFSET_NOT_SET`` (-1) is libpcap's marker for "this header has no fixed
network-layer offset"; loads relative to it wrap around as in libpcap (the
program then rejects the packet), so verdicts stay identical.
"""

from __future__ import annotations

from bpfc.linktypes.row import MPLS_ONLY, VLAN_MPLS, LinkType

#: libpcap's marker for an unknown offset (loads wrap to 0xffffffff + k)
OFFSET_NOT_SET = -1

#: framings added by this module (see the module docstring)
EXTRA_FRAMINGS = ("arcnet", "ethertype", "frelay", "juniper", "ltalk")

#: the rows' ``mac`` layouts ``arcnet`` and ``bacnet`` (one-byte addresses) are described
#: in :data:`bpfc.codegen.arcnet.MAC8_LAYOUTS`, beside the fixed 48-bit layouts of
#: :data:`bpfc.codegen.link.MAC_LAYOUTS`

_L = LinkType
_NS = OFFSET_NOT_SET

#: Juniper DLTs: name, number, off_linktype, off_linkpl, off_nl, off_nl_nosnap
JUNIPER_HEADERS = (
    ("JUNIPER_MLPPP", 130, 4, 4, 0, _NS),
    ("JUNIPER_MLFR", 131, 4, 4, 0, _NS),
    ("JUNIPER_ES", 132, 6, _NS, _NS, _NS),
    ("JUNIPER_GGSN", 133, 6, 12, 0, _NS),
    ("JUNIPER_MFR", 134, 4, 4, 0, _NS),
    ("JUNIPER_ATM2", 135, 8, 8, 0, 10),
    ("JUNIPER_SERVICES", 136, 12, _NS, _NS, _NS),
    ("JUNIPER_ATM1", 137, 4, 4, 0, 10),
    ("JUNIPER_MONITOR", 164, 12, 12, 0, _NS),
    ("JUNIPER_PPPOE", 167, 16, 14, 18, 21),
    ("JUNIPER_PPPOE_ATM", 168, 4, 6, 0, _NS),
    ("JUNIPER_ETHER", 178, 16, 14, 18, 21),
    ("JUNIPER_PPP", 179, 4, 4, 0, _NS),
    ("JUNIPER_FRELAY", 180, 4, 4, 0, _NS),
    ("JUNIPER_CHDLC", 181, 4, 4, 0, _NS),
    ("JUNIPER_VP", 183, 18, _NS, _NS, _NS),
    ("JUNIPER_ISM", 194, 8, _NS, _NS, _NS),
    ("JUNIPER_ST", 200, 18, _NS, _NS, _NS),
    ("JUNIPER_VS", 232, 8, _NS, _NS, _NS),
    ("JUNIPER_SRX_E2E", 233, 8, _NS, _NS, _NS),
    ("JUNIPER_FIBRECHANNEL", 234, 8, _NS, _NS, _NS),
    ("JUNIPER_ATM_CEMIC", 238, 8, _NS, _NS, _NS),
)

MORE_LINKTYPES: tuple[LinkType, ...] = (
    _L("ARCNET", 7, 2, 6, "arcnet", mac="arcnet", description="ARCnet (BSD header)"),
    _L("ATM_RFC1483", 11, 0, 0, "llc", 8, 3, description="LLC/SNAP-encapsulated ATM",
       llc_always=True),
    _L("ATM_CLIP", 19, 0, 0, "llc", 8, 3, description="Linux classical IP over ATM"),
    _L("SYMANTEC_FIREWALL", 99, 6, 44, "ethertype", description="Symantec firewall"),
    _L("FRELAY", 107, None, 0, "frelay", description="Frame Relay"),
    _L("LTALK", 114, None, 0, "ltalk", description="Apple LocalTalk"),
    _L("ARCNET_LINUX", 129, 4, 8, "arcnet", mac="arcnet", description="ARCnet (Linux header)"),
    _L("HDLC", 112, 2, 4, "chdlc", 0, 1, unnamed="DLT 112",
       description="NetBSD HDLC (as Cisco HDLC)", encaps=MPLS_ONLY),
    _L("APPLE_IP_OVER_IEEE1394", 138, 16, 18, "ethertype", description="IP over FireWire"),
    _L("BACNET_MS_TP", 165, None, _NS, "none", _NS, _NS, mac="bacnet", description="BACnet"),
    _L("NETANALYZER", 240, 16, 18, "ether", 0, 3, mac="ether", off_linkhdr=4,
       description="Hilscher netANALYZER", encaps=VLAN_MPLS),
    _L("NETANALYZER_TRANSPARENT", 241, 24, 26, "ether", 0, 3, mac="ether", off_linkhdr=12,
       description="Hilscher netANALYZER, with preamble", encaps=VLAN_MPLS),
    _L("DSA_TAG_BRCM", 281, 16, 18, "ether", 0, 3, mac="ether", description="Broadcom tag",
       dir_bits=(12, (0xE0, 0x00), (0xE0, 0x20)), encaps=VLAN_MPLS),  # opcode bits of the tag
    _L("DSA_TAG_DSA", 284, 16, 18, "ether", 0, 3, mac="ether", description="Marvell DSA tag",
       dir_bits=(12, (0x40, 0x00), (0xC0, 0x40)), encaps=VLAN_MPLS),  # To_CPU vs From_CPU
    *(_L(name, dlt, lt, pl, "juniper", nl, nosnap, description="Juniper",
         dir_bits=(3, (0x01, 0x01), (0x01, 0x00)))  # the flags byte after the magic
      for name, dlt, lt, pl, nl, nosnap in JUNIPER_HEADERS),
)  # fmt: skip
