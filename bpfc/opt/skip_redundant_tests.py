"""Pass: drop a test whose one outcome leads, through tests it decides, where the other goes.

``(not (dst port ssh and port ssh ...)) or ... or tcp src portrange 1-1023`` (IPv6): on
the path where the destination port is 22, bpfc tests ``[40] == 22`` (accept), else
``[40] >= 1`` and ``[40] <= 1023`` (accept).  A source port of 22 passes both range
tests, so ``[40] == 22`` decides nothing: a packet for which it holds reaches the same
``ret`` through the range tests.  libpcap's optimizer drops such a test; so does this
pass.

For a conditional block B (statements S_B, test t) whose edge on outcome o goes to T
and whose other edge goes to O: walk from O with the state after S_B refined by "t
came out o".  The walk follows unconditional edges and conditional blocks whose test
that state decides and whose statements are *no-ops* there, for at most ``MAX_WALK``
blocks.  A block's statements are no-ops when none of them can fail (each pure where
it runs, or recomputing a value a register holds or a test decided on every path
there: it succeeded before, ``dataflow.cannot_fail``) and every register holds the same
value number after them as before (``ldh [46]`` while A holds ``[46]``).  When the walk
arrives at T, B's terminator becomes an unconditional edge to O (S_B stays).

Proof.  A packet on which t does not come out o went to O before and goes to O now.  A
packet on which it does satisfies every fact of the refined state (facts hold on every
path into B, and t's outcome is o), so from O it takes the decided edge of every test
on the walk and arrives at T; every statement on the way cannot fail and leaves every
register as it was (equal value numbers are equal run-time values), so it arrives at T
with every register as it left B, and the state the walk carries stays true.  Same
verdict, same registers.

PPP ``(port http and src host 10.0.0.1) or tcp dst portrange 6000-6010``: on IPv6,
``[46] == 80`` (reject) and otherwise ``ldh [46]; jge #6000`` (false: reject): a port of
80 fails the range test after the reload anyway, so the test goes, then the dead loads
before it.

The forward sweep rewrites blocks as it visits them and propagates each block's
out-states from its rewritten form (an unconditional edge refines nothing), so every
state a later walk starts from holds for the program as it is at that point; each walk
reads only its own start state.  One call does all the rewrites a sweep finds and then
sweeps again until nothing changes (each rewrite removes a test, so this ends): a
second call finds nothing.
"""

from __future__ import annotations

from bpfc.isa.insn import Class
from bpfc.isa.opcodes import CLASS_MASK, JA
from bpfc.opt.analyses import Analyses, topo_order
from bpfc.opt.dataflow import (
    State,
    branch,
    cannot_fail,
    decided,
    forward,
    out_edges,
    run_block,
)
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import Values, effect

_JMP, _JA = int(Class.JMP), JA
MAX_WALK = 8
"""Blocks a walk may pass; longer detours are left (they are rare and cost a sweep)."""
MAX_STMTS = 2
"""Statements a block on the walk may hold (each must be a no-op there: ``_no_op``)."""


def _is_test(block: Block) -> bool:
    return (
        block.jt is not None
        and block.jt is not block.jf
        and block.code & CLASS_MASK == _JMP
        and block.code != _JA
    )


def _no_op(vals: Values, block: Block, state: State) -> bool:
    """Whether ``block``'s statements cannot fail and leave every register (A, X, M[])
    holding the value number it held before them (``ldh [46]`` while A holds ``[46]``).

    Each statement is checked where it runs: pure there (a load ``minlen`` covers, an
    ALU op that cannot divide by zero ...) or computing a value a register holds or a
    test decided on every path here (``dataflow.cannot_fail``: it succeeded before)."""
    if len(block.stmts) > MAX_STMTS:
        return False
    regs = list(state.regs)
    minlen, facts = state.minlen, state.facts
    for i, ins in enumerate(block.stmts):
        dest, vn, pure, minlen, _ = effect(vals, regs, minlen, ins, (block.id, i))
        if not pure and not cannot_fail(vals, facts, regs, vn):
            return False
        if dest is not None:
            regs[dest] = vn
    return tuple(regs) == state.regs


def _arrives(vals: Values, state: State, start: Block, goal: Block) -> bool:
    """Whether the walk of the module docstring from ``start`` reaches ``goal``."""
    block = start
    for _ in range(MAX_WALK):
        if block is goal:
            return True
        if block.jt is None or block.stmts and not _no_op(vals, block, state):
            return False
        if not _is_test(block):  # an unconditional edge
            block = block.jt
            continue
        taken = decided(vals, state.regs, state.facts, block.code, block.k)
        if taken is None:
            return False
        block = block.jt if taken else block.jf
    return block is goal


def _redundant(vals: Values, block: Block, after: State) -> Block | None:
    """The successor B can go to unconditionally, or None."""
    for taken, target, other in ((True, block.jt, block.jf), (False, block.jf, block.jt)):
        refined = branch(vals, after, block.code, block.k, taken)
        if _arrives(vals, refined, other, target):
            return other
    return None


def _may_arrive(start: Block, goal: Block, stmts: list) -> bool:
    """Whether some walk from ``start`` reaches ``goal`` within ``MAX_WALK`` blocks,
    whatever the tests decide (the structure alone: no state), through blocks with no
    statements or with the test's own ``stmts`` (a reload of what it loaded, the one
    kind of no-op common enough to look for)."""
    frontier = [start]
    for _ in range(MAX_WALK):
        nxt = []
        for block in frontier:
            if block is goal:
                return True
            if block.jt is not None and (not block.stmts or block.stmts == stmts):
                nxt += block.succs()
        if not nxt:
            return False
        frontier = nxt[:16]
    return any(block is goal for block in frontier)


def _shaped(order: list[Block]) -> set[int]:
    """Tests whose other edge could walk (``_may_arrive``) to the first."""
    return {
        b.id
        for b in order
        if _is_test(b)
        and (
            (b.jf.jt is not None and _may_arrive(b.jf, b.jt, b.stmts))
            or (b.jt.jt is not None and _may_arrive(b.jt, b.jf, b.stmts))
        )
    }


def _once(graph: Graph, cache: Analyses | None) -> bool:
    """One sweep, rewriting as it goes.  ``cache``: the manager's analyses, valid only
    until this pass's first change (None after it).  Programs with no test of the shape
    (``_shaped``, most of them) are not swept."""
    order = cache.get(topo_order) if cache else graph.order()
    shaped = _shaped(order)
    if not shaped:
        return False
    vals = Values()
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        after = run_block(vals, block, state)
        if block.id in shaped and _is_test(block):
            # a test the state decides is ``thread_jumps``' and ``number_values``' work
            if decided(vals, after.regs, after.facts, block.code, block.k) is None:
                other = _redundant(vals, block, after)
                if other is not None:
                    block.set_goto(other)
                    changed = True
        return out_edges(vals, block, after)

    forward(graph, order, vals, visit)
    return changed


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    changed = False
    while _once(graph, None if changed else Analyses.of(graph, analyses)):
        changed = True
    return changed
