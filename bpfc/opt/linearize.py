"""Emission: blocks in order, relative jumps, no needless ``ja``, copies for long jumps.

Blocks are laid out in reverse postorder with the false side first, so a block's
sole successor usually follows it directly and costs no ``ja``.  Emission runs
once, back to front, so every target's distance is known when its jump is written.
A conditional jump can only skip 255 instructions; when a target is further, the
nearest copy of it is used, and if none is within reach one is placed right after
the jump: the ``ret`` itself when the target is a lone ``ret`` (no jump at run
time), else a ``ja`` with its 32-bit offset.  Later (earlier-placed) jumps reuse that
copy, so one copy serves every jump in the 255 instructions before it.
"""

from __future__ import annotations

from bpfc.errors import InternalError
from bpfc.insn import Insn
from bpfc.opt.graph import JA, Block, Graph

_REACH = 255


def _copy(target: Block, near: int, at: int) -> Insn:
    """An instruction at reversed position ``at`` that behaves like jumping to ``target``."""
    if target.is_ret and not target.stmts:
        return Insn(target.code, 0, 0, target.k)
    return Insn(JA, 0, 0, at - near - 1)


def linearize(graph: Graph) -> list[Insn]:
    out: list[Insn] = []  # built back to front: out[r] is the r-th instruction from the end
    near: dict[int, int] = {}  # block id -> reversed position of its closest copy so far
    for block in reversed(graph.order()):
        if block.is_ret:
            out.append(Insn(block.code, 0, 0, block.k))
        elif not block.is_cond or block.jt is block.jf:
            target = near[block.jt.id]
            if target != len(out) - 1:
                out.append(_copy(block.jt, target, len(out)))
        else:
            for _ in range(3):
                here = len(out)
                t, f = near[block.jt.id], near[block.jf.id]
                if here - t - 1 > _REACH:
                    out.append(_copy(block.jt, t, here))
                    near[block.jt.id] = here
                elif here - f - 1 > _REACH:
                    out.append(_copy(block.jf, f, here))
                    near[block.jf.id] = here
                else:
                    out.append(Insn(block.code, here - t - 1, here - f - 1, block.k))
                    break
            else:  # pragma: no cover - two copies always bring both targets in reach
                raise InternalError("could not place a long conditional jump")
        out.extend(reversed(block.stmts))
        near[block.id] = len(out) - 1
    out.reverse()
    return out
