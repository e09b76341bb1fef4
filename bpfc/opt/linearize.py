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
from bpfc.isa.insn import Insn
from bpfc.isa.opcodes import CLASS_MASK
from bpfc.opt.graph import JA, Block, Graph

_REACH = 255


_new = tuple.__new__  # ``Insn(...)`` without the named tuple's Python-level constructor
_RET, _JMP = 0x06, 0x05


def _copy(target: Block, near: int, at: int) -> Insn:
    """An instruction at reversed position ``at`` that behaves like jumping to ``target``."""
    if target.is_ret and not target.stmts:
        return _new(Insn, (target.code, 0, 0, target.k))
    return _new(Insn, (JA, 0, 0, at - near - 1))


def linearize(graph: Graph) -> list[Insn]:
    out: list[Insn] = []  # built back to front: out[r] is the r-th instruction from the end
    near: dict[int, int] = {}  # block id -> reversed position of its closest copy so far
    append = out.append
    for block in reversed(graph.order()):
        code = block.code
        jt = block.jt
        if code & CLASS_MASK == _RET:
            append(_new(Insn, (code, 0, 0, block.k)))
        elif code == JA or jt is block.jf:  # one successor (``is_cond``, inlined)
            target = near[jt.id]
            if target != len(out) - 1:
                append(_copy(jt, target, len(out)))
        else:
            jf = block.jf
            for _ in range(3):
                here = len(out)
                t, f = near[jt.id], near[jf.id]
                if here - t - 1 > _REACH:
                    append(_copy(jt, t, here))
                    near[jt.id] = here
                elif here - f - 1 > _REACH:
                    append(_copy(jf, f, here))
                    near[jf.id] = here
                else:
                    append(_new(Insn, (code, here - t - 1, here - f - 1, block.k)))
                    break
            else:  # pragma: no cover - two copies always bring both targets in reach
                raise InternalError("could not place a long conditional jump")
        out.extend(reversed(block.stmts))
        near[block.id] = len(out) - 1
    out.reverse()
    return out
