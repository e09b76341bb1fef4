"""The two analyses every pass shares: a forward value/fact sweep and backward liveness.

Forward: the state on an edge is the value number held by each register (A, X,
M[0..15]), the ``Fact`` known about each tested value, and ``minlen``, a packet length
every path has proven by loading.  Because cBPF is a DAG, one sweep in topological
order is exact for this lattice; states of joining edges are merged (registers that
disagree get a fresh number; facts are intersected).  A branch whose outcome the
state decides contributes only its taken edge.  States are dropped as soon as their
block has been visited, so memory follows the width of the graph, not its size.  Each
pass that needs the states runs its own sweep with its own ``visit``.

Backward: ``live_in`` is a bitmask of registers read before being written on some
path, and ``guard`` is a length below which every path returns 0 anyway (a load
that fails before it changes nothing and may be dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from bpfc.isa.insn import (
    AluOp,
    Class,
    Insn,
    Mode,
    RVal,
    Size,
    Src,
    bpf_class,
    bpf_mode,
    bpf_size,
    bpf_src,
)
from bpfc.isa.opcodes import CLASS_MASK, JA, OP_MASK, SIZE_MASK
from bpfc.opt import facts as F
from bpfc.opt.graph import Block, Graph
from bpfc.opt.pullback import pull
from bpfc.opt.values import (
    ABS_LOADS,
    INITIAL_REGS,
    NEGATIVE_OFF,
    WIDE_SPAN,
    WIDTH,
    A,
    Values,
    X,
    defines,
    effect,
    fold,
    uses,
)
from bpfc.opt.values import (
    NREGS as NREGS,  # re-exported: tests size register files with it
)

INF = 1 << 40
_JMP, _JA = int(Class.JMP), JA
_SRC_X = int(Src.X)  # plain ints on hot paths: an IntEnum member costs a lookup


class State:
    __slots__ = ("regs", "facts", "minlen")

    def __init__(self, regs: tuple[int, ...], facts: dict[int, F.Fact], minlen: int) -> None:
        self.regs = regs
        self.facts = facts
        self.minlen = minlen


def initial(vals: Values) -> State:
    """A = X = 0 as the interpreters set them; M[] unknown (every ``Values`` numbers these)."""
    return State(INITIAL_REGS, {}, 0)


def join(vals: Values, block: Block, states: Sequence[State]) -> State:
    if len(states) == 1:
        return states[0]
    first = states[0]
    base = first.regs
    if len(states) == 2:  # the common case (``forward`` joins edges as they arrive), inlined
        second = states[1]
        other = second.regs
        if other is not base and other != base:
            number, bid = vals.number, block.id
            if base[1:] == other[1:]:  # only A differs: the usual join after two tests
                base = (number(("phi", bid, 0)),) + base[1:]
            else:
                base = tuple(
                    [
                        a if a == b else number(("phi", bid, i))
                        for i, (a, b) in enumerate(zip(base, other, strict=True))
                    ]
                )
        facts = first.facts
        if second.facts is not facts:
            get, merge = second.facts.get, F.merge
            # paths share most facts (a test refines only the value it tests): keep those
            facts = {
                vn: f if f is g else merge(f, g)
                for vn, f in facts.items()
                if (g := get(vn)) is not None
            }
        return State(base, facts, min(first.minlen, second.minlen))
    differ: set[int] = set()  # registers on which some state disagrees with the first
    for s in states[1:]:
        other = s.regs
        if other is not base and other != base:
            differ.update([i for i, (a, b) in enumerate(zip(base, other, strict=True)) if a != b])
    if differ:
        regs = list(base)
        for i in sorted(differ):
            regs[i] = vals.number(("phi", block.id, i))
        base = tuple(regs)
    facts = first.facts
    merge = F.merge
    for s in states[1:]:
        other = s.facts
        if other is facts:
            continue
        get = other.get
        facts = {
            vn: f if f is g else merge(f, g)
            for vn, f in facts.items()
            if (g := get(vn)) is not None
        }
    return State(base, facts, min(s.minlen for s in states))


def operand(vals: Values, regs: Sequence[int], code: int, k: int) -> tuple[int | None, int]:
    """The constant compared against (None if X unknown) and the value number of A."""
    if bpf_src(code) == Src.X:
        return vals.const.get(regs[X]), regs[A]
    return k, regs[A]


def outcome(vals: Values, state: State, code: int, k: int) -> bool | None:
    """The fixed outcome of a conditional jump in ``state``, or None."""
    return decided(vals, state.regs, state.facts, code, k)


_SAME = {0x10: True, 0x20: False, 0x30: True}


def decided(
    vals: Values, regs: Sequence[int], facts: dict[int, F.Fact], code: int, k: int
) -> bool | None:
    """``outcome`` on a bare register file and fact map."""
    va = regs[A]
    if code & _SRC_X:
        c = vals.const.get(regs[X])
        if c is None:
            return _SAME.get(code & OP_MASK) if regs[X] == va else None
    else:
        c = k
    ca = vals.const.get(va)
    if ca is not None:
        return F.evaluate(code & OP_MASK, ca, c)
    fact = facts.get(va)
    found = None if fact is None else F.decide(fact, code & OP_MASK, c)
    if found is None:
        fact = derived(vals, facts, va)
        if fact is not None:
            return F.decide(fact, code & OP_MASK, c)
    return found


_AND, _ADD = int(AluOp.AND), int(AluOp.ADD)
_SUB = int(AluOp.SUB)
_BIJECTIONS = frozenset((_ADD, _SUB, int(AluOp.XOR)))  # of the 32-bit values, by a constant


def derived(vals: Values, facts: dict[int, F.Fact], va: int) -> F.Fact | None:
    """What the fact on the operand of ``va = v op c`` (or ``-v``) says about ``va``.

    ``v & m`` keeps what is known of v's bits (802.11 frame types: ``jset #0x8`` true and
    ``jset #0x4`` false decide ``[0] & 0xc == 8``); any other operation with a constant,
    and ``neg``, maps a finite set of possible values of v through itself: after
    ``ip[9] == 17``, ``-ip[9] == -6`` is false.  None: nothing is known.
    """
    key = vals.keys[va]
    kind = key[0]
    if kind == "ld":  # ``within``'s first check, inlined: a hot path
        k = key[2]
        if key[1] != _BYTE or k >= WIDE_SPAN or not (vals.wide_w >> k) & 1:
            return None
        return within(vals, facts, key)
    if kind == "neg":
        inner = facts.get(key[1]) or within_key(vals, facts, key[1])
        if inner is None:
            return None
        if inner.vals is None:  # a bijection: excluded values map one for one
            return F.Fact(ne=frozenset((-v) & F.MASK for v in inner.ne)) if inner.ne else None
        return F.of_values([(-v) & F.MASK for v in inner.vals])
    if kind != "alu":
        return None
    op, left, right = key[1], key[2], key[3]
    const = vals.const
    c, v, const_right = const.get(right), left, True
    if c is None:
        c, v, const_right = const.get(left), right, False
        if c is None:
            return None
    inner = facts.get(v) or within_key(vals, facts, v)
    if inner is None:
        return None
    if op == _AND:  # known bits only: ``facts.masked`` says why not the set of values
        return F.masked(inner, c)
    if inner.vals is None:
        if inner.ne and op in _BIJECTIONS:  # c - v too
            return F.Fact(ne=frozenset(fold(op, x, c) for x in inner.ne))
        return None
    results = [fold(op, x, c) if const_right else fold(op, c, x) for x in inner.vals]
    if None in results:
        return None
    return F.of_values(results)


_BYTE = int(Size.B)
_WIDER = {  # a narrower load's size -> (each wider size, its width in bytes)
    int(Size.B): ((int(Size.H), 2), (int(Size.W), 4)),
    int(Size.H): ((int(Size.W), 4),),
}


def within_key(vals: Values, facts: dict[int, F.Fact], v: int) -> F.Fact | None:
    """``within`` for the value number ``v`` when it is a packet load, else None."""
    key = vals.keys[v]
    return within(vals, facts, key) if key[0] == "ld" else None


def within(vals: Values, facts: dict[int, F.Fact], key: tuple) -> F.Fact | None:
    """What a fact on a wider load of the same bytes says about the packet load ``key``.

    ``ld [k']`` (or ``ldh``) reads its bytes big-endian; a load of width w at k inside
    them is ``(v >> 8 * (k' + w' - k - w)) & (2**(8w) - 1)`` of its value v, both read
    from the same packet, which never changes: after ``ip dst 10.1.2.4`` (``ld [16]``),
    ``ip[16] ^ 10 = 0`` (``ldb [16]``) is decided.  The possible values map through
    the extraction (and the known-zero bits shift with it).  A fact exists only where
    the wider load succeeded, so the narrower one reads bytes it read.  None when no
    wider load of these bytes has a fact with a value set or zero bits.  Absolute loads
    below ``WIDE_SPAN`` only, and only byte loads inside a word some statement loaded
    (``Values.wide_w`` marks those bytes, so most calls end on a bit test: a wider
    check cost 5% of the optimizer's time for no program of the corpus).
    """
    size, k = key[1], key[2]
    if size != _BYTE or k >= WIDE_SPAN or not (vals.wide_w >> k) & 1:
        return None
    width = WIDTH[size]
    mask = (1 << 8 * width) - 1
    find = vals.find
    for size2, w in _WIDER[size]:
        for k2 in range(max(0, k + width - w), k + 1):
            vn = find(("ld", size2, k2))
            f = None if vn is None else facts.get(vn)
            if f is None or (f.vals is None and not f.zero):
                continue
            shift = 8 * (k2 + w - k - width)
            zero = (f.zero >> shift) & mask
            if f.vals is None:
                return F.Fact(zero=zero)
            got = F.of_values(sorted({(x >> shift) & mask for x in f.vals}))
            return got._replace(zero=zero) if zero else got
    return None


def branch(vals: Values, state: State, code: int, k: int, taken: bool) -> State:
    """The state on one edge of an undecided conditional jump."""
    regs = state.regs
    const = vals.const
    if code & _SRC_X:
        c = const.get(regs[X])
        if c is None:
            return state
    else:
        c = k
    va = regs[A]
    if va in const:
        return state
    facts = state.facts.copy()
    facts[va] = F.refine(facts.get(va, F.TOP), code & OP_MASK, c, taken)
    if vals.keys[va][0] in _STEPS:
        _pull_into(vals, facts, va)
    return State(regs, facts, state.minlen)


_STEPS = frozenset(("alu", "neg"))


def _pull_into(vals: Values, facts: dict[int, F.Fact], va: int) -> None:
    """Note in ``facts`` what its fact on ``va = v op c`` says about v (``pullback``)."""
    found = pull(vals, facts, va)
    if found is not None:
        facts[found[0]] = found[1]


@lru_cache(maxsize=4096)  # facts are immutable, so results can be shared
def _first_test(op: int, c: int) -> tuple[F.Fact, F.Fact]:
    """The facts on the true and the false edge of ``A op c`` when nothing was known of A."""
    return F.refine(F.TOP, op, c, True), F.refine(F.TOP, op, c, False)


def run_block(vals: Values, block: Block, state: State) -> State:
    """The state after the block's statements (no rewriting)."""
    stmts = block.stmts
    if not stmts:
        return state
    minlen = state.minlen
    if len(stmts) == 1:  # most blocks are one ``ld [k]`` in front of a test
        code, _, _, k = stmts[0]
        size = ABS_LOADS.get(code)
        if size is not None and k < NEGATIVE_OFF:
            end = k + WIDTH[size]
            regs = (vals.number(("ld", size, k)),) + state.regs[1:]  # A is register 0
            return State(regs, state.facts, end if end > minlen else minlen)
    regs = list(state.regs)
    facts = state.facts
    number = vals.number
    for i, ins in enumerate(stmts):
        code, _, _, k = ins
        size = ABS_LOADS.get(code)
        if size is not None and k < NEGATIVE_OFF:  # ``step``'s common case, inlined
            regs[A] = number(("ld", size, k))
            end = k + WIDTH[size]
            if end > minlen:
                minlen = end
            continue
        dest, vn, pure, minlen, _ = effect(vals, regs, minlen, ins, (block.id, i))
        regs[dest] = vn
        if not pure and vn not in facts:
            facts = computed(vals, facts, state.facts, vn)
    return State(tuple(regs), facts, minlen)


def computed(
    vals: Values, facts: dict[int, F.Fact], original: dict[int, F.Fact], vn: int
) -> dict[int, F.Fact]:
    """``facts`` noting that ``vn``, a value that may fail to compute (an indirect load, a
    division by X), has been computed on this path: a ``TOP`` fact, so that joins keep
    it only where every path computed it.

    A fact on a value already means that: a test on it ran, so it was computed.  Passes
    ask ``cannot_fail`` before treating a repeat of such a statement as unable to fail
    (``ldb [x+0]; and #0xf0`` tests only the masked value: without this note a later
    ``ldb [x+0]`` at the same X would look like a fresh load).  An indirect load at a
    small X also notes how far past X the packet is now known to reach (``_reach``).
    ``original`` is the state's own map, copied on first change so states never share a
    mutated dict.
    """
    if facts is original:
        facts = facts.copy()
    facts[vn] = F.TOP
    key = vals.keys[vn]
    if key[0] == "ldi" and key[2] < _SMALL_OFFSET and _small(vals, key[3]):
        reach = vals.number(("reach", key[3]))
        end = key[2] + WIDTH[key[1]]
        known = facts.get(reach)
        if known is None or known.lo < end:
            facts[reach] = F.Fact(lo=end)
    return facts


_SMALL_OFFSET = 0x10000000  # larger offsets may address Linux's ancillary areas
_SMALL_X = 0xFFFF


def _small(vals: Values, vx: int, depth: int = 3) -> bool:
    """Whether X's value ``vx`` is at most 0xffff: a header length (``ldxb 4*([k]&0xf)``),
    a byte or half-word load, a small constant, or a sum of two such (depth-limited)."""
    c = vals.const.get(vx)
    if c is not None:
        return c <= _SMALL_X
    key = vals.keys[vx]
    kind = key[0]
    if kind == "msh":
        return True
    if kind in ("ld", "ldi"):
        return key[1] != Size.W
    if kind == "alu" and key[1] == _ADD and depth:
        return _small(vals, key[2], depth - 1) and _small(vals, key[3], depth - 1)
    return False


def cannot_fail(vals: Values, facts: dict[int, F.Fact], regs: Sequence[int], vn: int) -> bool:
    """Whether computing ``vn`` again cannot fail: a register holds it, or it was computed
    on every path (``computed``), or it is an indirect load ``[x + k]`` at a small X whose
    bytes end no later than those of a load at the same X that succeeded on every path.

    That last one: the earlier load proved ``x + end <= len`` (no wrap-around: x and the
    offsets are small), and ``x + k + size <= x + end`` for this one, so this one's bounds
    check passes too, under libpcap's check and under Linux's (``[x+14]`` after ``[x+16]``:
    the ports of one header).
    """
    if vn in facts or vn in regs:
        return True
    key = vals.keys[vn]
    if key[0] != "ldi" or key[2] >= _SMALL_OFFSET:
        return False
    reach = vals.find(("reach", key[3]))
    if reach is None:
        return False
    known = facts.get(reach)
    return known is not None and key[2] + WIDTH[key[1]] <= known.lo


def out_edges(vals: Values, block: Block, after: State) -> list[tuple[Block, State]]:
    """Successor edges with their states, given the state after the statements.

    This is ``decided`` and ``branch`` in one, with the shared lookups done once: every
    forward pass calls it for every block.
    """
    jt = block.jt
    if jt is None:
        return []
    jf, code = block.jf, block.code
    if jt is jf or code & CLASS_MASK != _JMP or code == _JA:
        return [(jt, after)]
    regs = after.regs
    const = vals.const
    va = regs[A]
    if code & _SRC_X:
        c = const.get(regs[X])
        if c is None:
            taken = _SAME.get(code & OP_MASK) if regs[X] == va else None
            if taken is None:
                return [(jt, after), (jf, after)]
            return [(jt if taken else jf, after)]
    else:
        c = block.k
    op = code & OP_MASK
    ca = const.get(va)
    if ca is not None:
        return [(jt if F.evaluate(op, ca, c) else jf, after)]
    facts = after.facts
    fact = facts.get(va)
    if fact is None:
        fact = derived(vals, facts, va) or F.TOP
    if fact is not F.TOP:
        taken = F.decide(fact, op, c)
        if taken is not None:
            return [(jt if taken else jf, after)]
    # An inert successor (``ret #k``, nothing else) never looks at its state: most tests
    # have one, and it gets ``after`` rather than a refined copy nobody reads.
    minlen = after.minlen
    first = _first_test(op, c) if fact is F.TOP else None  # the common case, memoized
    if jt.jt is None and not jt.stmts and not jt.code & SIZE_MASK:
        on_true = after
    else:
        refined = facts.copy()
        refined[va] = first[0] if first else F.refine(fact, op, c, True)
        if vals.keys[va][0] in _STEPS:  # ``v op c``: the fact says something of v too
            _pull_into(vals, refined, va)
        on_true = State(regs, refined, minlen)
    if jf.jt is None and not jf.stmts and not jf.code & SIZE_MASK:
        on_false = after
    else:
        refined = facts.copy()
        refined[va] = first[1] if first else F.refine(fact, op, c, False)
        if vals.keys[va][0] in _STEPS:
            _pull_into(vals, refined, va)
        on_false = State(regs, refined, minlen)
    return [(jt, on_true), (jf, on_false)]


Visit = Callable[[Block, State], Iterable[tuple[Block, State]]]


def inert(block: Block) -> bool:
    """A ``ret #k`` with no statements: nothing in it reads or could use a state."""
    return block.jt is None and not block.stmts and block.code & SIZE_MASK == RVal.K


def forward(graph: Graph, order: Sequence[Block], vals: Values, visit: Visit) -> None:
    """Call ``visit(block, entry_state)`` in topological order; it returns the out edges.

    Incoming states are joined as they arrive, so at most one state per pending block
    is alive.  Blocks no visited edge reaches are skipped (they are dead on every path),
    and so are ``inert`` blocks: their incoming states are not even joined.  That saves
    most of the work on long ``or`` lists, whose thousands of paths end in the same few
    ``ret #k`` blocks (every pass's ``visit`` does nothing on such a block).
    """
    entry = graph.entry
    pending: dict[int, State] = {} if inert(entry) else {entry.id: initial(vals)}
    for block in order:
        state = pending.pop(block.id, None)
        if state is None:
            continue
        for succ, out in visit(block, state):
            if succ.jt is None and not succ.stmts and not succ.code & SIZE_MASK:
                continue  # ``inert``, inlined (RVal.K is 0): never visited, never joined
            prev = pending.get(succ.id)
            pending[succ.id] = out if prev is None else join(vals, succ, (prev, out))


def term_uses(block: Block) -> int:
    """Registers the terminator reads (bit r for register r)."""
    code = block.code
    if block.jt is None:  # ret: RVal.A is 0x10, RVal.X 0x08
        return _RET_USES[code & SIZE_MASK]
    if code & CLASS_MASK != _JMP or code == _JA:
        return 0
    return _A_AND_X if code & _SRC_X else _A_ONLY


_A_ONLY, _A_AND_X = 1 << A, (1 << A) | (1 << X)
_RET_USES = {int(RVal.K): 0, int(RVal.X): 1 << X, int(RVal.A): 1 << A, 0x18: 0}

TRANSFERS: dict[Insn, tuple[int, int, int]] = {}
"""Per statement: the registers it leaves alone, the registers it reads, ``load_end``."""


def transfer(ins: Insn) -> tuple[int, int, int]:
    """``(~(1 << defines(ins)), uses(ins), load_end(ins))``: what the backward analyses need.

    Live-in is (live-out & first) | second.  One dict lookup per statement instead of
    three calls: every pass runs these analyses over every statement.
    """
    found = TRANSFERS.get(ins)
    if found is None:
        if len(TRANSFERS) > 8192:  # bounded, as an lru_cache would be
            TRANSFERS.clear()
        found = TRANSFERS[ins] = (~(1 << defines(ins)), uses(ins), load_end(ins))
    return found


def live_ins(order: Sequence[Block]) -> dict[int, int]:
    """Registers live on entry to each block (bit r for register r)."""
    live: dict[int, int] = {}
    cached = TRANSFERS.get
    for block in reversed(order):
        jt = block.jt
        if jt is None:  # ``term_uses``, inlined: it runs for every block of every pass
            out = _RET_USES[block.code & SIZE_MASK]
        else:
            out = live[jt.id]
            jf = block.jf
            code = block.code
            if code & CLASS_MASK == _JMP and code != _JA:
                out |= _A_AND_X if code & _SRC_X else _A_ONLY
            if jf is not jt:
                out |= live[jf.id]
        for ins in reversed(block.stmts):
            found = cached(ins) or transfer(ins)
            out = (out & found[0]) | found[1]
        live[block.id] = out
    return live


@lru_cache(maxsize=4096)  # pure in the instruction; called per statement by several passes
def load_end(ins: Insn) -> int:
    """Packet length an absolute load needs (0 for statements that are not such loads)."""
    code, k = ins.code, ins.k
    cls = bpf_class(code)
    if cls == Class.LD and bpf_mode(code) == Mode.ABS:
        return 0 if k >= NEGATIVE_OFF else k + WIDTH.get(bpf_size(code), 4)
    if cls == Class.LDX and bpf_mode(code) == Mode.MSH:
        return k + 1
    return 0


def ret_guard(block: Block) -> int:
    """A length below which every packet is rejected: all of them for ``ret #0``."""
    return INF if block.k == 0 and not block.code & SIZE_MASK else 0  # RVal.K is 0


def min_lengths(graph: Graph, order: Sequence[Block]) -> dict[int, int]:
    """Packet length proven on entry to each block by loads on every path."""
    entry: dict[int, int] = {graph.entry.id: 0}
    cached = TRANSFERS.get
    for block in order:
        m = entry.get(block.id, 0)
        for ins in block.stmts:
            end = (cached(ins) or transfer(ins))[2]
            if end > m:
                m = end
        jt = block.jt
        if jt is None:
            continue
        jf = block.jf
        for succ in (jt,) if jf is jt or jf is None else (jt, jf):
            prev = entry.get(succ.id)
            entry[succ.id] = m if prev is None or m < prev else prev
    return entry
