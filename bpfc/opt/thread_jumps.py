"""Pass: jump threading on known predicates.

For every edge P -> B, follow B (and the blocks after it) as long as the state on
that edge decides each conditional jump and every statement passed over is pure
(no possibly failing load, no division by an unknown X).  If the walk reaches a
block N such that none of the registers written along the way is live on entry to
N, the edge is redirected to N: on the true edge of ``ldh [12]; jeq #0x800`` a later
``ldh [12]; jeq #0x86dd`` is skipped to its false side.  Facts are keyed by value
number, not by register, so a reloaded ``[12]`` is recognised.  The walk is capped
so the pass stays linear.

Why it is safe: on that edge every packet takes, in each block passed over, the branch
the state decides, and every statement passed over either cannot fail or computes a
value already computed on every path to the edge (so it succeeded already); skipping
them changes no verdict as long as nothing they write is read later, which the
liveness check at N guarantees.  The walk runs from the state of one ``dataflow``
forward sweep (this pass's own; the liveness comes from the shared ``analyses``).

An edge on which the state decides a test every accepting path after it must pass the
other way goes straight to a ``ret #0``, failing loads on the way or not (``doomed.py``
says why that is safe; programs under ``_DOOM_MIN`` blocks skip it).

Most edges find nothing: an edge's first test is usually undecided, which ``_probe``
and ``_hopeless`` see without walking.  A threaded edge can open another walk; the pass
makes one sweep per call and leaves that to the manager's next round, after the other
passes have cleaned up what this sweep left (sweeping again at once, up to four times,
made the optimizer 8% slower on ordinary expressions for a handful of instructions on
10,000 compositions: ``bench/compile_speed.py``, ``bench/size_vs_libpcap.py``).
"""

from __future__ import annotations

from bpfc.isa.insn import AluOp, Class, Mode, Size
from bpfc.isa.opcodes import CLASS_MASK, CLASS_MODE_MASK, JA, OP_MASK, SIZE_MASK, SRC_MASK
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.dataflow import (
    State,
    cannot_fail,
    decided,
    derived,
    forward,
    out_edges,
    run_block,
    within,
)
from bpfc.opt.doomed import doomed, needs, reject_block
from bpfc.opt.facts import decide
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import ABS_LOADS, MASK, NEGATIVE_OFF, WIDTH, A, Values, X, defines, effect

_MAX_WALK = 12
_DOOM_MIN = 20
"""Programs with fewer blocks skip ``doomed``: on the upstream corpus it never shortened
one of them, and cost 3.6% of the optimizer's time there (compositions gain from 20 up)."""
_JMP, _JA = int(Class.JMP), JA
_ENTRY_A = ("entry A",)
_MASKED, _IND = ("masked",), ("indirect",)  # probe kinds besides a load key and ``_ENTRY_A``
_LD = "ld"  # a load key's first item (``Values`` numbers ``("ld", size, k)``), shared
_AND = int(AluOp.AND)
_AND_K = int(Class.ALU | AluOp.AND)  # ``and #m`` (Src.K is 0)
_LD_IND = int(Class.LD | Mode.IND)
_LDX_MSH = int(Class.LDX | Mode.MSH | Size.B)
_SIZES = frozenset(int(s) for s in (Size.W, Size.H, Size.B))

Edges = list[tuple[Block, State]]


def _probe(block: Block) -> tuple | None:
    """What a walk into ``block`` needs known to get past its test, when that is cheap to say.

    Most walks stop at once: the first test is undecided.  That test compares A with a
    constant, and A is the value it had on entry (``_ENTRY_A``: no statement writes it),
    the result of an absolute load (its value-number key), of such a load masked by
    ``and #m``, or of an indirect load at X as ``ldx 4*([k]&0xf)`` or the entry left it,
    so whether the edge's state knows anything about it is a lookup or two.  None: walk it.
    """
    code = block.code
    if code & CLASS_MASK != _JMP or code == _JA or code & SRC_MASK or block.jt is block.jf:
        return None
    stmts = block.stmts
    for i in range(len(stmts) - 1, -1, -1):
        ins = stmts[i]
        if defines(ins) != A:
            continue
        size = ABS_LOADS.get(ins.code)
        if size is not None:
            return None if ins.k >= NEGATIVE_OFF else (_LD, size, ins.k)
        if ins.code == _AND_K:
            return _masked(stmts, i, ins.k)
        if ins.code & CLASS_MODE_MASK == _LD_IND and ins.code & SIZE_MASK in _SIZES:
            return _indirect(stmts, i, ins)
        return None
    return _ENTRY_A


