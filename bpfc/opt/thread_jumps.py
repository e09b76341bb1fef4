"""Pass: jump threading on known predicates.

For every edge P -> B, follow B (and the blocks after it) as long as the state on
that edge decides each conditional jump and every statement passed over is pure
(no possibly failing load, no division by an unknown X).  If the walk reaches a
block N such that none of the registers written along the way is live on entry to
N, the edge is redirected to N: on the true edge of ``ldh [12]; jeq #0x800`` a later
``ldh [12]; jeq #0x86dd`` is skipped to its false side.  Facts are keyed by value
number, not by register, so a reloaded ``[12]`` is recognised.  The walk is capped
so the pass stays linear.

Most calls find nothing: an edge's first test is usually undecided, which ``_probe``
and ``_hopeless`` see without walking, and a call on a graph no pass changed since the
last sweep replays that sweep's edge states (``sweeps``) instead of sweeping again.
"""

from __future__ import annotations

from bpfc.isa.insn import AluOp, Class, Mode, Size
from bpfc.isa.opcodes import CLASS_MASK, CLASS_MODE_MASK, JA, OP_MASK, SIZE_MASK, SRC_MASK
from bpfc.opt.dataflow import (
    State,
    decided,
    inert,
    initial,
    join,
    live_ins,
    out_edges,
    run_block,
)
from bpfc.opt.facts import decide
from bpfc.opt.graph import Block, Graph
from bpfc.opt.number_values import rewritten
from bpfc.opt.sweeps import Edges, Sweep, forget, recall, remember, worth_keeping
from bpfc.opt.values import ABS_LOADS, MASK, NEGATIVE_OFF, WIDTH, A, Values, X, defines, effect

_MAX_WALK = 12
_JMP, _JA = int(Class.JMP), JA
_ENTRY_A = ("entry A",)
_MASKED, _IND = ("masked",), ("indirect",)  # probe kinds besides a load key and ``_ENTRY_A``
_LD = "ld"  # a load key's first item (``Values`` numbers ``("ld", size, k)``), shared
_AND = int(AluOp.AND)
_AND_K = int(Class.ALU | AluOp.AND)  # ``and #m`` (Src.K is 0)
_LD_IND = int(Class.LD | Mode.IND)
_LDX_MSH = int(Class.LDX | Mode.MSH | Size.B)
_SIZES = frozenset(int(s) for s in (Size.W, Size.H, Size.B))


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


def _probes(graph: Graph) -> dict[int, tuple]:
    """``_probe_of``'s table for ``graph``, kept from call to call while the graph lives."""
    found = graph.probes
    if found is None:
        found = graph.probes = {}
    return found


def _probe_of(probes: dict[int, tuple], block: Block) -> tuple | None:
    """``_probe(block)``, reused from ``probes`` (``_probes``' table) while still valid.

    A probe depends only on the block's statements, its terminator code and whether its
    two successors are one block, so the table records those with it and reuses it while
    all three are as they were.  No pass edits a statement list in place (each assigns a
    new one), and the table keeps the old list alive, so the same list object means the
    same statements.
    """
    found = probes.get(block.id)
    if (
        found is None
        or found[0] is not block.stmts
        or found[1] != block.code
        or found[2] is not (block.jt is block.jf)
    ):
        found = probes[block.id] = (block.stmts, block.code, block.jt is block.jf, _probe(block))
    return found[3]


def _hopeless(vals: Values, probe: tuple, state: State, block: Block) -> bool:
    """True when the state cannot decide the test ``probe`` describes (``block``'s own)."""
    kind = probe[0]
    if kind is _MASKED:
        inner = vals.find(probe[1])
        if inner is None:
            return True  # never loaded: nothing is known of it or of any mask of it
        if inner in state.facts:
            return False  # a fact on the load may decide the masked test: walk
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
    else:
        va = state.regs[A] if probe is _ENTRY_A else vals.find(probe)
    if va is None:
        return True
    fact = state.facts.get(va)
    if fact is None:
        return va not in vals.const
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
                if not pure and vn not in facts and vn not in regs:
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


