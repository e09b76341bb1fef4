"""bpfc's own packet builder, used to prove compiled filters against libpcap.

* :mod:`~bpfc.packetgen.inet` and :mod:`~bpfc.packetgen.ether` build headers from plain values;
* :mod:`~bpfc.packetgen.links` frames a network packet for any supported link type;
* :mod:`~bpfc.packetgen.targeted` builds expression-aware packet sets (with noise);
* :mod:`~bpfc.packetgen.explore` mutates packets toward the branches a program tests.

Pure Python and dependency-free, so the golden corpus tools can use it outside tests.
"""

from __future__ import annotations

from bpfc.packetgen.constants import Constants, extract
from bpfc.packetgen.links import FRAMERS, frame
from bpfc.packetgen.packet import Packet, truncate
from bpfc.packetgen.targeted import EXTRA_ONLY, noise_packets, targeted_packets

LINKTYPES: tuple[str, ...] = tuple(FRAMERS) + EXTRA_ONLY

__all__ = [
    "LINKTYPES", "Constants", "Packet", "extract", "frame", "noise_packets",
    "targeted_packets", "truncate",
]  # fmt: skip
