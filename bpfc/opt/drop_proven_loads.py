"""Pass: drop a dead load that succeeded before on every path that can reach it.

``(port 80) or (... src 10.0.0.1 and dst port 22 ...)`` (NULL): ``dst port 22`` ends in a
dead ``ldh [x + 6]`` in front of ``ret #262144``.  It may look like it could fail: the
block is reached through a join where one path (not TCP/UDP/SCTP, or a fragment) never
loaded the destination port.  But the block is only reached after testing that the
protocol *is* TCP/UDP/SCTP and the packet is not a fragment, which those paths
contradict: on every path a packet can actually take to it, ``port 80`` loaded
``[x + 6]`` already.  The forward facts cannot see this (a join keeps only what holds on
every path); this pass looks back along the paths.

For a dead statement S in block L that computes a value ``vn`` (a packet load that may
fail: ``eliminate_dead`` and ``drop_no_ops`` left it), with F the facts known before S:
search backward from L over the edges P -> B of the graph, with the state the forward
sweep gives on each edge.  An edge is *pruned* when the sweep never takes it (a decided
branch) or when its facts contradict F on some value (``disjoint``: no value satisfies
both); it is *covered* when ``dataflow.cannot_fail`` holds in its state (a register
holds ``vn``, it was computed on every path to that edge, or an indirect load at the same
X reached past its bytes); otherwise the search goes on to P's own incoming edges, and
reaching the entry fails.  At most ``MAX_VISITS`` blocks per load.  When every path ends
pruned or covered, S goes.

Proof.  Take any packet that reaches S.  It satisfies F (facts hold on every path into
a point), and on each edge of its path the facts of that edge's state.  So no edge of
its path is pruned: it is taken, and a value satisfying both facts exists (the
packet's).  Walking its path back from L, the search therefore follows it until an
edge is covered (it cannot reach the entry: the search succeeded); covered means ``vn``
was computed, successfully, on every path to that edge, this packet's included.  Value
numbers name the same run-time value wherever they occur (a join's fresh number exists
only after the join), so S recomputes a value this packet already computed: S cannot
fail, and its destination is dead, so removing it changes no verdict and no live
register.

A program with no dead statement that may fail (most) is not swept.
"""

from __future__ import annotations

from bpfc.isa.insn import Class, MiscOp, Mode, RVal
from bpfc.isa.opcodes import CLASS_MASK, JA, MODE_MASK, RVAL_MASK
from bpfc.opt import facts as F
from bpfc.opt.analyses import Analyses, topo_order
from bpfc.opt.dataflow import (
    State,
    cannot_fail,
    forward,
    out_edges,
    run_block,
)
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import Values, effect

MAX_VISITS = 48
"""Blocks one backward search may visit (longer searches give up: the load stays)."""

_LD, _ALU, _ST, _MISC = int(Class.LD), int(Class.ALU), int(Class.ST), int(Class.MISC)
_TXA = int(Class.MISC | MiscOp.TXA)
_JA = JA
_RVAL_MASK, _RVAL_A = RVAL_MASK, int(RVal.A)
_FALLIBLE = (int(Mode.ABS), int(Mode.IND))


def _a_dead_at_exit(block: Block) -> bool:
    """Whether A is dead after ``block``'s statements, judged locally (conservatively):
    a ``ret`` of anything but A, or an unconditional edge to such a bare ``ret`` or to a
    block whose first statement writes A without reading it."""
    code = block.code
    if block.jt is None:
        return code & _RVAL_MASK != _RVAL_A
    if code != _JA:
        return False
    succ = block.jt
    if succ.stmts:
        first = succ.stmts[0].code
        return first & CLASS_MASK == _LD or first == _TXA
    return succ.jt is None and succ.code & _RVAL_MASK != _RVAL_A


