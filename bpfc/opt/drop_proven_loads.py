"""Pass: drop a dead load made before on every path to it, or whose failure changes nothing.

``(port 80) or (... src 10.0.0.1 and dst port 22 ...)`` (NULL): ``dst port 22`` ends in a
dead ``ldh [x + 6]`` in front of ``ret #262144``.  It may look like it could fail: the
block is reached through a join where one path (not TCP/UDP/SCTP, or a fragment) never
loaded the destination port.  But the block is only reached after testing that the
protocol *is* TCP/UDP/SCTP and the packet is not a fragment, which those paths
contradict: on every path a packet can actually take to it, ``port 80`` loaded
``[x + 6]`` already.  The forward facts cannot see this (a join keeps only what holds on
every path); this pass looks back along the paths.

For a dead packet load S into A in block L (in front of a ``ret`` or an edge on, that
``eliminate_dead`` and ``drop_no_ops`` left because it may fail), with F the facts
known on entry to L, S goes when either holds:

*It succeeded before* (``_proven``).  Search backward from L over the edges P -> B of
the graph, with the state the forward sweep gives on each edge.  An edge is *pruned*
when the sweep never takes it (a decided branch) or when its facts contradict F on some
value (``disjoint``: no value satisfies both); it is *covered* when
``dataflow.cannot_fail`` holds in its state for S's value (a register holds it, it was
computed on every path to that edge, or an indirect load at the same X reached past its
bytes); otherwise the search goes on to P's own incoming edges, and reaching the entry
fails.  At most ``MAX_VISITS`` blocks.  Proof: take any packet that reaches S.  It
satisfies F, and on each edge of its path the facts of that edge's state, so no edge of
its path is pruned (it is taken, and the packet's value satisfies both facts).  Walking
its path back from L the search follows it until an edge is covered (it cannot reach the
entry: the search succeeded); covered means S's value was computed, successfully, on
every path to that edge, this packet's included.  Value numbers name the same run-time
value wherever they occur (a join's fresh number exists only after the join).  So S
cannot fail on any packet.

*Its failure changes nothing* (``doomed``).  Walk forward from just after S, in the
state on entry to L, following only the
edges that state allows, at most ``MAX_WALK`` blocks: every path must end in ``ret #0``
or first run a load that fails whenever S does (``_covers``: ``[k']`` or ``[x + k']`` at
a small X with ``k' + size' >= k + size`` after ``[k]``; ``[x + k']`` at the same X
numbered value after ``[x + k]``).  Proof: a packet on which S fails satisfies that
state, so without S it takes one of the walked paths, and returns 0 there (at the
``ret #0``, at the covering load, or at any earlier load that fails), as it did at S.
(Nothing is assumed of ``len``: it is the wire length, which a truncated capture
makes larger than the bytes a load can reach.)

In both cases S's destination is dead, so on every packet on which S succeeds removing
it changes no live register: no verdict changes.  One load goes per sweep, and the
states are recomputed before the next (``_once``): the proof of one may rest on another.

A program with no dead statement that may fail (most) is not swept.
"""

from __future__ import annotations

from bpfc.isa.insn import Class, MiscOp, Mode, RVal
from bpfc.isa.opcodes import CLASS_MASK, JA, MODE_MASK, RVAL_MASK, SIZE_MASK
from bpfc.opt import facts as F
from bpfc.opt.analyses import Analyses, topo_order
from bpfc.opt.bounds import Bounds
from bpfc.opt.dataflow import (
    State,
    cannot_fail,
    forward,
    out_edges,
    run_block,
)
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import ABS_LOADS, NEGATIVE_OFF, WIDTH, Values, X, effect

MAX_VISITS = 48
"""Blocks one backward search may visit (longer searches give up: the load stays)."""
MAX_WALK = 32
"""Blocks one forward walk (``doomed``) may enter (longer walks give up)."""
_SMALL_OFFSET = 0x10000000  # larger offsets may address Linux's ancillary areas
_SMALL_X = 0xFFFF  # X + offset + size cannot wrap around 2**32 (``bounds.Bounds``)

_LD, _ALU, _ST, _MISC = int(Class.LD), int(Class.ALU), int(Class.ST), int(Class.MISC)
_TXA = int(Class.MISC | MiscOp.TXA)
_JA = JA
_RVAL_MASK, _RVAL_A = RVAL_MASK, int(RVal.A)
_FALLIBLE = (int(Mode.ABS), int(Mode.IND))
_IND = int(Mode.IND)
_RET_K = int(Class.RET | RVal.K)


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


