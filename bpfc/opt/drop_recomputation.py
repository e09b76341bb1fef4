"""Pass: drop a run of statements that leaves every register as it found it.

``ldb [21]; and #0x1f; jeq #0x1a`` followed, on the false edge, by ``ldb [21]; and
#0x1f; jeq #0x18`` recomputes the value A already holds: a jump does not change A.
Value numbering drops a *single* statement whose destination already holds its
value, but here the first statement of the run changes A (to ``[21]``) and only the
second one brings it back.  This pass compares the whole register file (A, X and
M[0..15] as value numbers) before and after each run of statements of a block: when
the file is the same and no statement of the run can fail (every load in it is
covered by the packet length proven on every path, ``minlen``, and no division by a
possibly-zero X), the run changes nothing a later instruction could see and goes.

Equal value numbers mean equal run-time values on every path into the block, so
this is exact; a failing load is never dropped, so verdicts on short packets stay.
One linear pass over the statements with a dictionary of register files seen since
the last statement that could fail.
"""

from __future__ import annotations

from bpfc.opt.dataflow import State, forward, out_edges, run_block
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import Values, defines, step


def _drop(vals: Values, block: Block, state: State) -> tuple[list, State]:
    """The block's statements with neutral runs removed, and the state after them."""
    regs = list(state.regs)
    minlen = state.minlen
    kept: list = []  # statements kept so far
    seen: dict[tuple[int, ...], int] = {tuple(regs): 0}  # register file -> len(kept) then
    for i, ins in enumerate(block.stmts):
        s = step(vals, regs, minlen, ins, (block.id, i))
        kept.append(ins)
        if s.dest is not None:
            regs[s.dest] = s.vn
        minlen = s.minlen
        now = tuple(regs)
        if not s.pure:
            seen = {now: len(kept)}
            continue
        at = seen.get(now)
        if at is not None:
            del kept[at:]
            seen = {k: v for k, v in seen.items() if v <= at}
        else:
            seen[now] = len(kept)
    return kept, State(tuple(regs), state.facts, minlen)


def _candidate(block: Block) -> bool:
    """A run that restores every register writes some register twice (a single statement
    that rewrites a register's own value is ``number_values``' job): a cheap pre-filter."""
    seen = 0
    for ins in block.stmts:
        bit = 1 << defines(ins)
        if seen & bit:
            return True
        seen |= bit
    return False


def run(graph: Graph) -> bool:
    order = graph.order()
    if not any(len(block.stmts) > 1 and _candidate(block) for block in order):
        return False
    vals = Values()
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        if len(block.stmts) < 2 or not _candidate(block):
            return out_edges(vals, block, run_block(vals, block, state))
        kept, after = _drop(vals, block, state)
        if len(kept) != len(block.stmts):
            block.stmts = kept
            changed = True
        return out_edges(vals, block, after)

    forward(graph, order, vals, visit)
    return changed
