"""Pass: remove a dead indirect load that an earlier load from the same base already covers.

A dead load may still decide the verdict: if it runs off the end of the packet the
filter returns 0.  ``eliminate_dead`` removes a dead *absolute* load when the packet
length it needs is proven on every path (``minlen``); indirect loads ``[x + k]`` have
no fixed length, so it keeps them all.  But a load ``[x + k1]`` of size s1 that
succeeded proves ``X + k1 + s1 <= length`` for that value of X, and then any ``[x +
k]`` of size s with k + s <= k1 + s1 and the same X succeeds too.  This pass carries,
on every edge, the furthest end proven per value number of X (the minimum over joining
paths, keys on all of them only) and removes a dead indirect load it covers.  802.11
radio-header programs reload ``ldx M[0]; ldb [x + 0]`` only to make that check again.

X must be small (``bounds.Bounds`` plus the end below 2**28): then X + k never
wraps, and Linux's negative offsets (SKF_NET_OFF ...) cannot be reached, so "fits in
the packet" means the same to every interpreter.
"""

from __future__ import annotations

from bpfc.insn import Class, Insn, Mode
from bpfc.opt.bounds import Bounds
from bpfc.opt.dataflow import State, forward, live_ins, out_edges, term_uses
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import WIDTH, A, Values, X, defines, step, uses

_SMALL = 0x10000000
_IND = int(Class.LD | Mode.IND)

Proven = dict[int, int]  # value number of X -> furthest end of a load from it that succeeded


def _end(ins: Insn) -> int | None:
    """``k + size`` of an indirect load, None for every other statement."""
    if ins.code & 0xE7 != _IND:
        return None
    width = WIDTH.get(ins.code & 0x18)
    return None if width is None else ins.k + width


def _live_after(block: Block, live: dict[int, int]) -> list[int]:
    out = term_uses(block)
    for succ in block.succs():
        out |= live[succ.id]
    after = [0] * len(block.stmts)
    for i in range(len(block.stmts) - 1, -1, -1):
        after[i] = out
        ins = block.stmts[i]
        out = (out & ~(1 << defines(ins))) | uses(ins)
    return after


def _meet(old: Proven | None, new: Proven) -> Proven:
    if old is None:
        return new
    return {x: min(end, new[x]) for x, end in old.items() if x in new}


def run(graph: Graph) -> bool:
    order = graph.order()
    if not any(_end(ins) is not None for block in order for ins in block.stmts):
        return False
    live = live_ins(order)
    afters = {}
    for block in order:  # only a dead indirect load can go: find one before the sweep
        if any(_end(ins) is not None for ins in block.stmts):
            after = _live_after(block, live)
            pairs = zip(block.stmts, after, strict=True)
            if any(_end(ins) is not None and not a & (1 << A) for ins, a in pairs):
                afters[block.id] = after
    if not afters:
        return False
    vals = Values()
    bounds = Bounds(vals)
    incoming: dict[int, Proven] = {}
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        proven = dict(incoming.pop(block.id, {}))
        regs = list(state.regs)
        minlen = state.minlen
        after = afters.get(block.id) or [1 << A] * len(block.stmts)  # no dead load here
        kept: list[Insn] = []
        for i, ins in enumerate(block.stmts):
            end = _end(ins)
            if end is not None:
                base = regs[X]
                covered = proven.get(base, -1) >= end
                if covered and not after[i] & (1 << A):
                    if bounds.of(base) < _SMALL - end:
                        changed = True
                        continue  # dead and cannot fail: A keeps its older value
                proven[base] = max(proven.get(base, 0), end)
            s = step(vals, regs, minlen, ins, (block.id, i))
            if s.dest is not None:
                regs[s.dest] = s.vn
            minlen = s.minlen
            kept.append(ins)
        if len(kept) != len(block.stmts):
            block.stmts = kept
        edges = out_edges(vals, block, State(tuple(regs), state.facts, minlen))
        for succ, _ in edges:
            incoming[succ.id] = _meet(incoming.get(succ.id), proven)
        return edges

    forward(graph, order, vals, visit)
    return changed
