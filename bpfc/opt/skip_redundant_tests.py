"""Pass: drop a test whose one outcome leads, through tests it decides, where the other goes.

``(not (dst port ssh and port ssh ...)) or ... or tcp src portrange 1-1023`` (IPv6): on
the path where the destination port is 22, bpfc tests ``[40] == 22`` (accept), else
``[40] >= 1`` and ``[40] <= 1023`` (accept).  A source port of 22 passes both range
tests, so ``[40] == 22`` decides nothing: a packet for which it holds reaches the same
``ret`` through the range tests.  libpcap's optimizer drops such a test; so does this
pass.

For a conditional block B (statements S_B, test t) whose edge on outcome o goes to T
and whose other edge goes to O: walk from O with the state after S_B refined by "t
came out o".  The walk follows unconditional edges and conditional blocks *with no
statements* whose test that state decides, for at most ``MAX_WALK`` blocks.  When it
arrives at T, B's terminator becomes an unconditional edge to O (S_B stays).

Proof.  A packet on which t does not come out o went to O before and goes to O now.  A
packet on which it does satisfies every fact of the refined state (facts hold on every
path into B, and t's outcome is o), so from O it takes the decided edge of every test
on the walk and arrives at T; the walk executes no statement, so no load can fail on
the way and every register arrives at T as it left B.  Same verdict, same registers.

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
from bpfc.opt.dataflow import State, branch, decided, forward, out_edges, run_block
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import Values

_JMP, _JA = int(Class.JMP), JA
MAX_WALK = 8
"""Blocks a walk may pass; longer detours are left (they are rare and cost a sweep)."""


def _is_test(block: Block) -> bool:
    return (
        block.jt is not None
        and block.jt is not block.jf
        and block.code & CLASS_MASK == _JMP
        and block.code != _JA
    )


def _arrives(vals: Values, state: State, start: Block, goal: Block) -> bool:
    """Whether the walk of the module docstring from ``start`` reaches ``goal``."""
    block = start
    for _ in range(MAX_WALK):
        if block is goal:
            return True
        if block.stmts or block.jt is None:
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


def _may_arrive(start: Block, goal: Block) -> bool:
    """Whether some walk of statement-free blocks from ``start`` reaches ``goal`` within
    ``MAX_WALK`` blocks, whatever the tests decide (the structure alone: no state)."""
    frontier = [start]
    for _ in range(MAX_WALK):
        nxt = []
        for block in frontier:
            if block is goal:
                return True
            if not block.stmts and block.jt is not None:
                nxt += block.succs()
        if not nxt:
            return False
        frontier = nxt[:16]
    return any(block is goal for block in frontier)


def _shaped(order: list[Block]) -> set[int]:
    """Tests whose other edge could walk, through statement-free blocks, to the first."""
    return {
        b.id
        for b in order
        if _is_test(b)
        and (
            (not b.jf.stmts and b.jf.jt is not None and _may_arrive(b.jf, b.jt))
            or (not b.jt.stmts and b.jt.jt is not None and _may_arrive(b.jt, b.jf))
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
