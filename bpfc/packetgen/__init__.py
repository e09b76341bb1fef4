"""bpfc's own packet builder, used to prove compiled filters against libpcap.

* :mod:`~bpfc.packetgen.inet` and :mod:`~bpfc.packetgen.ether` build headers from plain values;
* :mod:`~bpfc.packetgen.links` frames a network packet for any supported link type;
* :mod:`~bpfc.packetgen.targeted` builds expression-aware packet sets (with noise);
* :mod:`~bpfc.packetgen.explore` mutates packets toward the branches a program tests.

Pure Python and dependency-free, so the golden corpus tools can use it outside tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bpfc.packetgen.constants import Constants, extract, names_from_fixtures
from bpfc.packetgen.links import FRAMERS, frame
from bpfc.packetgen.packet import Packet, truncate
from bpfc.packetgen.targeted import EXTRA_ONLY, noise_packets, targeted_packets

LINKTYPES: tuple[str, ...] = tuple(FRAMERS) + EXTRA_ONLY


def packet_set(
    expr: str,
    linktype: str = "EN10MB",
    programs: Iterable[Sequence[Sequence[int]]] = (),
    *,
    seed: int = 0,
    steered: int = 200,
    names: Mapping[str, Sequence[str]] | None = None,
) -> list[Packet]:
    """The packets to judge ``expr`` by: its targeted set plus up to ``steered`` packets
    steered by ``programs`` (the reference programs, as ``(code, jt, jf, k)`` sequences)."""
    from bpfc.packetgen.explore import explore

    seeds = targeted_packets(expr, linktype, seed=seed, names=names)
    return seeds + explore(list(programs), seeds, seed=seed, limit=steered)


__all__ = [
    "LINKTYPES", "Constants", "Packet", "extract", "frame", "names_from_fixtures",
    "noise_packets", "packet_set",
    "targeted_packets", "truncate",
]  # fmt: skip
