"""Pass: test a value before a load when both only guard the way to the same ``ret #0``.

``host a and host b`` on the path where the source is not a: ``ld [30]; jeq #a`` (else
reject), then ``ld [26]; jeq #b`` (else reject).  The second test reloads the source,
which A held before the first load.  Both tests (and the load between, which can only
fail by returning 0) are a conjunction whose every failure returns 0, so the order
does not matter: test ``A == b`` first with the value A has on entry, then load and
test the destination.  The reload goes.  libpcap's optimizer finds the same program.

For a block B (statements S_B, test t_B) whose one edge goes to a bare ``ret #0`` and
whose other edge goes to C (C's only predecessor; statements S_C, test t_C, one edge
to a bare ``ret #0``, the other to D), B becomes ``t_C`` on B's entry values, then a
new block ``S_B; t_B`` leading to D, when:

* the value t_C tests after S_C (A, and X for ``jeq x`` forms) is, by value number,
  the one it has on entry to B (so the test decides the same on every path into B);
* no statement of S_C can fail (its loads are covered by the length proven, ``minlen``);
* every register S_C writes is dead on entry to D (D now sees the state after S_B only).

Every path then returns 0 exactly when the original does and reaches D with the same
live registers.  One rewrite per sweep (the sweep's states are stale after it); the pass
sweeps again until no pair qualifies.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache as cache_fn
from functools import partial

from bpfc.isa.insn import Class, Mode, RVal, Src
from bpfc.isa.opcodes import CLASS_MASK, CLASS_MODE_MASK, JA
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.dataflow import State, cannot_fail, forward, live_ins, out_edges, run_block
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import ABS_LOADS, NEGATIVE_OFF, A, Values, X, defines, step

_RET_K = 0x06 | int(RVal.K)
_ALU = int(Class.ALU)
_LD_PACKET = frozenset(int(Class.LD | m) for m in (Mode.ABS, Mode.IND))
_JMP, _JA = int(Class.JMP), JA
_MAX_REWRITES = 64
"""Rewrites per call; the manager's next round goes on (each rewrite removes a reload)."""


def _rejects(block: Block) -> bool:
    return block.code == _RET_K and block.k == 0 and not block.stmts


def _other(block: Block) -> tuple[Block, bool] | None:
    """The successor that is not a bare ``ret #0``, and whether it is the true one."""
    jt, jf, code = block.jt, block.jf, block.code
    if jt is None or jt is jf or code & CLASS_MASK != _JMP or code == _JA:  # not a conditional test
        return None
    # _rejects, inlined: this runs on every block of every call
    false_rejects = jf.code == _RET_K and jf.k == 0 and not jf.stmts
    true_rejects = jt.code == _RET_K and jt.k == 0 and not jt.stmts
    if false_rejects and not true_rejects:
        return jt, True
    if true_rejects and not false_rejects:
        return jf, False
    return None


def _refused(vals: Values, c: Block, state: State) -> bool:
    """The usual refusal, without running B and C (and without numbering anything): C
    reloads into A an absolute load other than A's value on entry to B."""
    for ins in reversed(c.stmts):
        if defines(ins) == A:
            size = ABS_LOADS.get(ins.code)
            # an absolute load's number does not depend on the registers
            if size is not None and ins.k < NEGATIVE_OFF:
                return vals.find(("ld", size, ins.k)) != state.regs[A]
            return False
    return False


def _hoistable(
    vals: Values, b: Block, c: Block, state: State, live: Callable[[], dict[int, int]]
) -> bool:
    if _refused(vals, c, state):
        return False
    after_b = run_block(vals, b, state)
    regs = list(after_b.regs)
    minlen = after_b.minlen
    written = 0
    for i, ins in enumerate(c.stmts):
        s = step(vals, regs, minlen, ins, (c.id, i))
        if not s.pure and not cannot_fail(vals, after_b.facts, regs, s.vn):
            return False  # may fail: not a value already computed on every path here
        regs[s.dest] = s.vn
        minlen = s.minlen
        written |= 1 << s.dest
    if regs[A] != state.regs[A]:
        return False
    if c.code & Src.X and regs[X] != state.regs[X]:
        return False
    nxt = _other(c)
    return nxt is not None and not written & live()[nxt[0].id]


