"""The pass manager: a list of passes, run in order until none of them changes anything.

Every pass is ``run(graph, analyses) -> bool`` (did it change anything) and reads alone
(its module docstring says what it proves and why that is safe).  The analyses it asks
for come from one ``analyses.Analyses`` cache, which the manager empties after every
change.  Every change removes work (a statement or a test), or, removing none, moves a
jump target strictly later (``share_reloads`` moves edges earlier, but each of its
changes removes a load), so the loop terminates; the cap turns a bug that breaks that
into an ``InternalError`` rather than a hang.  A new pass joins with one line in ``PASSES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bpfc.errors import InternalError
from bpfc.opt import (
    build_sets,
    drop_no_ops,
    drop_proven_loads,
    eliminate_dead,
    fold_chains,
    fold_offsets,
    hoist_tests,
    merge_blocks,
    number_values,
    promote_scratch,
    share_reloads,
    simplify_tests,
    skip_redundant_tests,
    swap_tests,
    thread_jumps,
)
from bpfc.opt.analyses import Analyses
from bpfc.opt.graph import Graph

Pass = Callable[[Graph, Analyses], bool]

PASSES: tuple[tuple[str, Pass], ...] = (
    ("fold_chains", fold_chains.run),
    ("thread_jumps", thread_jumps.run),
    ("number_values", number_values.run),
    ("share_reloads", share_reloads.run),
    ("hoist_tests", hoist_tests.run),
    ("merge_blocks", merge_blocks.run),
    ("promote_scratch", promote_scratch.run),
    ("eliminate_dead", eliminate_dead.run),
    ("drop_no_ops", drop_no_ops.run),
    ("drop_proven_loads", drop_proven_loads.run),
    ("simplify_tests", simplify_tests.run),
    ("skip_redundant_tests", skip_redundant_tests.run),
    ("fold_offsets", fold_offsets.run),
    ("build_sets", build_sets.run),
    ("swap_tests", swap_tests.run),
)
"""The passes, in the order each round runs them (``docs/optimizer.md`` says why).

``fold_chains`` comes first so that in the first round it sees the program as code
generation laid it out, before the other passes blur its repeated terms; the value
passes (threading, numbering) run before the clean-ups that use what they prove;
``hoist_tests`` right after numbering, before ``merge_blocks`` shares the tails it
would split; ``build_sets``, which regroups whole chains, last, on chains the others
have finished joining.  (Every order is correct; this one gives the smallest programs
on the corpus: ``bench/size_vs_libpcap.py``.)"""

MAX_ROUNDS = 100


def run_passes(graph: Graph, passes: Sequence[tuple[str, Pass]] | None = None) -> int:
    """Run ``passes`` (default ``PASSES``) in order, round after round, until each of them
    in turn has found nothing to change since the last change.

    The graph is then a fixed point of every pass.  Returns the rounds begun (the last
    one confirms the fixed point, possibly part way); raises ``InternalError`` after
    ``MAX_ROUNDS``.
    """
    chosen = PASSES if passes is None else tuple(passes)
    analyses = Analyses(graph)
    quiet = 0  # calls in a row that changed nothing
    for rounds in range(1, MAX_ROUNDS + 1):
        for _, run in chosen:
            if run(graph, analyses):
                analyses.changed()
                quiet = 0
            else:
                quiet += 1
                if quiet >= len(chosen):
                    return rounds
        if not chosen:
            return rounds
    raise InternalError(f"optimizer did not reach a fixed point in {MAX_ROUNDS} rounds")
