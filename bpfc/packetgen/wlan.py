"""802.11 frames of every type and subtype, and the radio headers that precede them.

libpcap's ``wlan type``/``subtype``/``dir`` and ``ra``/``ta``/``addr1..4`` primitives look
at the frame control field and at address slots whose meaning depends on the type and
the DS bits, so the generator needs management, control and data frames with each
address in each slot, not only the data frames that carry IP.
"""

from __future__ import annotations

import struct

# (frame-control byte 0, header shape) for every subtype: type in bits 2-3, subtype 4-7.
MGMT = {"assoc-req": 0x00, "assoc-resp": 0x10, "reassoc-req": 0x20, "reassoc-resp": 0x30,
        "probe-req": 0x40, "probe-resp": 0x50, "beacon": 0x80, "atim": 0x90, "disassoc": 0xA0,
        "auth": 0xB0, "deauth": 0xC0, "action": 0xD0}  # fmt: skip
CTL = {"bar": 0x84, "ba": 0x94, "ps-poll": 0xA4, "rts": 0xB4, "cts": 0xC4, "ack": 0xD4,
       "cf-end": 0xE4, "cf-end-ack": 0xF4}  # fmt: skip
DATA = {"data": 0x08, "data-cf-ack": 0x18, "data-cf-poll": 0x28, "data-cf-ack-poll": 0x38,
        "null": 0x48, "cf-ack": 0x58, "cf-poll": 0x68, "cf-ack-poll": 0x78, "qos-data": 0x88,
        "qos-data-cf-ack": 0x98, "qos-null": 0xC8, "qos-cf-poll": 0xE8}  # fmt: skip


def wlan_frame(fc0: int, flags: int, addrs: list[bytes], body: bytes = b"") -> bytes:
    """An 802.11 frame: control frames keep one or two addresses, others three (four with
    both DS bits on data frames) and a sequence field; QoS data adds the QoS control."""
    kind = (fc0 >> 2) & 3
    head = struct.pack("<BBH", fc0, flags, 0x2C)
    if kind == 1:  # control: RA only for CTS/ACK, RA+TA for the rest
        n = 1 if fc0 in (0xC4, 0xD4) else 2
        return head + b"".join(addrs[:n]) + body
    hdr = head + b"".join(addrs[:3]) + b"\x10\x00"
    if kind == 2 and flags & 3 == 3:
        hdr += addrs[3]
    if kind == 2 and fc0 & 0x80:
        hdr += b"\x00\x00"
    return hdr + body


def radio_prefix(linktype: str, variant: int = 0) -> bytes | None:
    """The radio/capture header that precedes the 802.11 frame on ``linktype`` (b"" for none)."""
    if linktype == "IEEE802_11":
        return b""
    if linktype == "IEEE802_11_RADIO":
        if variant % 2:  # flags field present, FCS bit clear
            return struct.pack("<BBHIB", 0, 0, 9, 0x2, 0)
        return struct.pack("<BBHI", 0, 0, 8, 0)
    if linktype == "PRISM_HEADER":
        return struct.pack("<II", 0x41, 144) + b"\0" * 136
    if linktype == "IEEE802_11_RADIO_AVS":
        return struct.pack("!II", 0x80211001, 64) + b"\0" * 56
    if linktype == "PPI":
        return struct.pack("<BBHI", 0, 0, 8, 105)
    return None


def wlan_frames(linktype: str, macs: list[bytes]) -> list[tuple[bytes, str]]:
    """Every subtype, each DS direction for data, each MAC of ``macs`` in each address slot."""
    prefix = radio_prefix(linktype)
    if prefix is None:
        return []
    out = []
    pad = [bytes([2, 0, 0, 0, 0, i]) for i in range(4)]
    for table in (MGMT, CTL, DATA):
        for name, fc0 in table.items():
            for ds in range(4) if table is DATA else (0,):
                for slot in range(4):
                    for mac in macs[:4]:
                        addrs = list(pad)
                        addrs[slot] = mac
                        flags = ds | (0x40 if name == "data" and slot == 3 else 0)
                        frame = wlan_frame(
                            fc0, flags, addrs, b"\xaa\xaa\x03\0\0\0\x08\0" + bytes(20)
                        )
                        out.append((prefix + frame, f"wlan {name} ds={ds} slot{slot}={mac.hex()}"))
    return out
