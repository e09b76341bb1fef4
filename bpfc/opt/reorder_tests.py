"""Pass: in a conjunction of two tests, test first the value A already holds.

``host 10.0.0.1 and host 10.0.0.2`` on the path where the source address is not the
first host reaches::

    P: ld [16]; jeq #a   jt Q  jf R0        R0: ret #0
    Q: ld [12]; jeq #b   jt T  jf R0

On entry to P, A still holds ``[12]`` (it was just compared with ``a``), so Q's load
is a reload.  Testing Q's condition first needs no load at all::

    P': jeq #b            jt P'' jf R0
    P'': ld [16]; jeq #a  jt T   jf R0

The packets that reach T are the same (both tests must pass, in either order), and
every other packet gets 0: R0 is ``ret #0`` and so is a failing load in P's
statements, which the new order may skip only on packets that are rejected anyway.
Conditions, checked on the value numbers of a forward sweep: Q has P as its only
predecessor; one edge of each test goes to the same ``ret #0`` block; Q's statements
cannot fail and leave in A the value A holds on entry to P; no register Q's
statements write is live into T (T sees what it saw before: Q's writes were dead
there).  Q's statements go, so the program shrinks by at least one instruction.
"""

from __future__ import annotations

from bpfc.insn import Class, RVal, Src
from bpfc.opt.dataflow import State, forward, live_ins, out_edges, run_block
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import A, Values, defines, step

_RET_K = Class.RET | RVal.K


def _reject(block: Block) -> bool:
    """A bare ``ret #0``."""
    return block.code == _RET_K and block.k == 0 and not block.stmts


def _candidate(
    vals: Values, p: Block, q: Block, state: State, after_p: State, live: dict[int, int]
) -> Block | None:
    """T, when P's edge into Q may take Q's test first (see the module docstring)."""
    if not q.is_cond or q.jt is q.jf or not q.stmts or q.code & Src.X:
        return None
    other = p.jf if p.jt is q else p.jt
    if not _reject(other):
        return None
    if q.jt is other:
        t = q.jf
    elif q.jf is other:
        t = q.jt
    else:
        return None
    regs = list(after_p.regs)
    minlen = after_p.minlen
    written = 0
    for i, ins in enumerate(q.stmts):
        s = step(vals, regs, minlen, ins, (q.id, i))
        if not s.pure or s.dest is None:
            return None
        regs[s.dest] = s.vn
        minlen = s.minlen
        written |= 1 << defines(ins)
    if regs[A] != state.regs[A] or written & live[t.id]:
        return None
    return t


def _shapes(order: list[Block], preds: dict[int, list[Block]]) -> bool:
    """Whether any P -> Q pair has the shape, by structure alone: Q's statements are the
    tail of the statements of some predecessor of P (the usual way A comes to hold their
    value on entry to P).  Most programs have no such pair, and skip the forward sweep;
    the sweep then checks the values for real."""
    for p in order:
        if not p.is_cond or p.jt is p.jf or not p.stmts:
            continue
        for q, other in ((p.jt, p.jf), (p.jf, p.jt)):
            if (
                len(preds[q.id]) == 1
                and q.stmts
                and q.is_cond
                and q.jt is not q.jf
                and (q.jt is other or q.jf is other)
                and _reject(other)
            ):
                tail = q.stmts
                n = len(tail)
                if any(b.stmts[-n:] == tail for b in preds[p.id]):
                    return True
    return False


def run(graph: Graph) -> bool:
    order = graph.order()
    preds = graph.preds(order)
    if not _shapes(order, preds):
        return False
    npreds = {bid: len(ps) for bid, ps in preds.items()}
    live = live_ins(order)
    vals = Values()
    changed = False

    def visit(p: Block, state: State):
        nonlocal changed
        after = run_block(vals, p, state)
        if not p.is_cond or p.jt is p.jf:
            return out_edges(vals, p, after)
        for q in (p.jt, p.jf):
            if npreds.get(q.id) != 1:
                continue
            t = _candidate(vals, p, q, state, after, live)
            if t is None:
                continue
            reject = p.jf if p.jt is q else p.jt
            inner = graph.new_block(list(p.stmts), p.code, p.k)
            inner.jt, inner.jf = (t, reject) if p.jt is q else (reject, t)
            p.stmts = []
            p.code, p.k = q.code, q.k
            p.jt, p.jf = (inner, reject) if q.jt is t else (reject, inner)
            npreds[q.id] = 0
            npreds[inner.id] = 1
            changed = True
            # T is reached through the new block: hand it the registers after P's
            # statements with the facts known on entry (fewer facts: sound).
            return [(t, State(after.regs, state.facts, after.minlen))]
        return out_edges(vals, p, after)

    forward(graph, order, vals, visit)
    return changed
