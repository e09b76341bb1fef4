"""Pass: dead statement elimination, correct across successors.

Walking blocks in reverse topological order with the registers live on exit (the
union over all successors), a statement whose destination is dead is removed when it
has no effect.  Loads are the subtle case: a load past the end of the packet makes
the filter return 0.  A dead load may still go when the packet length it needs is
already proven on every path into it (``min_lengths``), or when every path after it
returns 0 for any packet that short anyway (``guard``, computed over the statements
that are kept).  A dead ``ld [x + k]`` goes when every path after it returns 0 or runs
a kept load at the same X whose bytes reach as far (``_sweep``'s second try, made only
when such a load stayed; the proof is above ``_LD_IND``).  Everything in front of an
unconditional ``ret #0`` is dead.
"""

from __future__ import annotations

from bpfc.isa.insn import (
    AluOp,
    Class,
    Insn,
    MiscOp,
    Mode,
    Size,
    Src,
    bpf_class,
    bpf_mode,
    bpf_op,
    bpf_src,
)
from bpfc.isa.opcodes import CLASS_MASK, CLASS_MODE_MASK, SIZE_MASK
from bpfc.opt.analyses import Analyses, topo_order
from bpfc.opt.dataflow import INF, TRANSFERS, min_lengths, ret_guard, term_uses, transfer
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import NEGATIVE_OFF, WIDTH


def _may_fail(ins) -> bool:
    """Statements that can end the filter with 0 in a way ``load_end`` does not describe."""
    code = ins.code
    cls = bpf_class(code)
    if cls == Class.LD:
        if bpf_mode(code) == Mode.ABS and ins.k >= NEGATIVE_OFF:
            return True
        return bpf_mode(code) == Mode.IND or bpf_mode(code) not in (
            Mode.IMM,
            Mode.ABS,
            Mode.MEM,
            Mode.LEN,
        )
    if cls == Class.LDX:
        return bpf_mode(code) not in (Mode.IMM, Mode.MEM, Mode.LEN, Mode.MSH)
    if cls == Class.ALU and bpf_op(code) in (AluOp.DIV, AluOp.MOD):
        return bpf_src(code) == Src.X or ins.k == 0
    return False


_FAILS: dict[Insn, bool] = {}


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    rewritten, stuck = _sweep(graph, order, None)
    if stuck:  # a dead indirect load stayed: try again, knowing the later ones (below)
        rewritten = _sweep(graph, order, _indirect_loads(order))[0]
    for block, kept in rewritten:
        block.stmts = kept
    return bool(rewritten)


def _sweep(
    graph: Graph, order: list[Block], xvns: dict[tuple[int, int], int] | None
) -> tuple[list[tuple], bool]:
    """The statements to keep in each block that loses some, and whether a dead indirect
    load was kept (only counted without ``xvns``; with them, ``_later`` may drop it)."""
    # ``min_lengths`` only matters for a dead load that needs more than the guard: it is
    # computed the first time one shows up, on the graph as it came in (rewritten blocks
    # get their statements only at the end, so it never sees a change of this sweep)
    minlen: dict[int, int] | None = None
    live: dict[int, int] = {}
    guard: dict[int, int] = {}
    later: dict[int, dict[int, int] | None] = {}
    rewritten: list[tuple] = []
    stuck = False
    cached, fails = TRANSFERS.get, _FAILS.get
    for block in reversed(order):
        # registers live after the statements, and the length below which every path
        # from there returns 0: the terminator's own, joined over the successors
        out = term_uses(block)
        g = ret_guard(block) if block.jt is None else INF
        for succ in block.succs():
            out |= live[succ.id]
            g = min(g, guard[succ.id])
        ahead: dict[int, int] | None = None
        if xvns is not None:
            ahead = _meet_later(block, later)
        stmts = block.stmts
        if stmts:
            before: list[int] | None = None  # proven length before each statement
            kept = []
            for i in range(len(stmts) - 1, -1, -1):
                ins = stmts[i]
                keep, use, end = cached(ins) or transfer(ins)
                if g >= INF:
                    continue
                if out & keep == out:  # the statement's destination is dead
                    fail = fails(ins)
                    if fail is None:
                        fail = _FAILS[ins] = _may_fail(ins)
                    if not fail:
                        if end <= g:
                            continue
                        if before is None:
                            if minlen is None:
                                minlen = min_lengths(graph, order)
                            info = [cached(x) or transfer(x) for x in stmts]
                            before = _proven_before(info, minlen.get(block.id, 0))
                        if end <= before[i]:
                            continue
                    elif ins.code & CLASS_MODE_MASK == _LD_IND:
                        if xvns is None:
                            stuck = True
                        elif ahead is not None:
                            xvn = xvns.get((block.id, i))
                            if xvn is not None and ahead.get(xvn, -1) >= _ind_end(ins):
                                continue
                kept.append(ins)
                out = (out & keep) | use
                if end > g:
                    g = end
                if ahead is not None and ins.code & CLASS_MODE_MASK == _LD_IND:
                    xvn = xvns.get((block.id, i))
                    if xvn is not None and ahead.get(xvn, -1) < _ind_end(ins):
                        ahead = {**ahead, xvn: _ind_end(ins)}
            if len(kept) != len(stmts):
                kept.reverse()
                rewritten.append((block, kept))
        live[block.id] = out
        guard[block.id] = g
        if xvns is not None:
            later[block.id] = None if g >= INF else ahead
    return rewritten, stuck