def load_need(bounds: Bounds, ins, regs: list[int]) -> tuple[int | None, int] | None:
    """What a packet load needs: ``(None, end)`` for ``[k]`` (captured length >= end), ``(vx,
    end)`` for ``[x + k]`` at a small X numbered vx (captured length >= x + end, no wrap-around);
    None for anything else."""
    code, k = ins.code, ins.k
    size = ABS_LOADS.get(code)
    if size is not None:
        return (None, k + WIDTH[size]) if k < NEGATIVE_OFF else None
    if code & CLASS_MASK == _LD and code & MODE_MASK == _IND and k < _SMALL_OFFSET:
        width = WIDTH.get(code & SIZE_MASK)
        vx = regs[X]
        if width is not None and bounds.of(vx) <= _SMALL_X:
            return vx, k + width
    return None


def _covers(need: tuple[int | None, int], later: tuple[int | None, int] | None) -> bool:
    """Whether a packet too short for ``need`` is too short for ``later`` too."""
    if later is None:
        return False
    base, end = need
    lbase, lend = later
    if base is None:  # caplen < end <= lend <= x + lend (x small: no wrap)
        return lend >= end
    return lbase == base and lend >= end


def doomed(
    vals: Values,
    bounds: Bounds,
    block: Block,
    start: int,
    state: State,
    need: tuple[int | None, int],
) -> bool:
    """Whether every packet too short for ``need`` that runs ``block`` from statement
    ``start`` on, in ``state``, returns 0: every path the state allows ends in ``ret #0``
    or first runs a load that fails for every such packet (``_covers``).  Statements
    that fail on the way return 0 too.  At most ``MAX_WALK`` blocks."""
    budget = MAX_WALK
    facts = state.facts
    todo = [(block, start, State(state.regs, facts, state.minlen))]
    while todo:
        block, start, state = todo.pop()
        regs = list(state.regs)
        minlen = state.minlen
        covered = False
        for j in range(start, len(block.stmts)):
            ins = block.stmts[j]
            if _covers(need, load_need(bounds, ins, regs)):
                covered = True
                break
            dest, vn, _, minlen, _ = effect(vals, regs, minlen, ins, (block.id, j))
            if dest is not None:
                regs[dest] = vn
        if covered:
            continue
        if block.jt is None:
            if block.code != _RET_K or block.k != 0:
                return False
            continue
        after = State(tuple(regs), state.facts, minlen)
        for succ, out in out_edges(vals, block, after):
            budget -= 1
            if budget < 0:
                return False
            todo.append((succ, 0, out))
    return True


def _once(order: list[Block], graph: Graph) -> bool:
    """Drop the first dead load proven (see the module docstring) and return True; False
    when none is.  One at a time: each proof may rest on a load another would drop (a
    dead ``[x + 6]`` whose failure a later ``[x + 6]`` repeats, which the first one
    proves), so the states are recomputed after each drop."""
    candidates: dict[int, list[int]] = {}
    for block in order:
        # a dead load the other passes leave is one in front of a ``ret`` or an edge on
        # (one overwritten in its block by a later load is ``eliminate_dead``'s: scanning
        # every block for those cost more than it found)
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
    bounds = Bounds(vals)
    for block in order:
        found = candidates.get(block.id)
        state = entry_states.get(block.id)
        if found is None or state is None:
            continue
        regs = list(state.regs)
        minlen, facts = state.minlen, state.facts
        for i, ins in enumerate(block.stmts):
            before = minlen  # the walk assumes the load fails: not the length it proves
            dest, vn, pure, minlen, _ = effect(vals, regs, minlen, ins, (block.id, i))
            if i in found and not pure:
                need = load_need(bounds, ins, regs)
                if (
                    cannot_fail(vals, facts, regs, vn)
                    or _proven(vals, vn, facts, block, preds, edges)
                    or need is not None
                    and doomed(vals, bounds, block, i + 1, State(tuple(regs), facts, before), need)
                ):
                    block.stmts = block.stmts[:i] + block.stmts[i + 1 :]
                    return True
            if dest is not None:
                regs[dest] = vn
    return False


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    changed = False
    while _once(
        Analyses.of(graph, analyses).get(topo_order) if not changed else graph.order(), graph
    ):
        changed = True
    return changed
