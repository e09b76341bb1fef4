"""Pass: fold a mask into the test that follows it.

``and #m; jeq #0`` asks "are the bits of m all clear": that is ``jset #m`` with the
targets swapped, and ``and #m; jset #k`` is ``jset #(m & k)``.  Both save the ``and``
when the masked A is dead on both successors (A then keeps the unmasked value, which
later blocks may find already loaded).  ``and #m; jeq #c`` with a bit of c outside
m can never be true and becomes an unconditional edge.  Adding, subtracting or
xor-ing a constant is a bijection, so an equality test after it can test the
original A against an adjusted constant (``sub x; jeq #0`` is ``jeq x``).
"""

from __future__ import annotations

from bpfc.isa.insn import AluOp, Class, JmpOp, Src, bpf_op, bpf_src
from bpfc.isa.opcodes import CLASS_SRC_MASK
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.graph import Graph
from bpfc.opt.values import A

MASK = 0xFFFFFFFF
SUB_X = Class.ALU | AluOp.SUB | Src.X
AND_K = Class.ALU | AluOp.AND | Src.K
JSET_K = Class.JMP | JmpOp.JSET | Src.K


_SHIFT = {AluOp.ADD: lambda k, c: (k - c) & MASK, AluOp.SUB: lambda k, c: (k + c) & MASK}
_SHIFT[AluOp.XOR] = lambda k, c: k ^ c


def _a_live(block, live: dict[int, int]) -> bool:
    """Whether A is live on entry to one of ``block``'s successors."""
    return bool((live[block.jt.id] | live[block.jf.id]) & (1 << A))


def _unshift(block, live) -> bool:
    """``add/sub/xor #c; jeq #k`` -> ``jeq #k'``, ``sub x; jeq #0`` -> ``jeq x``, A dead after."""
    last = block.stmts[-1]
    if bpf_op(block.code) != JmpOp.JEQ or bpf_src(block.code) != Src.K:
        return False
    if last.code == SUB_X and block.k == 0:
        if _a_live(block, live()):
            return False
        block.code = Class.JMP | JmpOp.JEQ | Src.X
        block.stmts = block.stmts[:-1]
        return True
    if last.code & CLASS_SRC_MASK != Class.ALU | Src.K or bpf_op(last.code) not in _SHIFT:
        return False
    if _a_live(block, live()):
        return False
    block.k = _SHIFT[bpf_op(last.code)](block.k, last.k)
    block.stmts = block.stmts[:-1]
    return True


_SHIFTS = [int(Class.ALU | op | src) for op in _SHIFT for src in (Src.K, Src.X)]
_ADD_SUB_XOR = frozenset([*_SHIFTS, int(AND_K)])


def _may_change(order: list) -> bool:
    """Whether some test follows an add, sub, xor or ``and #k`` (nothing else can change)."""
    for block in order:
        stmts = block.stmts
        if stmts and stmts[-1].code in _ADD_SUB_XOR and block.is_cond:
            return True
    return False


def _fold_mask(block, live) -> bool:
    """``and #m`` in front of the test: decide it (a bit of ``jeq #c`` outside m) or fold
    the mask into a ``jset`` when the masked A is dead on both successors."""
    mask, op, k = block.stmts[-1].k, bpf_op(block.code), block.k
    if op == JmpOp.JEQ and k & ~mask:
        block.stmts = block.stmts[:-1] + [block.stmts[-1]]
        block.set_goto(block.jf)
        return True
    if op not in (JmpOp.JEQ, JmpOp.JSET) or (op == JmpOp.JEQ and k != 0):
        return False
    if _a_live(block, live()):
        return False
    block.stmts = block.stmts[:-1]
    if op == JmpOp.JEQ:
        block.code, block.k, block.jt, block.jf = JSET_K, mask, block.jf, block.jt
    else:
        block.code, block.k = JSET_K, mask & k
    return True


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    if not _may_change(order):
        return False  # most programs: no liveness to compute, nothing to look at
    # Rewrites keep every block's live-in registers (the test still reads A), so one
    # liveness serves the whole pass.  A block is rewritten until nothing applies: an
    # ``add`` taken off may uncover an ``and #m`` to fold (the pass is idempotent).

    def live() -> dict[int, int]:
        """Live-in registers, worked out when a rewrite first asks (most never do)."""
        return cache.get(live_in)

    changed = False
    for block in order:
        while block.stmts and block.is_cond:
            if block.stmts[-1].code != AND_K:
                if not _unshift(block, live):
                    break
            elif bpf_src(block.code) != Src.K or not _fold_mask(block, live):
                break
            changed = True
    return changed
