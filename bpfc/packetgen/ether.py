"""Ethernet-family framing: MAC headers, VLAN/QinQ tags, MPLS, PPPoE, 802.3 + LLC/SNAP.

The encapsulations that libpcap's ``vlan``/``mpls``/``pppoes`` primitives skip over
are built here so that tests can stack them in any order (``vlan`` inside ``mpls``
is legal on the wire even where it is unusual).
"""

from __future__ import annotations

import struct

ETHERTYPE = {
    "ip": 0x0800, "arp": 0x0806, "rarp": 0x8035, "ip6": 0x86DD, "vlan": 0x8100,
    "qinq": 0x88A8, "qinq_old": 0x9100, "mpls": 0x8847, "mpls_mc": 0x8848,
    "pppoed": 0x8863, "pppoes": 0x8864, "atalk": 0x809B, "aarp": 0x80F3, "ipx": 0x8137,
    "decnet": 0x6003, "lat": 0x6004, "sca": 0x6007, "moprc": 0x6002, "mopdl": 0x6001,
    "lldp": 0x88CC, "slow": 0x8809, "loopback": 0x9000, "teb": 0x6558,
}  # fmt: skip

VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)

BROADCAST = b"\xff" * 6


def mac(text: str | bytes) -> bytes:
    """Six bytes from ``aa:bb:cc:dd:ee:ff``, ``aa-bb-..``, ``aabb.ccdd.eeff`` or raw bytes."""
    if isinstance(text, bytes):
        return text
    digits = "".join(ch for ch in text if ch not in ":-.")
    if ":" in text or "-" in text:
        parts = text.replace("-", ":").split(":")
        digits = "".join(p.zfill(2) for p in parts)
    return bytes.fromhex(digits.zfill(12))


def ether(dst: bytes, src: bytes, ethertype: int, payload: bytes, *, tags=()) -> bytes:
    """An Ethernet II frame; ``tags`` is a sequence of ``(tpid, tci)`` inserted after ``src``."""
    head = dst + src
    for tpid, tci in tags:
        head += struct.pack("!HH", tpid, tci)
    return head + struct.pack("!H", ethertype) + payload


def vlan_tci(vid: int, pcp: int = 0, dei: int = 0) -> int:
    """The 16-bit tag control information for VLAN ``vid``."""
    return ((pcp & 7) << 13) | ((dei & 1) << 12) | (vid & 0xFFF)


def mpls(labels: list[int], payload: bytes, ttl: int = 64) -> bytes:
    """An MPLS label stack (bottom-of-stack bit on the last label) followed by ``payload``."""
    out = b""
    for i, label in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", ((label & 0xFFFFF) << 12) | (bos << 8) | ttl)
    return out + payload


PPP_PROTO = {0x0800: 0x0021, 0x86DD: 0x0057, 0x8137: 0x002B, 0x809B: 0x0029,
             0x6003: 0x0027, 0x8847: 0x0281, 0x8848: 0x0283, 0xFEFE: 0x0023}  # fmt: skip


def pppoe_session(session: int, ppp_proto: int, payload: bytes) -> bytes:
    """A PPPoE session-stage header and the PPP protocol field, then ``payload``."""
    return struct.pack("!BBHHH", 0x11, 0, session, len(payload) + 2, ppp_proto) + payload


def pppoe_discovery(code: int = 0x09, session: int = 0) -> bytes:
    """A PPPoE discovery packet (PADI by default) with an empty service-name tag."""
    tags = struct.pack("!HH", 0x0101, 0)
    return struct.pack("!BBHH", 0x11, code, session, len(tags)) + tags


def llc(dsap: int, ssap: int, ctl: int, payload: bytes = b"") -> bytes:
    """An 802.2 LLC header (one control byte for U frames, two for I/S frames)."""
    ctl_bytes = struct.pack("!H", ctl) if ctl > 0xFF else bytes([ctl])
    return bytes([dsap, ssap]) + ctl_bytes + payload


def snap(ethertype: int, payload: bytes, oui: bytes = b"\0\0\0") -> bytes:
    """LLC/SNAP (AA AA 03, OUI, type) carrying ``ethertype``."""
    return b"\xaa\xaa\x03" + oui + struct.pack("!H", ethertype) + payload


def ether_8023(dst: bytes, src: bytes, body: bytes, *, length: int | None = None) -> bytes:
    """An 802.3 frame: the type field holds the length of ``body`` (an LLC PDU)."""
    n = len(body) if length is None else length
    return dst + src + struct.pack("!H", min(n, 1500)) + body


def stp_bpdu() -> bytes:
    """An STP configuration BPDU behind its LLC header (DSAP/SSAP 0x42)."""
    return llc(0x42, 0x42, 0x03, b"\0\0\0\0" + b"\0" * 31)


def ipx_packet() -> bytes:
    """A minimal IPX header (checksum 0xffff)."""
    return b"\xff\xff\x00\x1e\x00\x04" + b"\0" * 24


def novell_raw_8023(dst: bytes, src: bytes) -> bytes:
    """IPX directly over 802.3 ("raw"), which libpcap's ``ipx`` also matches."""
    return ether_8023(dst, src, ipx_packet())


def clnp_packet(nlpid: int = 0x81) -> bytes:
    """An ISO network-layer PDU start: NLPID (0x81 CLNP, 0x82 ES-IS, 0x83 IS-IS)."""
    if nlpid == 0x83:  # IS-IS L1 LAN hello
        return bytes([0x83, 27, 1, 0, 15, 1, 0, 0]) + b"\0" * 24
    return bytes([nlpid, 20, 1, 0, 0, 28]) + b"\0" * 22
