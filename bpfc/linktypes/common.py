"""The rows of the common link types (Ethernet, 802.11 and radio headers, PPP, Linux
cooked, loopback, raw IP...) and the names of DLTs bpfc has no header model for.

The data were learnt from libpcap master's listings (offsets of ``ip[0]``, ``link[0]``,
protocol tests), never copied from its source.
"""

from __future__ import annotations

from bpfc.linktypes.row import MPLS_ONLY, VLAN_MPLS, VLAN_ONLY, LinkType

_L = LinkType

#: every link type bpfc knows, in DLT number order within families
LINKTYPES: tuple[LinkType, ...] = (
    _L("NULL", 0, 0, 4, "null_host", description="BSD loopback"),
    _L(
        "EN10MB",
        1,
        12,
        14,
        "ether",
        0,
        3,
        mac="ether",
        aliases=("ETHERNET",),
        description="Ethernet",
        encaps=VLAN_MPLS,
    ),
    _L(
        "IEEE802",
        6,
        14,
        14,
        "llc",
        8,
        3,
        mac="tr",
        aliases=("TOKEN_RING",),
        description="Token Ring",
        llc_always=True,
    ),
    _L("SLIP", 8, None, 16, "raw", description="SLIP", dir_field=(0, 1, 0, 1)),
    _L("PPP", 9, 2, 4, "ppp", description="PPP", encaps=MPLS_ONLY),
    _L("FDDI", 10, 13, 13, "llc", 8, 3, mac="fddi", description="FDDI", llc_always=True),
    _L("RAW", 12, None, 0, "raw", linktype=101, description="raw IPv4/IPv6"),
    _L("SLIP_BSDOS", 15, None, 24, "raw", linktype=102, description="BSD/OS SLIP"),
    _L("PPP_BSDOS", 16, 5, 24, "ppp_bsdos", linktype=103, description="BSD/OS PPP"),
    _L("PPP_SERIAL", 50, 2, 4, "ppp", description="PPP over serial"),
    _L("PPP_ETHER", 51, 6, 8, "ppp", description="PPPoE session"),
    _L(
        "C_HDLC",
        104,
        2,
        4,
        "chdlc",
        0,
        1,
        aliases=("CHDLC",),
        description="Cisco HDLC",
        encaps=MPLS_ONLY,
    ),
    _L("LOOP", 108, 0, 4, "null_net", description="OpenBSD loopback"),
    _L("ENC", 109, 0, 12, "null_host", description="OpenBSD IPsec enc"),
    _L(
        "LINUX_SLL",
        113,
        14,
        16,
        "sll",
        0,
        0,
        mac="sll",
        description="Linux cooked v1",
        dir_field=(0, 2, None, 4),
    ),
    _L("IP_OVER_FC", 122, 16, 16, "llc", 8, 3, mac="ipfc", description="IP over Fibre Channel"),
    _L("PPP_PPPD", 166, 2, 4, "ppp", description="PPP for pppd", dir_field=(0, 1, 0, 1)),
    _L("IPNET", 226, 1, 24, "ipnet", description="Solaris ipnet", dir_field=(2, 2, 2, 1)),
    _L("IPV4", 228, None, 0, "ipv4", description="raw IPv4"),
    # 802.11 family: the payload offset is variable (802.11 header length, QoS, radiotap
    # padding) and so, behind a radio header, is the 802.11 header; bpfc.codegen.vlhdr
    _L(
        "IEEE802_11",
        105,
        24,
        0,
        "wlan",
        8,
        3,
        mac="wlan",
        vlhdr="ieee802_11",
        encaps=VLAN_ONLY,
        description="IEEE 802.11 wireless",
    ),
    _L(
        "PRISM_HEADER",
        119,
        None,
        0,
        "wlan",
        8,
        3,
        mac="wlan",
        vlhdr="prism",
        encaps=VLAN_ONLY,
        description="Prism monitor mode + 802.11",
    ),
    _L(
        "IEEE802_11_RADIO",
        127,
        None,
        0,
        "wlan",
        8,
        3,
        mac="wlan",
        vlhdr="radiotap",
        encaps=VLAN_ONLY,
        description="radiotap + 802.11",
    ),
    _L(
        "IEEE802_11_RADIO_AVS",
        163,
        None,
        0,
        "wlan",
        8,
        3,
        mac="wlan",
        vlhdr="avs",
        encaps=VLAN_ONLY,
        description="AVS monitor mode + 802.11",
    ),
    _L(
        "PPI",
        192,
        None,
        0,
        "wlan",
        8,
        3,
        mac="wlan",
        vlhdr="ppi",
        description="Per-Packet Information + 802.11",
    ),
    _L("IPV6", 229, None, 0, "ipv6", description="raw IPv6"),
    _L(
        "LINUX_SLL2",
        276,
        0,
        20,
        "sll2",
        0,
        0,
        mac="sll2",
        description="Linux cooked v2",
        dir_field=(10, 1, None, 4),
        ifindex_field=(4, 4),
    ),
)