def _finds_work(graph: Graph, sweep: Sweep) -> bool:
    """Whether a sweep over the unchanged graph would thread some edge (replaying ``sweep``)."""
    vals = sweep.vals
    probes = _probes(graph)
    for block in sweep.order:
        for succ, st in sweep.edges.get(block.id, ()):
            if succ.jt is None:
                continue
            probe = _probe_of(probes, succ)
            if probe is not None and _hopeless(vals, probe, st, succ):
                continue
            if sweep.live is None:  # only now: most replays never get this far
                sweep.live = live_ins(sweep.order)
            target = _walk(vals, succ, st, sweep.live)
            if target is not None and target is not succ:
                return True
    return False


def run(graph: Graph) -> bool:
    sweep = recall(graph)
    if sweep is not None and not _finds_work(graph, sweep):
        return False  # the common confirming call: nothing changed since the last sweep
    order = graph.order()
    known: dict[int, int] | None = None  # ``live_ins(order)``, once some walk needs it
    probes = _probes(graph)
    vals = Values()
    changed = False

    exact = True  # whether the states the sweep passes on are those of the graph it leaves

    entries: dict[int, State] = {}
    recorded: dict[int, Edges] = {}
    rewrites: dict[int, list] = {}  # ``number_values``' work on this graph, done on the way
    keep = worth_keeping(order)
    find, const = vals.find, vals.const

    # ``dataflow.forward`` with this pass's visit written into its loop: the sweep runs
    # on every call that finds the graph changed, over every block
    entry = graph.entry
    pending: dict[int, State] = {} if inert(entry) else {entry.id: initial(vals)}
    for block in order:
        state = pending.pop(block.id, None)
        if state is None:
            continue
        if keep:
            after, new = rewritten(vals, block, state)
            if new is not None:
                rewrites[block.id] = new
            edges = out_edges(vals, block, after)  # a fresh list: ours
            entries[block.id] = state
            recorded[block.id] = edges
        else:
            edges = out_edges(vals, block, run_block(vals, block, state))
        for n, (succ, st) in enumerate(edges):
            if succ.jt is None:
                if not succ.stmts and not succ.code & SIZE_MASK:
                    continue  # ``inert``: never visited, never joined
            else:
                # ``_probe_of`` and ``_hopeless``' usual case inlined: most edges stop here
                found = probes.get(succ.id)
                if (
                    found is None
                    or found[0] is not succ.stmts
                    or found[1] != succ.code
                    or found[2] is not (succ.jt is succ.jf)
                ):
                    probe = _probe_of(probes, succ)
                else:
                    probe = found[3]
                walk = True
                if probe is not None:
                    if probe[0] is _LD:  # an absolute load's key: is anything known of it?
                        va = find(probe)
                        if va is None:
                            walk = False
                        else:
                            fact = st.facts.get(va)
                            if fact is None:
                                walk = va in const
                            else:
                                walk = decide(fact, succ.code & OP_MASK, succ.k) is not None
                    else:
                        walk = not _hopeless(vals, probe, st, succ)
                if walk:
                    if known is None:
                        known = live_ins(order)
                    target = _walk(vals, succ, st, known)
                    if target is not None and target is not succ:
                        changed = True
                        if len(edges) == 2:  # an undecided branch: edge 0 true, edge 1 false
                            if n == 0:
                                block.jt = target
                            else:
                                block.jf = target
                        else:  # one edge: every successor slot that leads there
                            if block.jt is succ:
                                block.jt = target
                            if block.jf is succ:
                                block.jf = target
                        edges[n] = (target, st)
                        succ = target
                        if succ.jt is None and not succ.stmts and not succ.code & SIZE_MASK:
                            continue
            prev = pending.get(succ.id)
            pending[succ.id] = st if prev is None else join(vals, succ, (prev, st))
        if len(edges) == 2 and block.jt is block.jf:
            # both sides now lead to one block: a fresh sweep would pass ``after`` on
            # unrefined where this one joins the two refined states
            exact = False

    # A threaded edge carries the state of the edge it replaced, which is exactly the
    # state a fresh sweep of the new graph finds there: the sweep stays valid after changes.
    if exact and keep:
        sweep = Sweep(graph, order, vals, entries, recorded)  # threading kept ``order`` valid
        sweep.rewrites = rewrites
        if not changed:
            sweep.live = known
        remember(sweep, graph)
    else:
        forget(graph)
    return changed
