"""Link-layer framing for every DLT bpfc compiles for.

``frame(linktype, ethertype, payload)`` wraps a network-layer packet (named by its
Ethernet type, the lingua franca libpcap uses too) in the link header of
``linktype``, translating the type into that link's encoding: PPP protocol numbers,
BSD address families (in both byte orders for NULL/ENC), ARCnet types, LLC/SNAP for
FDDI/token ring/802.11/ATM, and so on.  It returns ``None`` when the link type cannot
carry that network protocol, so callers can simply skip.  Offsets were checked
against the listings ``tcpdump -y DLT -d ip`` prints.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from bpfc.packetgen.ether import PPP_PROTO, ether, mac, snap

IP, IP6, ARP, RARP = 0x0800, 0x86DD, 0x0806, 0x8035
SRC_MAC = mac("02:00:00:00:00:01")
DST_MAC = mac("02:00:00:00:00:02")

# BSD address families for IPv4 and the IPv6 values of the various BSDs and Linux.
AF_INET = 2
AF_INET6_ALL = (24, 28, 30, 10)
ARC_TYPE = {IP: 0xD4, ARP: 0xD5, RARP: 0xD6, IP6: 0xC4, 0x809B: 0xDD}

Framer = Callable[[int, bytes, bytes, bytes, int], "bytes | None"]


def _is_ip(ethertype: int) -> bool:
    return ethertype in (IP, IP6)


def _af(ethertype: int, variant: int) -> int | None:
    if ethertype == IP:
        return AF_INET
    if ethertype == IP6:
        return AF_INET6_ALL[(variant // 2) % len(AF_INET6_ALL)]
    return None


def _en10mb(et, payload, src, dst, variant):
    return ether(dst, src, et, payload)


def _null(order: str) -> Framer:
    def build(et, payload, src, dst, variant):
        af = _af(et, variant)
        if af is None:
            return None
        # Variants alternate byte order: libpcap accepts the savefile's order only.
        fmt = order if variant % 2 == 0 else ("<I" if order == ">I" else ">I")
        return struct.pack(fmt, af) + payload

    return build


def _enc(et, payload, src, dst, variant):
    af = _af(et, 2 * variant)
    if af is None:
        return None
    return struct.pack("<III", af, 0x100, 0) + payload


def _raw(kind: int | None) -> Framer:
    def build(et, payload, src, dst, variant):
        if kind is None:
            return payload if _is_ip(et) else None
        return payload if et == kind else None

    return build


def _sll(et, payload, src, dst, variant):
    pkttype = variant % 5  # host, broadcast, multicast, otherhost, outgoing
    return struct.pack("!HHH8sH", pkttype, 1, 6, src + b"\0\0", et) + payload


def _sll2(et, payload, src, dst, variant):
    return struct.pack("!HHIHBB8s", et, 0, 1 + variant % 3, 1, variant % 5, 6, src + b"\0\0") + (
        payload
    )


def _ppp(prefix: bytes) -> Framer:
    def build(et, payload, src, dst, variant):
        proto = PPP_PROTO.get(et)
        return None if proto is None else prefix + struct.pack("!H", proto) + payload

    return build


def _ppp_bsdos(et, payload, src, dst, variant):
    proto = PPP_PROTO.get(et)
    if proto is None:
        return None
    return b"\0" * 5 + struct.pack("!H", proto) + b"\0" * 17 + payload


def _ppp_ether(et, payload, src, dst, variant):
    proto = PPP_PROTO.get(et)
    if proto is None:
        return None
    return struct.pack("!BBHHH", 0x11, 0, 1, len(payload) + 2, proto) + payload


def _c_hdlc(et, payload, src, dst, variant):
    return bytes([0x0F if variant % 2 == 0 else 0x8F, 0]) + struct.pack("!H", et) + payload


def _slip(hdrlen: int) -> Framer:
    def build(et, payload, src, dst, variant):
        if not _is_ip(et):
            return None
        # Byte 0 is the direction; libpcap also reads it as the IP version nibble.
        first = (payload[:1] or b"\0")[0] if variant % 3 == 0 else variant % 3 - 1
        return bytes([first]) + b"\0" * (hdrlen - 1) + payload

    return build


def _fddi(et, payload, src, dst, variant):
    return bytes([0x50]) + dst + src + snap(et, payload)


def _ieee802(et, payload, src, dst, variant):
    return bytes([0x10, 0x40]) + dst + src + snap(et, payload)


def _ip_over_fc(et, payload, src, dst, variant):
    return b"\0\0" + dst + b"\0\0" + src + snap(et, payload)


def wlan_header(src: bytes, dst: bytes, variant: int, bssid: bytes = b"\x02\0\0\0\0\xbb") -> bytes:
    """An 802.11 data frame header; ``variant`` picks the DS bits and QoS."""
    ds = variant % 4
    fc0 = 0x88 if variant % 8 >= 4 else 0x08
    a1, a2, a3 = {0: (dst, src, bssid), 1: (bssid, src, dst), 2: (dst, bssid, src),
                  3: (bssid, bssid, dst)}[ds]  # fmt: skip
    hdr = struct.pack("!BBH", fc0, ds, 0) + a1 + a2 + a3 + b"\0\0"
    if ds == 3:
        hdr += src
    if fc0 == 0x88:
        hdr += b"\0\0"
    return hdr


def _wlan(et, payload, src, dst, variant):
    return wlan_header(src, dst, variant) + snap(et, payload)


def _radiotap(et, payload, src, dst, variant):
    return struct.pack("<BBHI", 0, 0, 8, 0) + _wlan(et, payload, src, dst, variant)


def _prism(et, payload, src, dst, variant):
    return struct.pack("<II", 0x41, 144) + b"\0" * 136 + _wlan(et, payload, src, dst, variant)


def _avs(et, payload, src, dst, variant):
    return struct.pack("!II", 0x80211001, 64) + b"\0" * 56 + _wlan(et, payload, src, dst, variant)


def _ppi(et, payload, src, dst, variant):
    return struct.pack("<BBHI", 0, 0, 8, 105) + _wlan(et, payload, src, dst, variant)


def _pflog(et, payload, src, dst, variant):
    af = {IP: 2, IP6: 10}.get(et)
    if af is None:
        return None
    hdr = bytes([61, af, variant % 2, 0]) + b"eth0".ljust(16, b"\0") + b"\0" * 16
    hdr += struct.pack("!iiIiIiB", 1, -1, 0, 0, 0, 0, variant % 3) + b"\0" * 3
    return hdr + payload


def _arcnet(offset: int, hdrlen: int) -> Framer:
    def build(et, payload, src, dst, variant):
        t = ARC_TYPE.get(et)
        if t is None:
            return None
        hdr = bytearray(hdrlen)
        hdr[0], hdr[1], hdr[offset] = src[-1], dst[-1], t
        return bytes(hdr) + payload

    return build


def _sunatm(et, payload, src, dst, variant):
    return struct.pack("!BBH", 0x02, 0, 32 + variant % 3) + snap(et, payload)


def _ipnet(et, payload, src, dst, variant):
    fam = {IP: 2, IP6: 26}.get(et)
    if fam is None:
        return None
    return struct.pack("!BBHIIIII", 1, fam, 0, len(payload), 1, 0, 0, 0) + payload


def _prefixed(n: int, type_at: int) -> Framer:
    def build(et, payload, src, dst, variant):
        hdr = bytearray(n)
        hdr[type_at : type_at + 2] = struct.pack("!H", et)
        return bytes(hdr) + payload

    return build


def _netanalyzer(pad: int) -> Framer:
    def build(et, payload, src, dst, variant):
        return b"\0" * pad + ether(dst, src, et, payload)

    return build


def _atm_llc(et, payload, src, dst, variant):
    return snap(et, payload)


def _dsa(et, payload, src, dst, variant):
    # 4-byte switch tag between the source MAC and the type (Broadcom/Marvell layout).
    return dst + src + bytes([0x20, 0, 0, variant & 0xFF]) + struct.pack("!H", et) + payload


FRAMERS: dict[str, Framer] = {
    "EN10MB": _en10mb,
    "LINUX_SLL": _sll,
    "LINUX_SLL2": _sll2,
    "RAW": _raw(None),
    "IPV4": _raw(IP),
    "IPV6": _raw(IP6),
    "NULL": _null("<I"),
    "LOOP": _null(">I"),
    "ENC": _enc,
    "PPP": _ppp(b"\xff\x03"),
    "PPP_PPPD": _ppp(b"\xff\x03"),
    "PPP_SERIAL": _ppp(b"\xff\x03"),
    "PPP_BSDOS": _ppp_bsdos,
    "PPP_ETHER": _ppp_ether,
    "C_HDLC": _c_hdlc,
    "SLIP": _slip(16),
    "SLIP_BSDOS": _slip(24),
    "FDDI": _fddi,
    "IEEE802": _ieee802,
    "IP_OVER_FC": _ip_over_fc,
    "IEEE802_11": _wlan,
    "IEEE802_11_RADIO": _radiotap,
    "PRISM_HEADER": _prism,
    "IEEE802_11_RADIO_AVS": _avs,
    "PPI": _ppi,
    "PFLOG": _pflog,
    "ARCNET": _arcnet(2, 6),
    "ARCNET_LINUX": _arcnet(4, 8),
    "SUNATM": _sunatm,
    "IPNET": _ipnet,
    "SYMANTEC_FIREWALL": _prefixed(44, 6),
    "APPLE_IP_OVER_IEEE1394": _prefixed(18, 16),
    "NETANALYZER": _netanalyzer(4),
    "NETANALYZER_TRANSPARENT": _netanalyzer(12),
    "ATM_RFC1483": _atm_llc,
    "ATM_CLIP": _atm_llc,
    "DSA_TAG_BRCM": _dsa,
    "DSA_TAG_DSA": _dsa,
}

# Link types whose headers carry MAC addresses the filter can test (``ether host`` etc.).
HAS_MAC = {"EN10MB", "FDDI", "IEEE802", "IEEE802_11", "IEEE802_11_RADIO", "PRISM_HEADER",
           "IEEE802_11_RADIO_AVS", "PPI", "NETANALYZER", "NETANALYZER_TRANSPARENT",
           "IP_OVER_FC", "DSA_TAG_BRCM", "DSA_TAG_DSA"}  # fmt: skip


def frame(
    linktype: str,
    ethertype: int,
    payload: bytes,
    *,
    src: bytes = SRC_MAC,
    dst: bytes = DST_MAC,
    variant: int = 0,
) -> bytes | None:
    """``payload`` (of network protocol ``ethertype``) framed for ``linktype``, or None."""
    framer = FRAMERS.get(linktype)
    if framer is None:
        raise ValueError(f"packetgen has no framing for link type {linktype!r}")
    return framer(ethertype, payload, src, dst, variant)
