"""Pass: dead statement elimination, correct across successors.

Walking blocks in reverse topological order with the registers live on exit (the
union over all successors), a statement whose destination is dead is removed when it
has no effect.  Loads are the subtle case: a load past the end of the packet makes
the filter return 0.  A dead load may still go when the packet length it needs is
already proven on every path into it (``min_lengths``), or when every path after it
returns 0 for any packet that short anyway (``guard``, computed over the statements
that are kept).  Everything in front of an unconditional ``ret #0`` is dead.
"""

from __future__ import annotations

from bpfc.isa.insn import AluOp, Class, Insn, Mode, Src, bpf_class, bpf_mode, bpf_op, bpf_src
from bpfc.opt.analyses import Analyses, topo_order
from bpfc.opt.dataflow import INF, TRANSFERS, min_lengths, ret_guard, term_uses, transfer
from bpfc.opt.graph import Graph
from bpfc.opt.values import NEGATIVE_OFF


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

_LD_LEN = int(Class.LD | Mode.LEN)
_LEN_TESTS = {int(Class.JMP | op | Src.K): op for op in (0x20, 0x30)}  # jgt jge
"""Tests that, when A is the packet length, send every packet shorter than a bound to
their false edge and every other one to their true edge (``_length_test_guard``)."""


def _length_test_guard(block, g_true: int, g_false: int, g: int) -> int:
    """The guard of a block ending ``ld #pktlen; jgt/jge #k``: a packet shorter than
    ``bound`` (k, or k + 1 for ``jgt``) takes the false edge, any other the true edge.
    With ``g_false >= bound`` every packet shorter than ``bound`` returns 0 (false edge),
    and every one at least ``bound`` long but shorter than ``g_true`` too (true edge): the
    guard is ``max(bound, g_true)``.  Otherwise it is the plain ``g`` = ``min(g_true,
    g_false)``.

    ``less 60 or ... (greater 200 and ...)``: a dead ``ld [34]`` in front of
    ``len >= 200`` (false: ``ret #0``) needs 38 bytes, which every packet that gets past
    the test has: the load goes."""
    k = block.k
    bound = k + 1 if _LEN_TESTS[block.code] == 0x20 else k
    if g_false < bound:
        return g
    # below ``INF``, which would mean "every successor returns 0" and drop the statements
    # in front of the test, ``ld #pktlen`` included, though the test still picks the edge
    return min(max(bound, g_true), INF - 1)


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    # ``min_lengths`` only matters for a dead load that needs more than the guard: it is
    # computed the first time one shows up, on the graph as it came in (rewritten blocks
    # get their statements only at the end, so it never sees a change of this sweep)
    minlen: dict[int, int] | None = None
    live: dict[int, int] = {}
    guard: dict[int, int] = {}
    rewritten: list[tuple] = []
    cached, fails = TRANSFERS.get, _FAILS.get
    for block in reversed(order):
        # registers live after the statements, and the length below which every path
        # from there returns 0: the terminator's own, joined over the successors
        out = term_uses(block)
        g = ret_guard(block) if block.jt is None else INF
        for succ in block.succs():
            out |= live[succ.id]
            g = min(g, guard[succ.id])
        if block.code in _LEN_TESTS and block.stmts and block.stmts[-1].code == _LD_LEN:
            g = _length_test_guard(block, guard[block.jt.id], guard[block.jf.id], g)
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
                kept.append(ins)
                out = (out & keep) | use
                if end > g:
                    g = end
            if len(kept) != len(stmts):
                kept.reverse()
                rewritten.append((block, kept))
        live[block.id] = out
        guard[block.id] = g
    for block, kept in rewritten:
        block.stmts = kept
    return bool(rewritten)


def _proven_before(info: list[tuple[int, int, int]], m: int) -> list[int]:
    """The packet length proven before each statement of a block entered with ``m``."""
    before = []
    for _, _, end in info:
        before.append(m)
        if end > m:
            m = end
    return before
