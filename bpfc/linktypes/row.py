"""The row type of the link-type table: where one link layer's header fields are.

A :class:`LinkType` row says, for one DLT:

* ``off_linktype``: where the link-layer "type" field is (``None``: there is none) and
  ``framing``: how that field encodes the network protocol (see :data:`FRAMINGS`);
* ``off_linkpl``: where the link-layer payload starts; ``off_nl`` / ``off_nl_nosnap``:
  where the network layer starts relative to the payload, for frames with and
  without an LLC/SNAP header (802.2 link types put the network layer after SNAP);
* ``mac``: which MAC address layout ``ether host``/``broadcast``/``multicast`` use;
* ``vlhdr``: the name of a variable-length header whose length a prologue loads
  into a scratch register (radiotap, PPI, AVS, Prism...), ``None`` when fixed;
* ``encaps``: which of ``vlan``/``mpls`` the link type takes (:data:`VLAN_MPLS`...).
"""

from __future__ import annotations

from typing import NamedTuple

#: how the link-layer type field encodes the network protocol
FRAMINGS = (
    "ether",  # Ethernet II ethertype, or an 802.3 length with LLC/SNAP (values <= 1500)
    "llc",  # always 802.2 LLC (+ SNAP for ethertypes): FDDI, Token Ring, IP over FC
    "sll",  # Linux cooked: ethertype, or small "protocol" values for LLC / Novell
    "sll2",  # Linux cooked v2: like sll, field at the start
    "chdlc",  # Cisco HDLC: plain ethertype
    "ppp",  # PPP protocol numbers (ethertypes mapped to PPP ones)
    "ppp_bsdos",  # BSD/OS PPP: PPP protocol, IP also as VJ compressed / uncompressed
    "null_host",  # BSD loopback: AF_ value in host byte order (4 bytes)
    "null_net",  # OpenBSD loopback / enc: AF_ value in network byte order
    "ipnet",  # Solaris ipnet: one byte IPH_AF_INET / IPH_AF_INET6
    "wlan",  # 802.11: a data frame (frame control) carrying 802.2 LLC/SNAP
    "raw",  # no type field: look at the IP version nibble
    "ipv4",  # IPv4 only: the type test is a constant
    "ipv6",  # IPv6 only
    "none",  # nothing known: protocol tests are errors
)


class SS7Offsets(NamedTuple):
    """Where MTP2 fields are (libpcap's off_li, off_li_hsl, off_sio, off_opc/dpc, off_sls).

    The ``h`` forms (high-speed links, Q.703 Annex A) add 3 to sio/opc/dpc/sls."""

    li: int
    li_hsl: int
    sio: int
    opc: int
    dpc: int
    sls: int


#: values of :attr:`LinkType.encaps`
VLAN_MPLS = ("vlan", "mpls")
VLAN_ONLY = ("vlan",)
MPLS_ONLY = ("mpls",)


class LinkType(NamedTuple):
    """One DLT: its names and the layout of its link-layer header.

    A named tuple, not a frozen dataclass: the table builds some 210 rows at start-up,
    and tuples cost a fraction of the time (``row._replace(...)`` derives a row)."""

    name: str
    dlt: int
    off_linktype: int | None
    off_linkpl: int
    framing: str
    off_nl: int = 0
    off_nl_nosnap: int = 0
    mac: str | None = None
    vlhdr: str | None = None
    #: the LINKTYPE_ value files store, where it is not the DLT (bpfc.linktypes.dltmap maps)
    linktype: int | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    #: packet direction in the header: (offset, size, inbound value or None, outbound
    #: value); None inbound means "anything but outbound"
    dir_field: tuple[int, int, int | None, int] | None = None
    #: packet direction as masked bits of one header byte (DSA tags, Juniper flags):
    #: (offset, inbound (mask, value), outbound (mask, value))
    dir_bits: tuple[int, tuple[int, int], tuple[int, int]] | None = None
    #: interface index in the header: (offset, size)
    ifindex_field: tuple[int, int] | None = None
    #: where the link-layer header starts (after a capture pseudo-header)
    off_linkhdr: int = 0
    #: how messages name a DLT libpcap has no name for ("DLT 110"); None: ``DLT_<name>``
    unnamed: str | None = None
    #: the encapsulation primitives libpcap master accepts on this link type (``vlan``,
    #: ``mpls``); the others refuse with "'vlan' not supported on DLT_X"
    encaps: tuple[str, ...] = ()
    #: SS7 MTP2/MTP3 field offsets (``fisu``, ``sio``, ``dpc``...); None: not SS7
    ss7: SS7Offsets | None = None
    #: ``llc`` always holds: every frame is 802.2 (FDDI, Token Ring, ATM LLC)
    llc_always: bool = False

    @property
    def display(self) -> str:
        return self.unnamed or f"DLT_{self.name}"
