"""Pass: fold a constant added to X into the offsets of the indirect loads that use it.

Transport-header accesses such as ``tcp[0xab]`` come out of code generation as
``ld #0xab; ldxb 4*([14]&0xf); add x; tax; ldb [x + 14]``: X becomes the header
length plus a constant only to be used as a load base.  When every use of that X
(up to its next definition, and nothing after the block) is an indirect load, the
``tax`` can go and the constant moves into each load's offset, ``ldb [x + 185]``;
the ``add`` and ``ld #`` then die.  X and the constant must be small (``bounds``: X is at
most 60 after ``ldxb 4*([k]&0xf)``, at most 258 + 60 after PFLOG's ``(ldb [0] + 3) &
~3`` plus a header length; X + c + k below 2**28) so that no sum can wrap around
2**32, in the original or in the folded load.
"""

from __future__ import annotations

from bpfc.insn import AluOp, Class, Insn, MiscOp, Mode, bpf_class, bpf_mode
from bpfc.opt.bounds import Bounds
from bpfc.opt.dataflow import State, forward, live_ins, out_edges, run_block, term_uses
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import Values, X, defines, step, uses

TAX = Class.MISC | MiscOp.TAX
_LIMIT = 0x10000000


def _small_sum(vals: Values, bounds: Bounds, vn_a: int, vn_x: int) -> int | None:
    """The constant c when A == X + c and X + c stays small (no wrap-around), else None."""
    key = vals.keys[vn_a]
    if key[0] != "alu" or key[1] != AluOp.ADD:
        return None
    p, q = key[2], key[3]
    other = q if p == vn_x else (p if q == vn_x else None)
    if other is None:
        return None
    c = vals.const.get(other)
    if c is None or c >= _LIMIT or bounds.of(vn_x) >= _LIMIT - c:
        return None
    return c


def _fold(vals: Values, bounds: Bounds, block: Block, entry: State, live_out: int) -> bool:
    regs = list(entry.regs)
    stmts = block.stmts
    for i, ins in enumerate(stmts):
        if ins.code == TAX:
            c = _small_sum(vals, bounds, regs[0], regs[X])
            if c is not None and _rewrite(block, i, c, live_out):
                return True
        s = step(vals, regs, 1 << 32, ins, (block.id, i))
        regs[s.dest] = s.vn
    return False


def _rewrite(block: Block, at: int, c: int, live_out: int) -> bool:
    stmts = block.stmts
    loads = []
    for j in range(at + 1, len(stmts)):
        ins = stmts[j]
        if uses(ins) & (1 << X):
            if bpf_class(ins.code) != Class.LD or bpf_mode(ins.code) != Mode.IND:
                return False
            if ins.k + c >= _LIMIT:
                return False
            loads.append(j)
        if defines(ins) == X:
            break
    else:
        if (live_out | term_uses(block)) & (1 << X):
            return False
    new = list(stmts)
    for j in loads:
        new[j] = Insn(new[j].code, 0, 0, new[j].k + c)
    del new[at]
    block.stmts = new
    return True


def _has_tax(order: list[Block]) -> bool:
    """Whether some block holds a ``tax`` (most ordinary programs have none: no work)."""
    tax = int(TAX)
    for block in order:
        for ins in block.stmts:
            if ins[0] == tax:  # ``ins.code``: indexing is the cheaper read in this loop
                return True
    return False


def run(graph: Graph) -> bool:
    order = graph.order()
    if not _has_tax(order):
        return False
    live = live_ins(order)
    vals = Values()
    bounds = Bounds(vals)
    incoming: dict[int, list[int]] = {}  # block id -> per register, the largest bound in
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        entry = incoming.pop(block.id, None)
        if entry is not None:  # a register that differs by path: the largest bound of all
            for i, vn in enumerate(state.regs):
                if vals.keys[vn][0] == "phi":
                    bounds.assume(vn, entry[i])
        if any(ins.code == TAX for ins in block.stmts):
            out = 0
            for succ in block.succs():
                out |= live[succ.id]
            if _fold(vals, bounds, block, state, out):
                changed = True
        edges = out_edges(vals, block, run_block(vals, block, state))
        if edges:
            here = [bounds.of(vn) for vn in edges[0][1].regs]
            for succ, _ in edges:
                prev = incoming.get(succ.id)
                incoming[succ.id] = here if prev is None else list(map(max, prev, here))
        return edges

    forward(graph, order, vals, visit)
    return changed
