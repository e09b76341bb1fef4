"""Pass: drop runs of statements that leave every live register as it was.

``number_values`` drops a single statement whose destination already holds its
value.  A run of several statements can be just as useless while no single one of
them is: the false edge of ``ldb [21]; and #0x1f; jeq #0x1a`` goes on to
``ldb [21]; and #0x1f; jeq #0x18`` — the load changes A, and only the ``and`` brings
it back to the value it had.  Likewise a variable-offset header recomputes
``ldx M[0]; ldb [x+0]; and #0xf; lsh #2; add x; tax`` into an X that already holds
that value, and a load whose result nobody reads is dead.

For every block the pass knows, from one forward sweep, the value number of each
register before and after each statement, and which statements cannot fail (a
failing load ends the filter with 0, so only loads proven in bounds on every path
may go).  A run ``i..j`` goes when every statement in it cannot fail and every
register live after it holds the same value number after ``j`` as before ``i``: the
rest of the program then sees exactly the state it saw before.

Absolute loads are proven by ``minlen``; indirect loads ``[x + k]`` by an earlier
load at the same X (value number) on every path whose byte range contains this one's
(``proven``).  Within the byte range of one successful load every narrower load at
the same base succeeds too, under libpcap's bounds check and under Linux's.
"""

from __future__ import annotations

from operator import itemgetter

from bpfc.isa.insn import Class, Mode, bpf_mode, bpf_size
from bpfc.isa.opcodes import CLASS_MASK, CLASS_MODE_MASK
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.dataflow import (
    State,
    cannot_fail,
    forward,
    out_edges,
    run_block,
    term_uses,
    transfer,
)
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import NREGS, WIDTH, Values, X, effect

_LD_IND = int(Class.LD | Mode.IND)
_SMALL_OFFSET = 0x10000000  # larger offsets may address Linux's ancillary areas
_CAP = 8  # proven ranges kept per X value: enough for header chains, keeps joins cheap
_MAX_RUN = 48  # the interval search is quadratic in a block's statements

Proven = dict[int, tuple[tuple[int, int], ...]]


def _indirect(ins) -> tuple[int, int] | None:
    """The byte range ``(k, k + size)`` of an indirect packet load, else None."""
    if ins.code & CLASS_MASK != Class.LD or bpf_mode(ins.code) != Mode.IND:
        return None
    width = WIDTH.get(bpf_size(ins.code))
    if width is None or ins.k >= _SMALL_OFFSET:
        return None
    return ins.k, ins.k + width


def _covered(ranges: tuple[tuple[int, int], ...], lo: int, hi: int) -> bool:
    return any(a <= lo and hi <= b for a, b in ranges)


def _meet(a: Proven, b: Proven) -> Proven:
    """Ranges proven on both of two joining paths."""
    if a is b:
        return a
    out: Proven = {}
    for xvn, ranges in a.items():
        other = b.get(xvn)
        if other is not None:
            kept = tuple(r for r in ranges if _covered(other, *r))
            if kept:
                out[xvn] = kept
    return out


_SELECTORS: dict[int, itemgetter | None] = {}


def _selector(mask: int) -> itemgetter | None:
    """The registers of ``mask`` read out of a register file (None: no register at all)."""
    found = _SELECTORS.get(mask, False)
    if found is False:
        regs = [r for r in range(NREGS) if mask >> r & 1]
        found = _SELECTORS[mask] = itemgetter(*regs) if regs else None
    return found  # type: ignore[return-value]


def _run_to_drop(
    snaps: list[tuple[int, ...]], safe: list[bool], live: list[int]
) -> tuple[int, int] | None:
    """The longest ``(i, j)`` whose statements cannot fail and change nothing live."""
    best = None
    for j in range(len(safe), 0, -1):
        if not safe[j - 1]:
            continue  # a run ends on a statement that cannot fail
        select = _selector(live[j])
        after = None if select is None else select(snaps[j])
        i = j
        lowest = None
        while i > 0 and safe[i - 1]:
            i -= 1
            if select is None or select(snaps[i]) == after:
                lowest = i
        if lowest is not None and (best is None or j - lowest > best[1] - best[0]):
            best = (lowest, j)
    return best


