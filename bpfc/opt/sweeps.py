"""A finished forward sweep, kept for the next pass while the graph stays exactly as it was.

``thread_jumps`` and ``number_values`` both sweep the whole graph with ``dataflow.forward``,
and on ordinary expressions most of their calls only confirm that there is nothing left
to do, on a graph that no pass touched since the last sweep.  Such a call can replay the
states the last sweep computed (the state on entry to each visited block and on each of
its out edges) instead of recomputing them.  A ``Sweep`` is stamped with the shape of
every block it covered (terminator, successors and statements); ``recall`` hands it out
only while all of them, and the entry, are unchanged, which also means no block became
reachable or unreachable since.  Any change at all (a pass returning True, or one that
forgot to) makes ``recall`` return None, and the pass sweeps afresh.  The two passes
themselves change graphs without changing their states (``number_values`` only rewrites
statements into equivalents and drops branch edges no state followed; a threaded edge
carries the very state a fresh sweep finds there), so they leave a sweep stamped for the
graph they return.  ``tests/opt/test_sweeps.py`` checks the claim against fresh sweeps.

The manager runs ``number_values`` and ``hoist_tests`` right after ``thread_jumps``, so
they usually find its sweep still valid.  ``thread_jumps`` even works out, block by
block, the statements ``number_values`` would write (``Sweep.rewrites``, from the same
entry states), and ``number_values`` then only installs them and folds terminators.

Only small graphs are recorded: a sweep normally frees each state once its block is
visited, and keeping all of them for a filter of thousands of tests would cost memory
that grows with the size of the graph rather than its width.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.opt.dataflow import State
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import Values

MAX_BLOCKS = 256
"""Graphs with more blocks than this are never recorded (see the module docstring)."""

Edges = list[tuple[Block, State]]


class Sweep:
    """States of one forward sweep over a graph, valid while ``shape`` matches the graph."""

    __slots__ = (
        "entry",
        "order",
        "shape",
        "vals",
        "entries",
        "edges",
        "live",
        "rewrites",
        "settled",
    )

    def __init__(
        self,
        graph: Graph,
        order: list[Block],
        vals: Values,
        entries: dict[int, State],
        edges: dict[int, Edges],
    ) -> None:
        self.vals = vals
        self.entries = entries
        self.edges = edges
        self.stamp(graph, order)

    def stamp(self, graph: Graph, order: list[Block]) -> None:
        """Declare the sweep valid for the graph as it is now.

        ``order`` lists every reachable block in a topological order; it may also hold
        blocks a pass has since cut off (passes that only drop or move edges forward keep
        the order they started with), which every user of a sweep tolerates.

        A pass that rewrote statements without changing any state calls this again; what
        was derived from the statements themselves is dropped then.
        """
        self.entry = graph.entry
        self.order = order
        self.shape = _shape(order)
        graph.checked = self
        self.live: dict[int, int] | None = None  # ``live_ins(order)``, once someone needs it
        # ``number_values``' rewrites of each block, worked out during ``thread_jumps``'
        # sweep (block id -> new statements, for the blocks that change); None: not known
        self.rewrites: dict[int, list] | None = None
        self.settled = False  # set by ``number_values`` once the graph is its own output


def _shape(order: Sequence[Block]) -> list[tuple]:
    # a block's statement list is kept as the object itself: passes never edit one in place
    # (they assign a new list), so the same object means the same statements, and comparing
    # two shapes finds it equal by identity without reading the statements
    return [(b.id, b.code, b.k, b.jt, b.jf, b.stmts) for b in order]


def worth_keeping(order: Sequence[Block]) -> bool:
    """Whether a sweep over ``order`` should record its states at all (small graphs only).

    Asked before sweeping: recording holds every state until the sweep ends, which on a
    big graph is exactly the memory the sweep's design avoids.
    """
    return len(order) <= MAX_BLOCKS


def remember(sweep: Sweep, graph: Graph) -> None:
    """Keep ``sweep`` for the next pass on ``graph`` (small graphs only)."""
    if worth_keeping(sweep.order):
        graph.sweep = sweep


def forget(graph: Graph) -> None:
    graph.sweep = None


def recall(graph: Graph) -> Sweep | None:
    """The last sweep kept for ``graph`` if the graph has not changed since, else None.

    A pass asks once, before it changes anything.  When the pass manager vouches that
    no pass changed the graph since the sweep was last found valid (``Graph.vouched``:
    each pass since reported no change), the shape is not compared again.
    """
    sweep = graph.sweep
    if sweep is None:
        return None
    if graph.vouched is sweep:
        return sweep
    if graph.entry is sweep.entry and _shape(sweep.order) == sweep.shape:
        graph.checked = sweep
        return sweep
    graph.sweep = None
    return None


def recording(entries: dict[int, State], edges: dict[int, Edges], visit):
    """``visit`` for ``dataflow.forward`` that also records entry and out-edge states."""

    def recorded(block: Block, state: State) -> Edges:
        entries[block.id] = state
        out = edges[block.id] = visit(block, state)
        return out

    return recorded
