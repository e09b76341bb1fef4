"""The link type libpcap gives a live Linux interface, read from sysfs without opening it.

``tcpdump -i IFACE -d EXPR`` opens a capture on IFACE only to learn its link type: libpcap's
Linux backend asks the kernel for the device's ARP hardware type (``ARPHRD_*``) and maps it
to a DLT, falling back to a cooked (``LINUX_SLL``) socket for types it does not handle raw.
The same facts are in ``/sys/class/net/IFACE/`` (``type``, ``flags``, ``wireless/``,
``dsa/tagging``), readable by anyone, so ``bpfc -i IFACE`` and :mod:`bpfc.scapy` compile
for the interface exactly as libpcap master would, with no capture, no privilege and no
libpcap.  The mapping below is libpcap master's ``map_arphrd_to_dlt`` and ``setup_socket``
(``pcap-linux.c``), written from its behaviour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from bpfc.errors import BpfcError

SYSFS = "/sys/class/net"

IFF_UP = 0x1

SLL2_HDR_LEN = 20
"""A cooked socket's snapshot length is at least this plus one (libpcap's ``setup_socket``)."""

# ARPHRD_* (linux/if_arp.h) -> the DLT name libpcap captures with on a raw socket.
# None: libpcap falls back to a cooked socket (DLT_LINUX_SLL).
ARPHRD_TO_DLT: dict[int, str | None] = {
    1: "EN10MB",  # ETHER (Wi-Fi, DSA and cdma_rmnet devices: see linktype())
    2: "EN3MB",  # EETHER
    3: "AX25_KISS",  # AX25
    4: "PRONET",  # PRONET
    5: "CHAOS",  # CHAOS
    6: "IEEE802",  # IEEE802
    7: "ARCNET_LINUX",  # ARCNET
    15: "RAW",  # DLCI
    18: "IP_OVER_FC",  # RFC 4338 IP over Fibre Channel (no ARPHRD_ name)
    19: None,  # ATM: cooked
    23: "EN10MB",  # METRICOM
    256: "RAW",  # SLIP
    257: "RAW",  # CSLIP
    258: "RAW",  # SLIP6
    259: "RAW",  # CSLIP6
    264: "RAW",  # ADAPT
    280: "CAN_SOCKETCAN",  # CAN
    512: None,  # PPP: cooked
    513: "C_HDLC",  # CISCO (= HDLC)
    518: "RAW",  # RAWHDLC
    768: "RAW",  # TUNNEL
    770: "FRELAY",  # FRAD
    772: "EN10MB",  # LOOPBACK
    773: "LTALK",  # LOCALTLK
    774: "FDDI",  # FDDI
    776: "RAW",  # SIT
    783: "LINUX_IRDA",  # IRDA
    784: "FC_2",  # FCPP
    785: "FC_2",  # FCAL
    786: "FC_2",  # FCPL
    787: "FC_2",  # FCFABRIC
    800: "IEEE802",  # IEEE802_TR
    801: "IEEE802_11",  # IEEE80211
    802: "PRISM_HEADER",  # IEEE80211_PRISM
    803: "IEEE802_11_RADIO",  # IEEE80211_RADIOTAP
    804: "IEEE802_15_4_NOFCS",  # IEEE802154
    824: "NETLINK",  # NETLINK
    826: "VSOCK",  # VSOCKMON
    8445: "LINUX_LAPD",  # LAPD
    0xFFFE: "RAW",  # NONE (tun, wireguard)
}

# /sys/class/net/IFACE/dsa/tagging -> DLT (master: a tag not listed is DEBUG_ONLY)
DSA_TAGS = {
    "brcm": "DSA_TAG_BRCM",
    "brcm-prepend": "DSA_TAG_BRCM_PREPEND",
    "dsa": "DSA_TAG_DSA",
    "edsa": "DSA_TAG_EDSA",
}

# ARPHRD -> the link types the device offers (tcpdump -y), its default first; a type not
# listed offers only its default.
_ALTERNATIVES = {
    1: ("EN10MB", "DOCSIS"),
    784: ("FC_2", "FC_2_WITH_FRAME_DELIMS", "IP_OVER_FC"),
    785: ("FC_2", "FC_2_WITH_FRAME_DELIMS", "IP_OVER_FC"),
    786: ("FC_2", "FC_2_WITH_FRAME_DELIMS", "IP_OVER_FC"),
    787: ("FC_2", "FC_2_WITH_FRAME_DELIMS", "IP_OVER_FC"),
}


class InterfaceError(BpfcError, OSError):
    """An interface that libpcap could not open for capture (tcpdump's wording)."""


@dataclass(frozen=True)
class InterfaceLink:
    """What compiling for a live interface needs: its default link type (a DLT name),
    the ones ``-y`` may choose, and whether libpcap captures on it in cooked mode."""

    name: str
    linktype: str
    linktypes: tuple[str, ...]
    cooked: bool

    def snaplen(self, requested: int) -> int:
        """The snapshot length libpcap activates with for ``requested`` (0: the maximum)."""
        value = requested if 0 < requested <= 262144 else 262144
        return max(value, SLL2_HDR_LEN + 1) if self.cooked else value

    def choose(self, linktype: str | None) -> str:
        """The link type for ``-y linktype`` (None: the default), as ``pcap_set_datalink``."""
        if linktype is None:
            return self.linktype
        from bpfc.linktypes import lookup

        wanted = lookup(linktype).name
        if wanted not in self.linktypes:
            raise InterfaceError(f"{wanted} is not one of the DLTs supported by this device")
        return wanted


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _check_name(name: str) -> None:
    if not name or "/" in name or name in (".", "..") or "\0" in name or len(name) > 15:
        raise InterfaceError(f"{name}: No such device exists")


def linktype(name: str, *, sysfs: str = SYSFS) -> InterfaceLink:
    """The link type(s) libpcap master gives interface ``name`` on Linux.

    ``any`` is the cooked pseudo-device (libpcap's default ``LINUX_SLL``; tcpdump asks
    for ``LINUX_SLL2`` on it).  Raises :class:`InterfaceError` with tcpdump's words
    for a device that does not exist or is down, as ``pcap_activate`` refuses them.
    """
    if name == "any":
        return InterfaceLink(name, "LINUX_SLL", ("LINUX_SLL", "LINUX_SLL2"), cooked=True)
    _check_name(name)
    base = os.path.join(sysfs, name)
    arphrd_text = _read(os.path.join(base, "type"))
    if arphrd_text is None:
        raise InterfaceError(f"{name}: No such device exists")
    flags = _read(os.path.join(base, "flags"))
    if flags is not None and not int(flags, 16) & IFF_UP:
        raise InterfaceError(f"{name}: That device is not up")
    arphrd = int(arphrd_text)
    dlt = ARPHRD_TO_DLT.get(arphrd)
    offered = _ALTERNATIVES.get(arphrd)
    if arphrd == 1:
        if name.startswith("cdma_rmnet"):
            return InterfaceLink(name, "RAW", ("RAW",), cooked=False)
        if os.path.exists(os.path.join(base, "wireless")):
            offered = None  # no DOCSIS on Wi-Fi
        else:
            tag = _read(os.path.join(base, "dsa", "tagging"))
            if tag is not None and tag != "none":
                dlt = DSA_TAGS.get(tag, "DEBUG_ONLY")
                return InterfaceLink(name, dlt, (dlt,), cooked=False)
    if dlt == "EN10MB" and name.startswith(("isdn", "isdY")):
        dlt = None
    if dlt in (None, "LINUX_IRDA", "LINUX_LAPD", "NETLINK"):
        cooked_dlt = dlt or "LINUX_SLL"  # a cooked socket offers no other type
        return InterfaceLink(name, cooked_dlt, (cooked_dlt,), cooked=True)
    return InterfaceLink(name, dlt, offered or (dlt,), cooked=False)
