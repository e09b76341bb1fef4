"""The two analyses every pass shares: a forward value/fact sweep and backward liveness.

Forward: the state on an edge is the value number held by each register (A, X,
M[0..15]), the ``Fact`` known about each tested value, and ``minlen``, a packet length
every path has proven by loading.  Because cBPF is a DAG, one sweep in topological
order is exact for this lattice; states of joining edges are merged (registers that
disagree get a fresh number; facts are intersected).  A branch whose outcome the
state decides contributes only its taken edge.  States are dropped as soon as their
block has been visited, so memory follows the width of the graph, not its size.

Backward: ``live_in`` is a bitmask of registers read before being written on some
path, and ``guard`` is a length below which every path returns 0 anyway (a load
that fails before it changes nothing and may be dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from bpfc.insn import (
    Class,
    Insn,
    Mode,
    RVal,
    Src,
    bpf_class,
    bpf_mode,
    bpf_rval,
    bpf_size,
    bpf_src,
)
from bpfc.opt import facts as F
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import ANCILLARY, NREGS, WIDTH, A, Values, X, defines, step, uses

INF = 1 << 40


class State:
    __slots__ = ("regs", "facts", "minlen")

    def __init__(self, regs: tuple[int, ...], facts: dict[int, F.Fact], minlen: int) -> None:
        self.regs = regs
        self.facts = facts
        self.minlen = minlen


def initial(vals: Values) -> State:
    """A = X = 0 as the interpreters set them; M[] unknown."""
    zero = vals.of_const(0)
    mem = tuple(vals.number(("init", i)) for i in range(NREGS - 2))
    return State((zero, zero) + mem, {}, 0)


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
            base = tuple(
                [
                    a if a == b else number(("phi", bid, i))
                    for i, (a, b) in enumerate(zip(base, other, strict=True))
                ]
            )
        facts = first.facts
        if second.facts is not facts:
            get, merge = second.facts.get, F.merge
            facts = {vn: merge(f, g) for vn, f in facts.items() if (g := get(vn)) is not None}
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
        facts = {vn: merge(f, g) for vn, f in facts.items() if (g := get(vn)) is not None}
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
    if code & Src.X:
        c = vals.const.get(regs[X])
        if c is None:
            return _SAME.get(code & 0xF0) if regs[X] == va else None
    else:
        c = k
    ca = vals.const.get(va)
    if ca is not None:
        return F.evaluate(code & 0xF0, ca, c)
    fact = facts.get(va)
    found = None if fact is None else F.decide(fact, code & 0xF0, c)
    if found is None:  # v & m: what is known about v may decide it (802.11 frame types)
        key = vals.keys[va]
        if key[0] == "alu" and key[1] == 0x50:  # AluOp.AND, operands in either order
            m, inner = vals.const.get(key[3]), facts.get(key[2])
            if m is None:
                m, inner = vals.const.get(key[2]), facts.get(key[3])
            if m is not None and inner is not None:
                derived = F.masked(inner, m)
                if derived is not None:
                    return F.decide(derived, code & 0xF0, c)
    return found


def branch(vals: Values, state: State, code: int, k: int, taken: bool) -> State:
    """The state on one edge of an undecided conditional jump."""
    regs = state.regs
    const = vals.const
    if code & Src.X:
        c = const.get(regs[X])
        if c is None:
            return state
    else:
        c = k
    va = regs[A]
    if va in const:
        return state
    facts = state.facts.copy()
    facts[va] = F.refine(facts.get(va, F.TOP), code & 0xF0, c, taken)
    return State(regs, facts, state.minlen)


def run_block(vals: Values, block: Block, state: State) -> State:
    """The state after the block's statements (no rewriting)."""
    if not block.stmts:
        return state
    regs = list(state.regs)
    minlen = state.minlen
    for i, ins in enumerate(block.stmts):
        s = step(vals, regs, minlen, ins, (block.id, i))
        regs[s.dest] = s.vn
        minlen = s.minlen
    return State(tuple(regs), state.facts, minlen)