def _masked(stmts: list, i: int, m: int) -> tuple | None:
    """The probe of ``ld [k]; and #m`` ending at ``stmts[i]``, or None."""
    if m == 0 or m == MASK:  # folded to a constant or to the load itself: walk
        return None
    for j in range(i - 1, -1, -1):
        ins = stmts[j]
        if defines(ins) == A:
            size = ABS_LOADS.get(ins.code)
            if size is None or ins.k >= NEGATIVE_OFF:
                return None
            return (_MASKED, ("ld", size, ins.k), ("c", m))
    return None


def _indirect(stmts: list, i: int, load) -> tuple | None:
    """The probe of an indirect load ``stmts[i]`` at an X from ``ldx 4*([k]&0xf)`` or the entry."""
    size = load.code & SIZE_MASK
    for j in range(i - 1, -1, -1):
        ins = stmts[j]
        if defines(ins) == X:
            if ins.code != _LDX_MSH:
                return None
            return (_IND, size, load.k, ("msh", ins.k))
    return (_IND, size, load.k, None)


def _hopeless(vals: Values, probe: tuple, state: State, block: Block) -> bool:
    """True when the state cannot decide the test ``probe`` describes (``block``'s own)."""
    kind = probe[0]
    if kind is _MASKED:
        inner = vals.find(probe[1])
        if inner is not None and inner in state.facts:
            return False  # a fact on the load may decide the masked test: walk
        if within(vals, state.facts, probe[1]) is not None:
            return False  # so may one on a wider load of its bytes (``dataflow.within``)
        if inner is None:
            return True  # never loaded: nothing is known of it or of any mask of it
        mask = vals.find(probe[2])
        if mask is None:
            return True
        va = vals.find(("alu", _AND, inner, mask) if inner < mask else ("alu", _AND, mask, inner))
    elif kind is _IND:
        if probe[3] is None:
            vx = state.regs[X]
            if vx in vals.const:
                return False  # the load becomes absolute: walk
        else:
            vx = vals.find(probe[3])
            if vx is None:
                return True
        va = vals.find(("ldi", probe[1], probe[2], vx))
    elif probe is _ENTRY_A:
        va = state.regs[A]
    else:
        va = vals.find(probe)
        if va is None:  # never loaded itself, but a wider load of its bytes may be known
            fact = within(vals, state.facts, probe)
            return fact is None or decide(fact, block.code & OP_MASK, block.k) is None
    if va is None:
        return True
    fact = state.facts.get(va)
    if fact is None:
        if va in vals.const:
            return False
        fact = derived(vals, state.facts, va)  # ``-v`` or ``v + c`` with v known
        if fact is None:
            return True
    return decide(fact, block.code & OP_MASK, block.k) is None