def _dead_loads(block: Block) -> list[int]:
    """Indices of the packet loads into A of ``block`` whose value is dead (overwritten
    in the block before any read, or dead at its exit: ``_a_dead_at_exit``).  Local, so
    cheap: a whole liveness analysis per call would cost more than the pass."""
    live = not _a_dead_at_exit(block)
    found = []
    stmts = block.stmts
    for i in range(len(stmts) - 1, -1, -1):
        code = stmts[i].code
        cls = code & CLASS_MASK
        if cls == _LD:
            if not live and code & MODE_MASK in _FALLIBLE:
                found.append(i)
            live = False
        elif cls == _ALU or cls == _ST or (cls == _MISC and code != _TXA):
            live = True
        elif code == _TXA:
            live = False
    return found


def _satisfies(v: int, f: F.Fact) -> bool:
    return (
        f.lo <= v <= f.hi
        and (f.vals is None or v in f.vals)
        and v not in f.ne
        and not v & f.zero
        and all(v & m for m in f.nz)
    )


def disjoint(f: F.Fact, g: F.Fact) -> bool:
    """Whether no value satisfies both facts (False when unsure)."""
    if max(f.lo, g.lo) > min(f.hi, g.hi):
        return True
    zero = f.zero | g.zero
    if any(not m & ~zero & F.MASK for m in f.nz + g.nz):
        return True
    if f.vals is not None or g.vals is not None:
        cands = f.vals if g.vals is None else g.vals if f.vals is None else f.vals & g.vals
        return not any(_satisfies(v, f) and _satisfies(v, g) for v in cands)
    return False


def _contradicts(facts: dict[int, F.Fact], wanted: dict[int, F.Fact]) -> bool:
    small, large = (facts, wanted) if len(facts) <= len(wanted) else (wanted, facts)
    for vn, f in small.items():
        g = large.get(vn)
        if g is not None and g is not f and disjoint(f, g):
            return True
    return False


def _proven(
    vals: Values,
    vn: int,
    wanted: dict[int, F.Fact],
    start: Block,
    preds: dict[int, list[Block]],
    edges: dict[tuple[int, int], State],
) -> bool:
    """Whether every path into ``start`` consistent with ``wanted`` computed ``vn``."""
    stack, seen = [start], {start.id}
    while stack:
        block = stack.pop()
        into = preds.get(block.id)
        if not into:
            return False  # the entry: a path on which nothing computed ``vn``
        for pred in into:
            state = edges.get((pred.id, block.id))
            if state is None or _contradicts(state.facts, wanted):
                continue
            if cannot_fail(vals, state.facts, state.regs, vn):
                continue
            if pred.id not in seen:
                if len(seen) >= MAX_VISITS:
                    return False
                seen.add(pred.id)
                stack.append(pred)
    return True


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    candidates: dict[int, list[int]] = {}
    for block in order:
        # a dead load the other passes leave is one in front of a ``ret`` or an edge on
        # (a test reads A, and one overwritten in its block is ``eliminate_dead``'s)
        if block.stmts and (block.jt is None or block.code == _JA):
            found = _dead_loads(block)
            if found:
                candidates[block.id] = found
    if not candidates:
        return False
    vals = Values()
    entry_states: dict[int, State] = {}
    edges: dict[tuple[int, int], State] = {}

    def visit(block: Block, state: State):
        if block.id in candidates:
            entry_states[block.id] = state
        after = run_block(vals, block, state)
        out = out_edges(vals, block, after)
        for succ, s in out:
            edges[(block.id, succ.id)] = s
        return out

    forward(graph, order, vals, visit)
    preds = graph.preds(order)
    changed = False
    for block in order:
        found = candidates.get(block.id)
        state = entry_states.get(block.id)
        if found is None or state is None:
            continue
        drop = set()
        regs = list(state.regs)
        minlen, facts = state.minlen, state.facts
        for i, ins in enumerate(block.stmts):
            dest, vn, pure, minlen, _ = effect(vals, regs, minlen, ins, (block.id, i))
            if i in found and not pure:
                if cannot_fail(vals, facts, regs, vn) or _proven(
                    vals, vn, facts, block, preds, edges
                ):
                    drop.add(i)
                    continue  # dropped: the registers stay as they were
            if dest is not None:
                regs[dest] = vn
        if drop:
            block.stmts = [s for i, s in enumerate(block.stmts) if i not in drop]
            changed = True
    return changed
