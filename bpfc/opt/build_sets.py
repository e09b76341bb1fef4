"""Pass: set membership (placeholder until the decision-tree rewrite lands)."""

from __future__ import annotations

from bpfc.opt.graph import Graph


def run(graph: Graph) -> bool:
    return False
