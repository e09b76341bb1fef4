"""Pass: of two pure tests that share a target, test first the value already in A.

``host a or host b`` (NULL, RAW, ...): ``ld [src]; jeq #a`` (accept), ``ld [dst]; jeq #a``
(accept), then ``ld [src]; jeq #b``, ``ld [dst]; jeq #b``.  When the third test runs, A
holds the destination and both addresses have been loaded on every path, so the last two
tests are two pure tests into one accepting target: either order gives the same verdict.
Testing ``[dst] == b`` first, on the value A already holds, drops one load.  libpcap's
optimizer finds the same program.  ``hoist_tests`` does this where the shared target is
a bare ``ret #0`` (where the first block may even load what can fail); this pass does it
for any shared target, and so only for statements that cannot fail.

The shape: a conditional block B (statements S_B, test t_B) with one edge to a block S
and the other to C, where B is C's only predecessor; C (statements S_C, test t_C) has
one edge to S too and the other to D.  B becomes ``t_C`` with no statements, its edge
of C's polarity to S and the other to a new block ``S_B; t_B`` (edges: B's, with C
replaced by D).  S_C goes.  Conditions:

* no statement of S_B or S_C can fail: each is pure where it runs (a packet load the
  proven length ``minlen`` covers, an ALU op that cannot divide by zero ...) or computes
  a value a register already holds or a test already decided on every path there (such
  a load has succeeded before); or, for a load of S_B, every packet too short for it
  returns 0 from S anyway, reaching S in B's entry state (``_short_to_s``), or every
  path into B on which t_C goes to S made that load before (``_Proof``);
* the value t_C tests after S_C (A, and X for a ``jeq x`` form) is, by value number, the
  one it has on entry to B, so t_C decides the same on B's entry values;
* every register S_B or S_C writes is dead on entry to S and to D.

Proof.  Neither order can fail a load (a load of S_B that can: a packet too short for
it returns 0 in both orders, ``_short_to_s``), so a packet's verdict depends only on
where it leaves the pair.  Originally it reaches S exactly when t_B (on S's side) or t_C (on
S's side) holds, else D; t_C's value is the same before and after S_B and S_C, so the
rewritten block reaches S under the same condition, and D otherwise.  The registers
that now differ on arrival at S or D (those S_B or S_C wrote) are dead there.  The
program shrinks by ``len(S_C)`` statements (at least one: the pass needs S_C nonempty).

Between B and C there may be ``mids``: statement-free tests M1..Mk (k <= ``MAX_MIDS``,
each the only predecessor of the next and C's), each with one edge to S and the other
to the next (``udp[4:2] > 12 and port 20 or 21``: ``[dst] == 20``, ``[dst] == 21``,
then the source reloaded for ``== 21``).  B's test goes first as before, then B's
statements and test, the mids, and the last mid's edge to C goes to D.  *Proof:* as
above, with B, M1..Mk and C one ``or`` of pure tests into S: the mids run on the
registers S_B left, in both programs; no load can fail; a packet reaches S exactly when
one of the tests comes out S's way, else D.

A rewrite makes the forward states after B stale, so the pass sweeps again after each
one, until no pair qualifies (each rewrite removes a statement, so this ends); a second
run finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.isa.insn import Class, Mode, RVal, Src
from bpfc.isa.opcodes import CLASS_MASK, CLASS_MODE_MASK, JA
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.bounds import Bounds
from bpfc.opt.dataflow import State, branch, cannot_fail, forward, live_ins, out_edges, run_block
from bpfc.opt.drop_proven_loads import _proven, doomed, load_need
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import A, Values, X, defines, step

_JMP, _JA = int(Class.JMP), JA
_RET_K = int(Class.RET | RVal.K)
_ALU = int(Class.ALU)
_LD_PACKET = frozenset(int(Class.LD | m) for m in (Mode.ABS, Mode.IND))
MAX_MIDS = 4


def _is_test(block: Block) -> bool:
    return block.jt is not None and block.jt is not block.jf and block.code & CLASS_MASK == _JMP


def _rejects(block: Block) -> bool:
    return block.code == _RET_K and block.k == 0 and not block.stmts


def _pair(b: Block) -> tuple[Block, Block, Block, list[Block]] | None:
    """(C, S, D, mids) when B and a later C have the shape above: C is B's successor, or
    is reached from it through ``mids``, statement-free tests (at most ``MAX_MIDS``) each
    with one edge to S and the other to the next (predecessors are counted by the
    caller)."""
    if not _is_test(b):
        return None
    for c, s in ((b.jt, b.jf), (b.jf, b.jt)):
        mids: list[Block] = []
        while not c.stmts and _is_test(c) and len(mids) < MAX_MIDS and s in (c.jt, c.jf):
            mids.append(c)
            c = c.jf if c.jt is s else c.jt
        if c.stmts and _is_test(c) and s is not c:
            if c.jt is s:
                d = c.jf
            elif c.jf is s:
                d = c.jt
            else:
                continue
            if d is s or _rejects(s):  # a bare ``ret #0`` target is ``hoist_tests``' case
                continue
            return c, s, d, mids
    return None


def _candidates(
    order: Sequence[Block],
) -> dict[int, tuple[Block, Block, Block, list[Block]]]:
    """B's id -> (C, S, D, mids) for every pair of the shape whose C and mids each have
    one predecessor (B, or the mid before)."""
    npreds: dict[int, int] = {}
    for block in order:
        for succ in block.succs():
            npreds[succ.id] = npreds.get(succ.id, 0) + 1
    found = {}
    seen: dict = {}
    for block in order:
        for ins in block.stmts:
            seen[ins] = seen.get(ins, 0) + 1
    for block in order:
        pair = _pair(block)
        if (
            pair is not None
            and all(npreds.get(m.id) == 1 for m in (pair[0], *pair[3]))
            and _recomputes(pair[0], seen)
        ):
            found[block.id] = pair
    return found


def _recomputes(c: Block, seen: dict) -> bool:
    """Whether C's last statement writing A could give the value A has on entry to B.

    A packet load or an ALU op gives a value number keyed on the operation: A can hold
    it on entry to B only if the same statement ran before, somewhere else.  (The full
    check is ``_swappable``'s; this one needs no sweep.)"""
    for ins in reversed(c.stmts):
        if defines(ins) == A:
            cls = ins.code & CLASS_MASK
            computes = cls == _ALU or ins.code & CLASS_MODE_MASK in _LD_PACKET
            return not computes or seen.get(ins, 0) > 1
    return True


def _swappable(
    vals: Values,
    b: Block,
    c: Block,
    s_block: Block,
    state: State,
    live_s: int,
    live_d: int,
    proof: _Proof,
) -> bool:
    """The value conditions of the module docstring, on B's entry state."""
    bounds = None
    regs = list(state.regs)
    minlen = state.minlen
    facts = state.facts
    written = 0
    for where, stmts in ((b.id, b.stmts), (c.id, c.stmts)):
        for i, ins in enumerate(stmts):
            s = step(vals, regs, minlen, ins, (where, i))
            if s.dest is None:
                return False
            if not s.pure and not cannot_fail(vals, facts, regs, s.vn):
                # may fail: not a value already computed on every path here, unless it
                # is a load of S_B whose failure S repeats (``_short_to_s``)
                if where != b.id:
                    return False
                bounds = bounds or Bounds(vals)
                if not _short_to_s(vals, bounds, ins, regs, s_block, state) and not proof.made(
                    vals, s.vn, b, c, s_block, state
                ):
                    return False
            regs[s.dest] = s.vn
            minlen = s.minlen
            written |= 1 << s.dest
    if regs[A] != state.regs[A]:
        return False
    if c.code & Src.X and regs[X] != state.regs[X]:
        return False
    return not written & (live_s | live_d)


def _short_to_s(
    vals: Values, bounds: Bounds, ins, regs: list[int], s_block: Block, state: State
) -> bool:
    """Whether a packet too short for the load ``ins`` of S_B returns 0 from S as well
    (``drop_proven_loads.doomed``, walking S in B's entry state: the state in which a
    packet reaches S after the swap, when t_C sends it there before S_B ran).

    Then S_B may fail: originally such a packet returned 0 at S_B; after the swap it
    returns 0 at S_B too when t_C sends it on to the new block, and at S otherwise.
    (``host a and esp`` on PPP: esp is tested on the byte A holds before ``ld [16]``,
    whose false target, ``dst host b``, loads ``[20]`` and fails for short packets too.)"""
    need = load_need(bounds, ins, regs)
    return need is not None and doomed(vals, bounds, s_block, 0, state, need)


class _Proof:
    """Whether a load of S_B was made before on every path into B on which t_C sends the
    packet to S (``drop_proven_loads._proven``, with the facts of B's entry state and of
    t_C's edge to S).  Then S_B may fail: a packet that t_C sends to S after the swap never
    runs S_B, and originally its S_B could not fail (the value was computed before), so it
    went on through the pure tests to S as well; one that t_C sends on runs S_B as before.
    (IPV6 ``... and (src port 1024 or port 80 or 8080 ...)``: ``[40] == 8080`` before
    ``ldh [42]``, which every path with ``[40] != 53`` loaded.)

    The backward search needs every edge's state: a sweep records them only when an
    earlier sweep found a pair that only this proof could allow (``wanted``)."""

    def __init__(self, order: Sequence[Block] | None, graph: Graph) -> None:
        self.edges: dict[tuple[int, int], State] | None = None if order is None else {}
        self._order = order
        self._graph = graph
        self._preds: dict[int, list[Block]] | None = None
        self.wanted = False

    def made(self, vals: Values, vn: int, b: Block, c: Block, s: Block, state: State) -> bool:
        if self.edges is None:
            self.wanted = True
            return False
        if self._preds is None:
            self._preds = self._graph.preds(self._order)
        wanted = branch(vals, state, c.code, c.k, c.jt is s).facts
        return _proven(vals, vn, wanted, b, self._preds, self.edges)


def _rewrite(graph: Graph, b: Block, c: Block, s: Block, d: Block, mids: list[Block]) -> None:
    second = graph.new_block(b.stmts, b.code, b.k)
    second.jt = d if b.jt is c else b.jt
    second.jf = d if b.jf is c else b.jf
    if mids:  # the last mid's edge to C now goes to D
        last = mids[-1]
        if last.jt is c:
            last.jt = d
        else:
            last.jf = d
    b.stmts, b.code, b.k = [], c.code, c.k
    b.jt = second if c.jt is d else c.jt
    b.jf = second if c.jf is d else c.jf


def _once(graph: Graph, cache: Analyses | None, record: bool = False) -> bool | None:
    """One sweep; rewrites the first pair that qualifies.  ``cache``: the manager's
    analyses, valid only until this pass's first change (None after it).  ``record``:
    keep every edge's state for ``_Proof``.  None: nothing qualifies, but a sweep that
    records might find a pair (``_Proof.wanted``)."""
    order = cache.get(topo_order) if cache else graph.order()
    pairs = _candidates(order)
    if not pairs:
        return False
    live = cache.get(live_in) if cache else live_ins(order)
    vals = Values()
    done = False
    proof = _Proof(order if record else None, graph)
    edges = proof.edges

    def visit(block: Block, state: State):
        nonlocal done
        if done:
            return []
        pair = pairs.get(block.id)
        if pair is not None:
            c, s, d, mids = pair
            if _swappable(vals, block, c, s, state, live[s.id], live[d.id], proof):
                _rewrite(graph, block, c, s, d, mids)
                done = True
                return []
        out = out_edges(vals, block, run_block(vals, block, state))
        if edges is not None:
            for succ, after in out:
                edges[(block.id, succ.id)] = after
        return out

    forward(graph, order, vals, visit)
    return True if done else None if proof.wanted else False


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    changed = False
    while True:
        cache = None if changed else Analyses.of(graph, analyses)
        found = _once(graph, cache)
        if found is None:  # only a recorded sweep's proof could allow a pair
            found = _once(graph, cache, record=True)
        if not found:
            return changed
        changed = True