def _walk(vals: Values, start: Block, state: State, live: dict[int, int]) -> Block | None:
    """The furthest block an edge into ``start`` may jump to directly, or None."""
    regs = list(state.regs)
    minlen = state.minlen
    facts = state.facts
    written = 0
    best = None
    block = start
    number = vals.number
    for _ in range(_MAX_WALK):
        if block.jt is None:
            break
        for i, ins in enumerate(block.stmts):
            code, _, _, k = ins
            size = ABS_LOADS.get(code)
            if size is not None and k < NEGATIVE_OFF:  # ``effect``'s common case, inlined
                vn = number(("ld", size, k))
                if regs[A] != vn:
                    if k + WIDTH[size] > minlen:  # may fail: not pure
                        return best
                    written |= 1 << A
                    regs[A] = vn
                continue
            dest, vn, pure, _, _ = effect(vals, regs, minlen, ins, (block.id, i))
            if regs[dest] != vn:
                if not pure and not cannot_fail(vals, facts, regs, vn):
                    return best  # may fail: not already computed on every path here
                written |= 1 << dest
                regs[dest] = vn
        code = block.code
        if code & CLASS_MASK == _JMP and code != _JA and block.jt is not block.jf:
            taken = decided(vals, regs, facts, block.code, block.k)
            if taken is None:
                break
            nxt = block.jt if taken else block.jf
        else:
            nxt = block.jt
        clash = written & live[nxt.id]
        if clash:  # written, but maybe back to the value it had: then no clash
            entry = state.regs
            for r in range(len(regs)):
                if clash >> r & 1 and regs[r] == entry[r]:
                    clash &= ~(1 << r)
        if not clash:
            best = nxt
        block = nxt
    return best


def _thread(
    vals: Values, block: Block, edges: Edges, live: dict[int, int], doom: _Doom | None = None
) -> bool:
    """Redirect each of ``block``'s out ``edges`` as far as ``_walk`` finds; True if any moved.

    ``edges`` are ``dataflow.out_edges``' list for ``block``: an entry whose edge moves
    gets the new target, with the state of the edge it replaced (which is the state a
    sweep of the changed graph finds on it: the skipped blocks changed nothing live).
    """
    changed = False
    for n, (succ, state) in enumerate(edges):
        if succ.jt is None:
            continue  # a return: there is nowhere further to go
        if (
            doom is not None and doomed(vals, state, doom.needs.get(succ.id)) and doom.after(block)
        ):  # every packet on the edge is rejected (``doomed``): straight to ``ret #0``
            changed = True
            block.redirect(n, len(edges), succ, doom.reject)
            edges[n] = (doom.reject, state)
            continue
        probe = _probe(succ)
        if probe is not None and _hopeless(vals, probe, state, succ):
            continue  # the usual case: the edge's first test is undecided
        target = _walk(vals, succ, state, live)
        if target is None or target is succ:
            continue
        changed = True
        block.redirect(n, len(edges), succ, target)
        edges[n] = (target, state)
    return changed


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    """Thread every edge one forward sweep finds; True when an edge moved."""
    cache = Analyses.of(graph, analyses)
    order, live = cache.get(topo_order), cache.get(live_in)
    return _sweep(graph, order, live, _Doom.of(order))


def _sweep(graph: Graph, order: list[Block], live: dict[int, int], doom: _Doom | None) -> bool:
    """One forward sweep threading every edge it can; True when an edge moved."""
    vals = Values()
    changed = False

    def visit(block: Block, state: State) -> Edges:
        nonlocal changed
        edges = out_edges(vals, block, run_block(vals, block, state))
        # liveness stays valid while edges are threaded: a walk only looks at blocks after
        # ``block``, and a changed edge changes the liveness of blocks before it only
        if edges and _thread(vals, block, edges, live, doom):
            changed = True
        return edges

    forward(graph, order, vals, visit)
    return changed


class _Doom:
    """``doomed``'s tests for one run (they stay true while its sweep threads edges), and
    the ``ret #0`` a doomed edge goes to."""

    def __init__(self, order: list[Block], reject: Block) -> None:
        self.needs = needs(order)
        self.reject = reject
        self._order = order
        self._pos: dict[int, int] | None = None

    @staticmethod
    def of(order: list[Block]) -> _Doom | None:
        if len(order) < _DOOM_MIN:
            return None
        reject = reject_block(order)
        return None if reject is None else _Doom(order, reject)

    def after(self, block: Block) -> bool:
        """Whether the ``ret #0`` comes after ``block`` in the order (edges only go forward)."""
        if self._pos is None:
            self._pos = {b.id: i for i, b in enumerate(self._order)}
        pos = self._pos
        return pos.get(block.id, len(pos)) < pos[self.reject.id]
