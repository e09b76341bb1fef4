"""Upper bounds of value numbers: the largest run-time value a numbered value can take.

A byte load is at most 255, ``ldxb 4*([k]&0xf)`` at most 60, ``a & m`` at most the
smaller bound, ``a + b`` at most the sum (when that cannot wrap around 2**32), and so
on.  ``fold_offsets`` uses it to prove that adding a constant to X and folding it
into a load offset cannot wrap differently.  Unknown values (initial scratch memory, results
that could wrap) are bounded by 2**32 - 1, which proves nothing.  A value that differs
by path (a ``phi`` number made where paths join) is bounded by what the caller states
with ``assume``: ``fold_offsets`` takes, for each register, the largest bound on the
joining edges (802.11 header lengths 24 or 26 meet there).

Bounds are memoised per value number (a value number's meaning never changes), so a
chain of ``add x`` whose operands share sub-values costs linear time, not exponential.
"""

from __future__ import annotations

from bpfc.isa.insn import AluOp, Size
from bpfc.opt.values import MASK, Values

_BY_SIZE = {Size.B: 0xFF, Size.H: 0xFFFF, Size.W: MASK}


class Bounds:
    """Upper bounds over one ``Values`` table."""

    def __init__(self, vals: Values) -> None:
        self.vals = vals
        self._memo: dict[int, int] = {}

    def assume(self, vn: int, bound: int) -> None:
        """State a bound for a value the table cannot see through (a ``phi``)."""
        self._memo[vn] = min(bound, MASK)

    def of(self, vn: int) -> int:
        """A number no run-time value of ``vn`` exceeds (at most 2**32 - 1)."""
        memo = self._memo
        found = memo.get(vn)
        if found is not None:
            return found
        stack = [vn]  # iterative post-order: value chains can be thousands deep
        while stack:
            top = stack[-1]
            if top in memo:
                stack.pop()
                continue
            key = self.vals.keys[top]
            if key[0] == "alu":
                pending = [v for v in (key[2], key[3]) if v not in memo]
                if pending:
                    stack.extend(pending)
                    continue
            memo[top] = self._direct(key)
            stack.pop()
        return memo[vn]

    def _direct(self, key: tuple) -> int:
        kind = key[0]
        if kind == "c":
            return key[1]
        if kind in ("ld", "ldi"):
            return _BY_SIZE.get(key[1], MASK)
        if kind == "msh":
            return 60
        if kind != "alu":
            return MASK
        op, a, b = key[1], key[2], key[3]
        ba, bb = self._memo[a], self._memo[b]
        if op == AluOp.AND:
            return min(ba, bb)
        if op == AluOp.ADD:
            return ba + bb if ba + bb <= MASK else MASK
        if op == AluOp.OR or op == AluOp.XOR:
            return (1 << max(ba, bb).bit_length()) - 1
        if op == AluOp.MUL:
            return ba * bb if ba * bb <= MASK else MASK
        cb = self.vals.const.get(b)
        if op == AluOp.LSH and cb is not None and cb < 32:
            return ba << cb if ba << cb <= MASK else MASK
        if op in (AluOp.RSH, AluOp.DIV, AluOp.MOD):
            return ba  # never larger than the dividend
        return MASK