def _candidates(order: list[Block]) -> tuple[set[int], bool]:
    """The blocks where a run could go, and whether one indirect load's bytes contain
    another's (then ranges must be followed along every path, and every block holding an
    indirect load is a candidate).

    A run can only bring a register back to a value it held by recomputing it, which
    means executing again a statement that computed it (value numbers are keyed on the
    operation), so the run holds a statement that occurs twice; an indirect load is only
    proven by an earlier one whose bytes contain it.  Other blocks only pass the state on,
    and a program with no candidate skips the forward sweep.
    """
    first: dict = {}  # statement -> the block it was first seen in
    get = first.get
    found = set()
    ranges: list[tuple[int, int]] = []
    nested = False
    indirect = set()
    for block in order:
        bid = block.id
        for ins in block.stmts:
            seen = get(ins)
            if seen is None:
                first[ins] = bid
            else:  # a repeat: both blocks hold it
                found.add(seen)
                found.add(bid)
            if (
                ins.code & CLASS_MODE_MASK != _LD_IND
            ):  # the usual answer of ``_indirect``, without a call
                continue
            rng = _indirect(ins)
            if rng is not None:
                indirect.add(bid)
                if not nested:
                    lo, hi = rng
                    nested = any(a <= lo and hi <= b or lo <= a and b <= hi for a, b in ranges)
                    ranges.append(rng)
    return (found | indirect, True) if nested else (found, False)


def _drop(
    vals: Values, block: Block, state: State, proven: Proven, live_out: int
) -> tuple[Proven, tuple[int, ...], int]:
    """Drop the longest run of ``block`` that cannot fail and changes nothing live; the
    ranges proven after the block, and its registers and proven length after."""
    regs = list(state.regs)
    minlen = state.minlen
    facts = state.facts
    snaps = [state.regs]
    safe: list[bool] = []
    stmts = block.stmts
    for i, ins in enumerate(stmts):
        dest, vn, pure, minlen, _ = effect(vals, regs, minlen, ins, (block.id, i))
        # a value tested or held on every path here was computed: its load succeeded
        ok = pure or cannot_fail(vals, facts, regs, vn)
        rng = _indirect(ins) if not ok else None
        if rng is not None:
            xvn = regs[X]
            ranges = proven.get(xvn, ())
            ok = _covered(ranges, *rng)
            if not ok and len(ranges) < _CAP:
                proven = {**proven, xvn: (*ranges, rng)}
        safe.append(ok)
        if dest is not None:
            regs[dest] = vn
        snaps.append(tuple(regs))
    n = len(stmts)
    if n and n <= _MAX_RUN and any(safe):
        out = live_out | term_uses(block)
        live = [0] * (n + 1)
        live[n] = out
        for k in range(n - 1, -1, -1):
            kept, read, _ = transfer(stmts[k])
            out = live[k] = (out & kept) | read
        found = _run_to_drop(snaps, safe, live)
        if found is not None:
            i, j = found
            block.stmts = stmts[:i] + stmts[j:]
    return proven, snaps[-1], minlen


def _live_out(block: Block, live_in: dict[int, int]) -> int:
    out = 0
    for succ in block.succs():
        out |= live_in[succ.id]
    return out


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    candidates, nested = _candidates(order)
    if not candidates:
        return False
    # dropping a run keeps every live register, so one liveness serves the whole sweep
    live = cache.get(live_in)
    vals = Values()
    proven_in: dict[int, Proven] = {graph.entry.id: {}}
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        proven = proven_in.pop(block.id, {})
        if block.id not in candidates:  # nothing to drop: pass the state and ranges on
            after = run_block(vals, block, state)
        else:
            before = block.stmts
            proven, regs, minlen = _drop(vals, block, state, proven, _live_out(block, live))
            if block.stmts is not before:
                # a dropped run may have written a dead register: the state after the
                # block is that of the statements kept, which later blocks compare with
                changed = True
                after = run_block(vals, block, state)
            else:
                after = State(regs, state.facts, minlen)
        edges = out_edges(vals, block, after)
        for succ, _ in edges:
            prev = proven_in.get(succ.id)
            proven_in[succ.id] = proven if prev is None else _meet(prev, proven)
        return edges

    forward(graph, order, vals, visit)
    return changed
