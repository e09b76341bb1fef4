"""The packet record every generator returns: bytes as captured plus the wire length."""

from __future__ import annotations

from typing import NamedTuple


class Packet(NamedTuple):
    """A captured packet: ``data`` (caplen bytes), ``wirelen`` (>= caplen), a readable ``label``."""

    data: bytes
    wirelen: int
    label: str = ""


def truncate(pkt: Packet, caplen: int) -> Packet:
    """``pkt`` as a capture with snapshot length ``caplen`` would have recorded it."""
    if caplen >= len(pkt.data):
        return pkt
    return Packet(pkt.data[:caplen], pkt.wirelen, f"{pkt.label} [caplen {caplen}]")
