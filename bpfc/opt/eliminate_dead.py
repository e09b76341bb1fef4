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

from bpfc.insn import AluOp, Class, Mode, Src, bpf_class, bpf_mode, bpf_op, bpf_src
from bpfc.opt.dataflow import INF, load_end, min_lengths, ret_guard, term_uses
from bpfc.opt.graph import Graph
from bpfc.opt.values import ANCILLARY, defines, uses


def _may_fail(ins) -> bool:
    """Statements that can end the filter with 0 in a way ``load_end`` does not describe."""
    code = ins.code
    cls = bpf_class(code)
    if cls == Class.LD:
        if bpf_mode(code) == Mode.ABS and ins.k >= ANCILLARY:
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


def run(graph: Graph) -> bool:
    order = graph.order()
    minlen = min_lengths(graph, order)
    live: dict[int, int] = {}
    guard: dict[int, int] = {}
    changed = False
    for block in reversed(order):
        if block.is_ret:
            out, g = term_uses(block), ret_guard(block)
        else:
            out = term_uses(block)
            g = INF
            for succ in block.succs():
                out |= live[succ.id]
                g = min(g, guard[succ.id])
        if block.stmts:
            before = []
            m = minlen.get(block.id, 0)
            for ins in block.stmts:
                before.append(m)
                m = max(m, load_end(ins))
            kept = []
            for ins, m in zip(reversed(block.stmts), reversed(before), strict=True):
                bit = 1 << defines(ins)
                if g >= INF or not out & bit and not _may_fail(ins) and load_end(ins) <= max(m, g):
                    continue
                kept.append(ins)
                out = (out & ~bit) | uses(ins)
                g = max(g, load_end(ins))
            if len(kept) != len(block.stmts):
                kept.reverse()
                block.stmts = kept
                changed = True
        live[block.id] = out
        guard[block.id] = g
    return changed
