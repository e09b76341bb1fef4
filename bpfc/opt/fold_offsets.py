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

from bpfc.isa.insn import AluOp, Class, Insn, MiscOp, Mode, bpf_class, bpf_mode
from bpfc.opt.analyses import Analyses, topo_order
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


def _x_loads(block: Block, at: int, live_out: int) -> list[int] | None:
    """The indirect loads that read the X set by the ``tax`` at ``stmts[at]``, when nothing
    else reads it (up to its next definition, and nothing after the block); else None."""
    stmts = block.stmts
    loads = []
    for j in range(at + 1, len(stmts)):
        ins = stmts[j]
        if uses(ins) & (1 << X):
            if bpf_class(ins.code) != Class.LD or bpf_mode(ins.code) != Mode.IND:
                return None
            loads.append(j)
        if defines(ins) == X:
            return loads
    if (live_out | term_uses(block)) & (1 << X):
        return None
    return loads


def _rewrite(block: Block, at: int, c: int, live_out: int) -> bool:
    loads = _x_loads(block, at, live_out)
    if loads is None:
        return False
    stmts = block.stmts
    if any(stmts[j].k + c >= _LIMIT for j in loads):
        return False
    new = list(stmts)
    for j in loads:
        new[j] = Insn(new[j].code, 0, 0, new[j].k + c)
    del new[at]
    block.stmts = new
    return True


def _candidates(order: list[Block]) -> tuple[set[int], dict[int, int]]:
    """Blocks holding a ``tax`` whose X only indirect loads read (``_x_loads``), and the
    registers live out of every block (empty when there is no ``tax`` at all).

    Most programs have no ``tax``; those that do mostly use the X it sets for more than
    a load base (802.11 and Geneve header arithmetic): neither needs the forward sweep.
    """
    tax = int(TAX)
    with_tax = []
    for block in order:
        for ins in block.stmts:
            if ins[0] == tax:  # ``ins.code``: indexing is the cheaper read in this loop
                with_tax.append(block)
                break
    if not with_tax:
        return set(), {}
    live = live_ins(order)
    outs: dict[int, int] = {}
    found = set()
    for block in with_tax:
        out = 0
        for succ in block.succs():
            out |= live[succ.id]
        outs[block.id] = out
        for i, ins in enumerate(block.stmts):
            if ins[0] == tax and _x_loads(block, i, out) is not None:
                found.add(block.id)
                break
    return found, outs


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    candidates, outs = _candidates(order)
    if not candidates:
        return False
    last = max(i for i, block in enumerate(order) if block.id in candidates)
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
        if block.id in candidates and _fold(vals, bounds, block, state, outs[block.id]):
            changed = True
        edges = out_edges(vals, block, run_block(vals, block, state))
        if edges:
            here = [bounds.of(vn) for vn in edges[0][1].regs]
            for succ, _ in edges:
                prev = incoming.get(succ.id)
                incoming[succ.id] = here if prev is None else list(map(max, prev, here))
        return edges

    # blocks after the last candidate change nothing: the sweep stops there
    forward(graph, order[: last + 1], vals, visit)
    return changed
