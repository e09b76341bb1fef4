"""The one cache of analyses the passes share, dropped whenever a pass changes the graph.

An analysis is a function of the graph alone (``topo_order``, ``live_in``): what it returns
stays true exactly as long as no block changes.  The pass manager makes one
``Analyses`` per graph, hands it to every pass, and calls ``changed()`` each time a
pass reports that it changed the graph, so a pass that asks ``analyses.get(live_in)``
gets either a result computed on the graph as it is now, or a fresh one.

Rules for a pass: ask before changing anything, and recompute (call the analysis
function itself, or ``graph.order()``) for what it needs after its own first change.
A pass that reports no change must have changed nothing: the manager keeps the cache
across it.  A pass called alone (tests do) may pass no cache: ``Analyses.of`` makes an
empty one.

Nothing else is kept anywhere: no analysis is stored on the graph or its blocks, and
the cache dies with the ``run_passes`` call that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bpfc.opt.dataflow import live_ins
from bpfc.opt.graph import Block, Graph

T = TypeVar("T")

Analysis = Callable[["Analyses"], T]
"""A function from the cache (its ``graph``, and other analyses through ``get``) to a result."""


class Analyses:
    """Results of analyses of ``graph``, each computed on first request."""

    __slots__ = ("graph", "_found")

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._found: dict[Callable, object] = {}

    @staticmethod
    def of(graph: Graph, analyses: Analyses | None) -> Analyses:
        """``analyses`` if a manager passed one for ``graph``, else a new, empty cache."""
        if analyses is None or analyses.graph is not graph:
            return Analyses(graph)
        return analyses

    def get(self, analysis: Analysis[T]) -> T:
        """``analysis(self)``, computed once until the next ``changed()``."""
        found = self._found
        if analysis in found:
            return found[analysis]  # type: ignore[return-value]
        value = found[analysis] = analysis(self)
        return value

    def changed(self) -> None:
        """The graph changed: every result kept so far is dropped."""
        self._found.clear()


def topo_order(analyses: Analyses) -> list[Block]:
    """Reachable blocks in a topological order (``Graph.order``); callers never edit it."""
    return analyses.graph.order()


def live_in(analyses: Analyses) -> dict[int, int]:
    """Registers live on entry to each reachable block (``dataflow.live_ins``)."""
    return live_ins(analyses.get(topo_order))
