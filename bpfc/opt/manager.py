"""The pass manager: the pass order as data, run to a fixed point with a hard cap.

Every pass is ``run(graph) -> bool`` (did it change anything).  The loop stops when a
whole round changes nothing.  Every pass only ever removes work or moves a jump
target strictly later, so the loop terminates; the cap turns a bug that breaks that
into an ``InternalError`` rather than a hang.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bpfc.errors import InternalError
from bpfc.opt import (
    build_sets,
    drop_no_ops,
    eliminate_dead,
    fold_chains,
    fold_offsets,
    hoist_tests,
    merge_blocks,
    number_values,
    promote_scratch,
    simplify_tests,
    skip_redundant_tests,
    swap_tests,
    thread_jumps,
)
from bpfc.opt.graph import Graph
from bpfc.opt.sweeps import MAX_BLOCKS

Pass = Callable[[Graph], bool]

PASSES: tuple[tuple[str, Pass], ...] = (
    ("thread_jumps", thread_jumps.run),
    ("number_values", number_values.run),
    ("merge_blocks", merge_blocks.run),
    ("promote_scratch", promote_scratch.run),
    ("eliminate_dead", eliminate_dead.run),
    ("drop_no_ops", drop_no_ops.run),
    ("simplify_tests", simplify_tests.run),
    ("skip_redundant_tests", skip_redundant_tests.run),
    ("fold_offsets", fold_offsets.run),
    ("hoist_tests", hoist_tests.run),
    ("build_sets", build_sets.run),
    ("swap_tests", swap_tests.run),
)
"""In order; ``thread_jumps`` and ``number_values`` first, as one step (``PAIRED``), so that
the passes after them find its sweep still kept while nothing else changed the graph."""

LATE = frozenset({"build_sets", "hoist_tests", "swap_tests"})
"""Passes that reshape whole chains: run only in rounds where the others changed nothing,
so that they see chains after threading and sharing have finished joining them; after the
first of them changes the graph, the others wait for the early passes to clean up again.
(``hoist_tests`` finds work in few programs: run once at the end it costs one call, and
the programs come out the same on every upstream and corpus case.)"""

IDEMPOTENT = frozenset({"merge_blocks", "number_values", "eliminate_dead", "simplify_tests"})
"""Passes that never find more work when run again right after changing the graph: the
manager counts such a pass clean at once, sparing the call that would only confirm it.
``tests/opt/test_cost_idempotent.py`` runs each twice on every corpus program to hold
them to it.  ``thread_jumps`` is not one (a threaded edge can open another), nor are
``drop_no_ops``, ``hoist_tests``, ``fold_offsets`` and ``promote_scratch`` (one rewrite
can expose the next)."""

PAIRED = {"thread_jumps": "number_values"}
"""A pass and the pass run with it as one step, alternately until neither changes the graph.

``thread_jumps``' sweep works out ``number_values``' rewrites on the way (``sweeps``), and
each leaves its sweep valid for the other: the pair's confirming calls replay it instead
of sweeping again.  Threading is not idempotent by itself (a threaded edge can open
another, and rewrites can free a register a walk needed), the pair run to its own fixed
point is, so the manager counts both clean once the step ends.  Only graphs small enough
for a kept sweep (``PAIR_MAX_BLOCKS``) are run this way."""

NO_WORK_FROM: dict[str, frozenset[str]] = {
    "thread_jumps": frozenset({"merge_blocks"}),
    "number_values": frozenset({"merge_blocks"}),
}
"""For a pass, the passes whose changes cannot give it work: it stays clean across them.

``merge_blocks`` only shares equal blocks and joins a block with its sole successor, so
every path computes what it computed before and every state a forward sweep finds is at
most as precise as before (sharing only adds joins); no register becomes live or dead.
Value numbering and threading only act on what a state proves and on liveness, so what
they did not find before, they do not find after.  ``tests/opt/test_fixed_point.py``
checks that the optimizer still ends at a fixed point of every pass."""

MAX_ROUNDS = 100

PAIR_MAX_BLOCKS = MAX_BLOCKS
"""Graphs with more blocks run the paired passes one by one: ``sweeps`` keeps no sweep
for them (a constant of its own, so that turning sweep keeping off in a test leaves the
pass schedule, and so the output, as it is)."""

PAIR_ROUNDS = 4
"""How often a pair runs in one go: a long ``or`` chain may open one more edge each time,
and the other passes, run in between, shorten it faster."""

FIRST: tuple[tuple[str, Pass], ...] = (("fold_chains", fold_chains.run),)
"""Steps run once on the unoptimized graph before the loop (only with the default passes):
they see the source's shape, which the passes soon blur."""


def run_passes(graph: Graph, passes: Sequence[tuple[str, Pass]] | None = None) -> int:
    """Run ``passes`` (default ``PASSES``) until nothing changes; returns the rounds used.

    A pass that found nothing to do is not run again until some other pass has changed
    the graph since (``version`` counts changes), so the final confirming round is cheap;
    neither is an ``IDEMPOTENT`` pass that was the last to change it, a ``PAIRED`` step
    that ended at its own fixed point, nor a pass whose ``NO_WORK_FROM`` names the last
    pass to change the graph.
    """
    chosen = PASSES if passes is None else tuple(passes)
    if passes is None:
        for _, fn in FIRST:
            if fn(graph):
                graph.forget_order()
            else:
                graph.keep_order()
    version = 0
    clean: dict[str, int] = {}
    fns = dict(chosen)
    # a pair's confirming calls are cheap only while a sweep is kept (small graphs): on a
    # big graph each would sweep it afresh, and the passes run one by one as before
    paired = PAIRED if len(graph.order()) <= PAIR_MAX_BLOCKS else {}
    graph.keep_order()

    def step(fn: Pass) -> bool:
        if fn(graph):
            graph.forget_order()
            return True
        graph.keep_order()  # unchanged: the next pass may reuse its block order
        return False

    def pair(first: Pass, second: Pass) -> tuple[bool, bool]:
        """``first`` then ``second``, again while either changes the graph, a few times at
        most; (whether the graph changed, whether the pair ended at its fixed point)."""
        for n in range(PAIR_ROUNDS):
            if not (step(first) | step(second)):  # both calls, always
                return n > 0, True
        return True, False  # a long chain: the next round goes on with it

    def sweep(names: Sequence[tuple[str, Pass]], first_change_only: bool = False) -> bool:
        nonlocal version
        changed = False
        for name, fn in names:
            if clean.get(name) == version:
                continue
            partner = paired.get(name, "")
            settled = True
            if partner in fns:
                members = (name, partner)
                did, settled = pair(fn, fns[partner])
            else:
                members = (name,)
                did = step(fn)
            if not did:
                for member in members:
                    clean[member] = version
                continue
            version += 1
            changed = True
            for member in members:
                if (len(members) > 1 and settled) or member in IDEMPOTENT:
                    clean[member] = version
            for other in fns:  # passes the changes cannot give work stay clean
                if clean.get(other) == version - 1 and name in NO_WORK_FROM.get(other, ()):
                    clean[other] = version
            if first_change_only:
                break
        return changed

    early = [(name, fn) for name, fn in chosen if name not in LATE]
    late = [(name, fn) for name, fn in chosen if name in LATE]
    for rounds in range(1, MAX_ROUNDS + 1):
        if not sweep(early) and not sweep(late, first_change_only=True):
            return rounds
    raise InternalError(f"optimizer did not reach a fixed point in {MAX_ROUNDS} rounds")
