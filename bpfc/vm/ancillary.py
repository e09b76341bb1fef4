"""Linux socket-buffer metadata for the interpreter's ``linux=True`` mode.

A filter attached to a Linux socket can read things that are not in the packet
bytes: ``ld [SKF_AD_OFF + n]`` loads skb fields (protocol, pkttype, ifindex, the
stripped VLAN tag ...), and negative offsets reach the link-layer or network
header (``SKF_LL_OFF``/``SKF_NET_OFF``).  Offline, those come from keyword
arguments: :data:`META_DEFAULTS` lists every name with its default.  The helpers
here implement the loads whose result depends on the packet (negative offsets,
netlink attribute lookup); the generated code and the reference interpreter call
them only on those rare paths.
"""

from __future__ import annotations

import random
from typing import Any

from bpfc.isa.opcodes import ANCILLARY, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF

__all__ = [
    "META_DEFAULTS",
    "check_meta",
    "meta_value",
    "neg_load",
    "reject_meta",
]

META_DEFAULTS: dict[str, Any] = {
    "protocol": 0,  # SKF_AD_PROTOCOL: skb->protocol in host order, e.g. 0x0800
    "pkttype": 0,  # SKF_AD_PKTTYPE: PACKET_HOST=0 ... PACKET_OUTGOING=4
    "ifindex": 0,  # SKF_AD_IFINDEX
    "mark": 0,  # SKF_AD_MARK
    "queue": 0,  # SKF_AD_QUEUE: skb->queue_mapping
    "hatype": 0,  # SKF_AD_HATYPE: dev->type (ARPHRD_*)
    "rxhash": 0,  # SKF_AD_RXHASH: skb->hash
    "cpu": 0,  # SKF_AD_CPU
    "vlan_tci": 0,  # SKF_AD_VLAN_TAG: the stripped 802.1Q TCI
    "vlan_present": None,  # SKF_AD_VLAN_TAG_PRESENT; None = 1 when vlan_tci was given
    "vlan_tpid": 0,  # SKF_AD_VLAN_TPID: e.g. 0x8100
    "pay_offset": 0,  # SKF_AD_PAY_OFFSET: the flow dissector's payload offset
    "random": None,  # SKF_AD_RANDOM; None = a fresh random 32-bit value per load
    "mac_offset": 0,  # where SKF_LL_OFF points (the MAC header)
    "net_offset": None,  # where SKF_NET_OFF points; None = min(len(packet), 14)
    "linear_len": None,  # bytes in the skb's linear part; None = len(packet)
}
"""Every metadata keyword the Linux mode understands, with its default."""


def check_meta(meta: dict[str, Any]) -> None:
    """Reject unknown metadata names (a typo would otherwise silently read 0)."""
    for name in meta:
        if name not in META_DEFAULTS:
            known = ", ".join(sorted(META_DEFAULTS))
            raise TypeError(f"unknown packet metadata {name!r} (known: {known})")


def reject_meta(meta: dict[str, Any]) -> None:
    """Metadata given to a libpcap-mode filter: an error, not something to ignore."""
    raise TypeError(
        f"packet metadata {sorted(meta)} needs a filter made with linux=True"
        " (libpcap's bpf_filter has no metadata)"
    )


def meta_value(offset: int, meta: dict[str, Any]) -> int:
    """The value ``ld [SKF_AD_OFF + offset]`` loads, for the skb-field ancillaries."""
    name = ANCILLARY[offset]
    if name == "vlan_tag_present":
        present = meta.get("vlan_present")
        if present is None:
            present = "vlan_tci" in meta or bool(meta.get("vlan_tpid"))
        return 1 if present else 0
    if name == "random":
        value = meta.get("random")
        return random.getrandbits(32) if value is None else int(value) & 0xFFFFFFFF
    if name == "vlan_tag":
        name = "vlan_tci"
    return int(meta.get(name, 0)) & 0xFFFFFFFF


def neg_load(p: Any, offset: int, size: int, meta: dict[str, Any]) -> int | None:
    """A Linux load at a negative (signed 32-bit) offset, or None when it fails.

    Only ``SKF_NET_OFF`` and ``SKF_LL_OFF`` relative loads succeed, and only
    inside the linear part of the packet.
    """
    offset &= 0xFFFFFFFF
    if offset >= SKF_AD_OFF:
        return None
    n = len(p)
    if offset >= SKF_NET_OFF:
        base = meta.get("net_offset")
        start = (min(n, 14) if base is None else base) + offset - SKF_NET_OFF
    elif offset >= SKF_LL_OFF:
        start = meta.get("mac_offset", 0) + offset - SKF_LL_OFF
    else:
        return None
    linear = meta.get("linear_len")
    end = n if linear is None else min(n, linear)
    if start < 0 or start + size > end:
        return None
    return int.from_bytes(p[start : start + size], "big")


def nlattr(p: Any, a: int, x: int, nested: bool, meta: dict[str, Any]) -> int:
    """``SKF_AD_NLATTR(_NEST)``: offset of netlink attribute type X from offset A, or 0.

    Attribute headers are read little-endian (the x86 host order of the kernel's
    own test data).
    """
    n = len(p)
    linear = meta.get("linear_len")
    if (linear is not None and linear < n) or n < 4 or a > n - 4:
        return 0
    start, rem = a, n - a
    if nested:
        outer = int.from_bytes(p[a : a + 2], "little")
        if outer > n - a:
            return 0
        start, rem = a + 4, outer - 4
    while rem >= 4:
        length = int.from_bytes(p[start : start + 2], "little")
        kind = int.from_bytes(p[start + 2 : start + 4], "little") & 0x3FFF
        if length < 4 or length > rem:
            break
        if kind == x:
            return start
        step = (length + 3) & ~3
        start += step
        rem -= step
    return 0