def _rewrite(graph: Graph, b: Block, b_to_c_true: bool, c: Block) -> None:
    d, c_true = _other(c)  # type: ignore[misc]
    reject_b = b.jf if b_to_c_true else b.jt
    reject_c = c.jf if c_true else c.jt
    second = graph.new_block(b.stmts, b.code, b.k)
    second.jt, second.jf = (d, reject_b) if b_to_c_true else (reject_b, d)
    b.stmts, b.code, b.k = [], c.code, c.k
    b.jt, b.jf = (second, reject_c) if c_true else (reject_c, second)


def _candidates(order: list[Block]) -> list[tuple[Block, Block]]:
    """Every B -> C pair of the required shape, in ``order``, whose C has B as its only
    predecessor (the value conditions are not checked yet).

    One scan: predecessors are counted (as ``graph.preds`` lists them, a block with
    jt == jf once) while the pairs are collected, and ``_other(B)`` is inlined: most
    blocks fail it, and this runs over every block on every call.
    """
    found = []
    npreds: dict[int, int] = {}
    get = npreds.get
    for block in order:
        jt = block.jt
        if jt is None:
            continue
        jf, code = block.jf, block.code
        npreds[jt.id] = get(jt.id, 0) + 1
        if jt is jf:
            continue
        npreds[jf.id] = get(jf.id, 0) + 1
        if code & CLASS_MASK != _JMP or code == _JA:
            continue
        false_rejects = jf.code == _RET_K and jf.k == 0 and not jf.stmts
        true_rejects = jt.code == _RET_K and jt.k == 0 and not jt.stmts
        if false_rejects is true_rejects:
            continue
        c = jt if false_rejects else jf
        if c.stmts and _other(c) is not None:
            found.append((block, c))
    return [(b, c) for b, c in found if npreds[c.id] == 1]


def _computes(code: int) -> bool:
    """Whether a statement computes a value of its own: a packet load or an ALU op."""
    return code & CLASS_MASK == _ALU or code & CLASS_MODE_MASK in _LD_PACKET


def _reloads(
    order: list[Block], candidates: list[tuple[Block, Block]]
) -> list[tuple[Block, Block]]:
    """The pairs whose C could test A's value on entry to B, as far as the statements tell.

    When C's test value is a packet load or an ALU result, A can only hold that value on
    entry to B if another statement computed it first, which (value numbers being keyed on
    the operation) means the same statement elsewhere.  Not looked through: an indirect
    load, or an ALU op on X, at an X that is constant on some paths only (on every path
    ``number_values`` has made them absolute or immediate already).  Seen without a
    forward sweep.
    """
    seen: dict[tuple, int] = {}
    for block in order:
        for ins in block.stmts:
            seen[ins] = seen.get(ins, 0) + 1
    kept = []
    for b, c in candidates:
        for ins in reversed(c.stmts):
            if defines(ins) == A:
                if not (_computes(ins.code) and seen[ins] < 2):
                    kept.append((b, c))
                break  # else nothing else computes it: refused
        else:
            kept.append((b, c))
    return kept


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    """Hoist one test at a time, sweeping again after each, until none qualifies."""
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    live = partial(cache.get, live_in)  # asked for once a value matches (rarely)
    changed = False
    for _ in range(_MAX_REWRITES):
        if not _hoist_one(graph, order, live):
            return changed
        changed = True
        order = graph.order()  # the rewrite added a block: order and liveness anew
        live = cache_fn(partial(live_ins, order))
    return changed


def _hoist_one(graph: Graph, order: list[Block], live: Callable[[], dict[int, int]]) -> bool:
    """Find the first qualifying pair in ``order`` and rewrite it; False if there is none."""
    candidates = _candidates(order)
    if candidates:
        candidates = _reloads(order, candidates)
    if not candidates:
        return False
    vals = Values()
    done = False
    pairs = dict((block.id, c) for block, c in candidates)
    # blocks after the last candidate decide nothing: the sweep stops there
    last = order.index(candidates[-1][0])

    def visit(block: Block, state: State):
        nonlocal done
        if done:
            return []
        c = pairs.get(block.id)
        if c is not None:
            if _hoistable(vals, block, c, state, live):
                _rewrite(graph, block, c is block.jt, c)
                done = True
                return []
        return out_edges(vals, block, run_block(vals, block, state))

    forward(graph, order[: last + 1], vals, visit)
    return done