def out_edges(vals: Values, block: Block, after: State) -> list[tuple[Block, State]]:
    """Successor edges with their states, given the state after the statements."""
    if block.jt is None:
        return []
    if not block.is_cond or block.jt is block.jf:
        return [(block.jt, after)]
    taken = outcome(vals, after, block.code, block.k)
    if taken is not None:
        return [(block.jt if taken else block.jf, after)]
    return [
        (block.jt, branch(vals, after, block.code, block.k, True)),
        (block.jf, branch(vals, after, block.code, block.k, False)),
    ]


Visit = Callable[[Block, State], Iterable[tuple[Block, State]]]


def inert(block: Block) -> bool:
    """A ``ret #k`` with no statements: nothing in it reads or could use a state."""
    return block.jt is None and not block.stmts and block.code & 0x18 == RVal.K


def forward(graph: Graph, order: Sequence[Block], vals: Values, visit: Visit) -> None:
    """Call ``visit(block, entry_state)`` in topological order; it returns the out edges.

    Incoming states are joined as they arrive, so at most one state per pending block
    is alive.  Blocks no visited edge reaches are skipped (they are dead on every path),
    and so are ``inert`` blocks: their incoming states are not even joined.  That saves
    most of the work on long ``or`` lists, whose thousands of paths end in the same few
    ``ret #k`` blocks (every pass's ``visit`` does nothing on such a block).
    """
    pending: dict[int, State] = {graph.entry.id: initial(vals)}
    skip = {block.id for block in order if inert(block)}
    for block in order:
        state = pending.pop(block.id, None)
        if state is None or block.id in skip:
            continue
        for succ, out in visit(block, state):
            prev = pending.get(succ.id)
            if prev is None:
                pending[succ.id] = out
            elif succ.id not in skip:
                pending[succ.id] = join(vals, succ, (prev, out))


def term_uses(block: Block) -> int:
    if block.is_ret:
        rv = bpf_rval(block.code)
        return 1 << A if rv == RVal.A else (1 << X if rv == RVal.X else 0)
    if block.is_cond:
        return (1 << A) | (1 << X) if bpf_src(block.code) == Src.X else 1 << A
    return 0


def live_ins(order: Sequence[Block]) -> dict[int, int]:
    """Registers live on entry to each block (bit r for register r)."""
    live: dict[int, int] = {}
    for block in reversed(order):
        out = term_uses(block)
        for succ in block.succs():
            out |= live[succ.id]
        for ins in reversed(block.stmts):
            out = (out & ~(1 << defines(ins))) | uses(ins)
        live[block.id] = out
    return live


@lru_cache(maxsize=4096)  # pure in the instruction; called per statement by several passes
def load_end(ins: Insn) -> int:
    """Packet length an absolute load needs (0 for statements that are not such loads)."""
    code, k = ins.code, ins.k
    cls = bpf_class(code)
    if cls == Class.LD and bpf_mode(code) == Mode.ABS:
        return 0 if k >= ANCILLARY else k + WIDTH.get(bpf_size(code), 4)
    if cls == Class.LDX and bpf_mode(code) == Mode.MSH:
        return k + 1
    return 0


def ret_guard(block: Block) -> int:
    if bpf_rval(block.code) == RVal.K:
        return INF if block.k == 0 else 0
    return 0


def min_lengths(graph: Graph, order: Sequence[Block]) -> dict[int, int]:
    """Packet length proven on entry to each block by loads on every path."""
    entry: dict[int, int] = {graph.entry.id: 0}
    for block in order:
        m = entry.get(block.id, 0)
        for ins in block.stmts:
            m = max(m, load_end(ins))
        for succ in block.succs():
            prev = entry.get(succ.id)
            entry[succ.id] = m if prev is None else min(prev, m)
    return entry