#: other DLTs libpcap knows (numbers as on Linux): names resolve, but bpfc has no
#: knowledge of their headers yet, so protocol tests are refused as libpcap does for
#: link types it cannot filter on.  Modules that support one ``register()`` a real row.
#: (802.11 with its variable-length radio headers is left out: a row without the
#: header model would compile ``link[...]`` wrongly.)
OTHER_DLTS: dict[str, int] = {
    "A429": 184, "A653_ICM": 185, "AOS": 222, "APPLE_IP_OVER_IEEE1394": 138, "ARCNET": 7,
    "ARCNET_LINUX": 129, "ATM_CLIP": 19, "ATM_RFC1483": 11, "ATSC_ALP": 289,
    "AUERSWALD_LOG": 296, "AX25": 3, "AX25_KISS": 202, "BACNET_MS_TP": 165,
    "BLUETOOTH_BREDR_BB": 255, "BLUETOOTH_HCI_H4": 187, "BLUETOOTH_HCI_H4_WITH_PHDR": 201,
    "BLUETOOTH_LE_LL": 251, "BLUETOOTH_LE_LL_WITH_PHDR": 256, "BLUETOOTH_LINUX_MONITOR":
    254, "CAN20B": 190, "CAN_SOCKETCAN": 227, "CHAOS": 5, "DBUS": 231, "DECT": 221,
    "DEBUG_ONLY": 303, "DECT_NR": 301, "DECT_NR_TAP": 304, "DISPLAYPORT_AUX": 275,
    "DOCSIS": 143, "DOCSIS31_XRA31": 273,
    "DSA_TAG_BRCM": 281, "DSA_TAG_BRCM_PREPEND": 282, "DSA_TAG_DSA": 284, "DSA_TAG_EDSA":
    285, "DVB_CI": 235, "EBHSCR": 279, "EDK2_MM": 302, "ELEE": 286, "EN3MB": 2, "EPON": 259,
    "ERF": 197,
    "ERF_ETH": 175, "ERF_POS": 176, "ETHERNET_MPACKET": 274, "ETW": 290, "FC_2": 224,
    "FC_2_WITH_FRAME_DELIMS": 225, "FIRA_UCI": 299, "FRELAY": 107, "GPF_F": 171, "GPF_T":
    170, "GPRS_LLC": 169, "I2C_LINUX": 209, "IEEE802_15_4": 195, "IEEE802_15_4_LINUX": 191,
    "IEEE802_15_4_NOFCS": 230, "IEEE802_15_4_NONASK_PHY": 215, "IEEE802_15_4_TAP": 283,
    "IEEE802_16_MAC_CPS": 188, "IEEE802_16_MAC_CPS_RADIO": 193, "INFINIBAND": 247,
    "IPMB_KONTRON": 199, "IPMI_HPM_2": 260, "IPOIB": 242, "ISO_14443": 264, "JUNIPER_ATM1":
    137, "JUNIPER_ATM2": 135, "JUNIPER_ATM_CEMIC": 238, "JUNIPER_CHDLC": 181, "JUNIPER_ES":
    132, "JUNIPER_ETHER": 178, "JUNIPER_FIBRECHANNEL": 234, "JUNIPER_FRELAY": 180,
    "JUNIPER_GGSN": 133, "JUNIPER_ISM": 194, "JUNIPER_MFR": 134, "JUNIPER_MLFR": 131,
    "JUNIPER_MLPPP": 130, "JUNIPER_MONITOR": 164, "JUNIPER_PIC_PEER": 174, "JUNIPER_PPP":
    179, "JUNIPER_PPPOE": 167, "JUNIPER_PPPOE_ATM": 168, "JUNIPER_SERVICES": 136,
    "JUNIPER_SRX_E2E": 233, "JUNIPER_ST": 200, "JUNIPER_VP": 183, "JUNIPER_VS": 232,
    "LINUX_EVDEV": 216, "LINUX_IRDA": 144, "LINUX_LAPD": 177, "LTALK": 114, "MDB": 300,
    "MFR": 182, "MPEG_2_TS": 243, "MPLS": 219, "MTP2": 140, "MTP2_WITH_PHDR": 139, "MTP3":
    141, "MUX27010": 236, "NETANALYZER": 240, "NETANALYZER_NG": 291,
    "NETANALYZER_TRANSPARENT": 241, "NETLINK": 253, "NFC_LLCP": 245, "NFLOG": 239, "NG40":
    244, "NORDIC_BLE": 272, "OPENFLOW": 267, "OPENVIZSLA": 278, "PFLOG": 117, "PFSYNC": 246,
    "PKTAP": 258, "PROFIBUS_DL": 257, "PRONET": 4, "RAIF1": 198, "RDS": 265,
    "REDBACK_SMARTEDGE": 32, "RTAC_SERIAL": 250, "SCCP": 142, "SCTP": 248, "SDLC": 268,
    "SILABS_DEBUG_CHANNEL": 298, "SITA": 196, "STANAG_5066_D_PDU": 237, "SUNATM": 123,
    "SYMANTEC_FIREWALL": 99, "TI_LLN_SNIFFER": 269, "USBPCAP": 249, "USB_2_0": 288,
    "USB_2_0_FULL_SPEED": 294, "USB_2_0_HIGH_SPEED": 295, "USB_2_0_LOW_SPEED": 293,
    **{f"USER{n}": 147 + n for n in range(16)},  # private use
    "USB_DARWIN": 266, "USB_FREEBSD": 186, "USB_LINUX": 189, "USB_LINUX_MMAPPED": 220,
    "VPP_DISPATCH": 280, "VSOCK": 271, "WATTSTOPPER_DLM": 263, "WIHART": 223, "ZBOSS_NCP":
    292, "ZWAVE_R1_R2": 261, "ZWAVE_R3": 262, "ZWAVE_TAP": 297, "Z_WAVE_SERIAL": 287,
}  # fmt: skip
