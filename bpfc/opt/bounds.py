"""Upper bounds of value numbers: the largest run-time value a numbered value can take.

A byte load is at most 255, ``ldxb 4*([k]&0xf)`` at most 60, ``a & m`` at most the
smaller bound, ``a + b`` at most the sum (when that cannot wrap around 2**32), and so
on.  ``fold_offsets`` uses it to prove that adding a constant to X and folding it
into a load offset cannot wrap differently.  Unknown values (``phi``, initial scratch
memory, results that could wrap) are bounded by 2**32 - 1, which proves nothing.
"""

from __future__ import annotations

from bpfc.insn import AluOp, Size
from bpfc.opt.values import MASK, Values

_BY_SIZE = {Size.B: 0xFF, Size.H: 0xFFFF, Size.W: MASK}
_DEPTH = 24  # value chains deeper than this are not followed (keeps it linear)


def upper_bound(vals: Values, vn: int, depth: int = _DEPTH) -> int:
    """A number no run-time value of ``vn`` exceeds (at most 2**32 - 1)."""
    key = vals.keys[vn]
    kind = key[0]
    if kind == "c":
        return key[1]
    if kind in ("ld", "ldi"):
        return _BY_SIZE.get(key[1], MASK)
    if kind == "msh":
        return 60
    if kind != "alu" or depth <= 0:
        return MASK
    op, a, b = key[1], key[2], key[3]
    ba = upper_bound(vals, a, depth - 1)
    bb = upper_bound(vals, b, depth - 1)
    if op == AluOp.AND:
        return min(ba, bb)
    if op == AluOp.ADD:
        return min(ba + bb, MASK) if ba + bb <= MASK else MASK
    if op == AluOp.OR or op == AluOp.XOR:
        return (1 << max(ba, bb).bit_length()) - 1
    if op == AluOp.MUL:
        return ba * bb if ba * bb <= MASK else MASK
    cb = vals.const.get(b)
    if op == AluOp.LSH and cb is not None and cb < 32:
        return ba << cb if ba << cb <= MASK else MASK
    if op in (AluOp.RSH, AluOp.DIV, AluOp.MOD):
        return ba  # never larger than the dividend
    return MASK