# A dead ``ld [x + k]`` that may fail (``_sweep``'s second try): it goes when every path
# after it either returns 0 or, before any other return, runs a kept ``ld [x + k']`` whose
# bytes end at or past its own, both with X set on every path to them by
# ``ldxb 4*([j]&0xf)`` with the same j (``_indirect_loads``): the packet never changes, so
# both Xs are the same run-time value, at most 60.  With k, k' below 0x10000000 no sum
# wraps and neither load reaches Linux's ancillary offsets: each fails exactly when X + its
# end exceeds the packet length.  If the dropped load would have failed, the program now
# runs on until a ``ret #0`` or that later load, which fails too: 0 either way.  If it
# would have succeeded, its value was dead.  ``later`` is, per block, the map j -> the
# furthest such end guaranteed on every path from its entry (None: every path returns 0),
# met over successors; only kept loads enter it, so two dead loads never vouch for each
# other.

_LD_IND = int(Class.LD | Mode.IND)


def _ind_end(ins: Insn) -> int:
    return ins.k + WIDTH.get(ins.code & SIZE_MASK, 4)


def _meet_later(block: Block, later: dict[int, dict[int, int] | None]) -> dict[int, int] | None:
    """What every path from the end of ``block`` loads (None: every path returns 0)."""
    if block.jt is None:
        return None if ret_guard(block) >= INF else {}
    found: dict[int, int] | None = None
    first = True
    for succ in block.succs():
        got = later[succ.id]
        if got is None:
            continue
        if first:
            found, first = got, False
        else:
            found = {x: min(e, got[x]) for x, e in found.items() if x in got}
    return found


def _indirect_loads(order: list[Block]) -> dict[tuple[int, int], int]:
    """X's identity at each ``ld [x + k]`` (block id, index) with k below 0x10000000 whose X
    was set, on every path to it, by ``ldxb 4*([j]&0xf)`` with one j: that j (X is then a
    value of the packet alone, the same wherever it is computed, and at most 60).  Loads
    at other Xs get no key: they neither go nor vouch for another (a structural scan, no
    value numbering: it runs in every round in which a dead indirect load stayed)."""
    found: dict[tuple[int, int], int] = {}
    entry: dict[int, int | None] = {}
    for block in order:
        xkey = entry.get(block.id)
        for i, ins in enumerate(block.stmts):
            code = ins.code
            if code == _LDX_MSH:
                xkey = ins.k
            elif code & CLASS_MODE_MASK == _LD_IND:
                if xkey is not None and ins.k < _SMALL_K:
                    found[(block.id, i)] = xkey
            elif code & CLASS_MASK == _LDX or code == _TAX:
                xkey = None
        for succ in block.succs():  # a join keeps the key its predecessors agree on
            sid = succ.id
            entry[sid] = xkey if sid not in entry or entry[sid] == xkey else None
    return found


_LDX_MSH = int(Class.LDX | Size.B | Mode.MSH)
_LDX = int(Class.LDX)
_TAX = int(Class.MISC | MiscOp.TAX)
_SMALL_K = 0x10000000


def _proven_before(info: list[tuple[int, int, int]], m: int) -> list[int]:
    """The packet length proven before each statement of a block entered with ``m``."""
    before = []
    for _, _, end in info:
        before.append(m)
        if end > m:
            m = end
    return before
