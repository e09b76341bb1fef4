"""Pass: send edges back through the block whose load a reload repeats.

Block T begins with ``ld [k]``.  One of its predecessors, B, is exactly ``ld [k]``
followed by a test of A against a constant, with T on one side.  T's other
predecessors P reach it with A holding something else, so T's load must stay.  When the
state on every such edge P -> T decides B's test towards T (usually because
``thread_jumps`` threaded the edge past B, on facts B's test would see), every edge
P -> T is moved to P -> B, and T's first statement goes: T's only predecessor is now B,
which leaves ``[k]`` in A.  One instruction less, for one more (decided) test on the
moved paths; libpcap's optimizer, which does not thread such edges, keeps that shape.
``thread_jumps`` does not undo it: B writes A, which is now live on entry to T.

Why it is safe: a packet on a moved edge now runs B's ``ld [k]``, which fails exactly
when T's ``ld [k]`` (the first thing the packet ran at T before) fails; B's test, decided
by the edge's state after that load, sends it to T; T then runs as before with the same
A (``[k]``), X and scratch memory.  Packets on B's own edge to T see T without a load
whose value A already holds.  The edge P -> B keeps the graph acyclic: no P is reachable
from B (checked).  Only an edge's state, from one ``dataflow`` forward sweep, is
trusted; the sweep runs only when the graph has a candidate T (most have none).
"""

from __future__ import annotations

from bpfc.isa.insn import Class
from bpfc.isa.opcodes import CLASS_MASK, JA, SRC_MASK
from bpfc.opt.analyses import Analyses, topo_order
from bpfc.opt.dataflow import State, decided, forward, out_edges, run_block
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import ABS_LOADS, NEGATIVE_OFF, Values

_JMP = int(Class.JMP)


def _candidates(order: list[Block]) -> dict[int, Block]:
    """T's id -> a predecessor B of T (one load, then a test on A) whose load T repeats."""
    found: dict[int, Block] = {}
    for b in order:
        stmts = b.stmts
        if len(stmts) != 1:
            continue
        code = b.code
        if code & CLASS_MASK != _JMP or code == JA or code & SRC_MASK or b.jt is b.jf:
            continue
        load = stmts[0]
        if load.code not in ABS_LOADS or load.k >= NEGATIVE_OFF:
            continue
        for t in (b.jt, b.jf):
            if t.stmts and t.stmts[0] == load and t.id not in found:
                found[t.id] = b
    return found


def _reaches(start: Block, ids: set[int]) -> bool:
    """Whether a block in ``ids`` can be reached from ``start``."""
    seen = {start.id}
    stack = [start]
    while stack:
        for succ in stack.pop().succs():
            if succ.id in ids:
                return True
            if succ.id not in seen:
                seen.add(succ.id)
                stack.append(succ)
    return False


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    """Move every edge of a candidate T when all of them qualify; True if any moved."""
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    cands = _candidates(order)
    if not cands:
        return False  # the usual case: no block repeats its predecessor's only load
    preds = graph.preds(order)
    vals = Values()
    ok: dict[int, bool] = dict.fromkeys(cands, True)
    moves: dict[int, list[tuple[Block, int, int]]] = {t: [] for t in cands}

    def visit(block: Block, state: State) -> list[tuple[Block, State]]:
        edges = out_edges(vals, block, run_block(vals, block, state))
        for n, (succ, out) in enumerate(edges):
            b = cands.get(succ.id)
            if b is None or block is b or not ok[succ.id]:
                continue
            after = run_block(vals, b, out)
            taken = decided(vals, after.regs, after.facts, b.code, b.k)
            if taken is None or (b.jt if taken else b.jf) is not succ:
                ok[succ.id] = False
                continue
            moves[succ.id].append((block, n, len(edges)))
        return edges

    forward(graph, order, vals, visit)
    changed = False
    touched: set[int] = set()  # a B or T already changed: its statements or preds moved
    for tid, b in cands.items():
        if not ok[tid] or not moves[tid] or tid in touched or b.id in touched:
            continue
        t = b.jt if b.jt.id == tid else b.jf
        # every predecessor of T other than B must have been visited with a moved edge
        movers = {p.id for p, _, _ in moves[tid]}
        if any(p is not b and p.id not in movers for p in preds[tid]):
            continue
        if _reaches(b, movers):
            continue  # an edge P -> B would close a cycle
        for p, n, count in moves[tid]:
            p.redirect(n, count, t, b)
        changed = True
        touched.update((tid, b.id))
        if t.jt is None or any(s is t for p in preds[tid] if p is not b for s in p.succs()):
            continue  # pragma: no cover - defensive: an edge was left behind
        del t.stmts[0]
    return changed
