"""What a test on ``f(v)`` says about ``v`` itself, for ``f`` an arithmetic step by a constant.

``ip[9] * 2 = 12`` tests the value ``[23] * 2``; on its true edge the fact ``[23] * 2 == 12``
is noted, but a later ``ldb [23]; jeq #0x11`` (``udp``) tests ``[23]``, on which nothing
was known.  ``pull(vals, facts, va)`` turns the fact just learnt about ``va = f(v)`` into
one about ``v`` (met with what was known of ``v``), so that later test is decided: here
``[23] in [6, 6]``.  ``dataflow.out_edges`` and ``dataflow.branch`` call it on every
refined edge whose tested value is such a step (one tuple look-up otherwise).

Which steps, and why each preimage is exact or larger (never smaller), so every packet on
the edge satisfies the fact about ``v``:

* bijections of the 32-bit values: ``v + c``, ``v - c``, ``v ^ c``, ``-v``.  ``v`` is
  ``g(y)`` for the inverse ``g``: a set of possible values and the values excluded map
  one for one; an interval maps to the interval ``[g(lo), g(hi)]`` for ``+`` and ``-``
  when that does not wrap (a translation modulo 2**32 keeps an interval that does not
  cross zero), otherwise it says nothing.
* monotone steps over the range ``[0, B]`` of ``v`` (``B``: 255 for a byte load, 65,535
  for a half word, 60 for ``4*([k]&0xf)``, else 2**32 - 1): ``v * c``, ``v << c`` when
  ``f(B)`` does not wrap, ``v >> c`` and ``v / c`` (c > 0) always.  A non-decreasing
  ``f`` maps ``v`` into ``[lo, hi]`` only for ``v`` between the least ``v`` with
  ``f(v) >= lo`` and the largest with ``f(v) <= hi`` (binary searches).  ``*`` and ``<<``
  are then also one to one: an excluded ``y`` excludes ``y / c`` when that is exact.

Nothing else is pulled back (``&``, ``|``, ``%``: the docstring of ``facts.masked`` says why
facts through a mask stay one-way).  When the preimage is empty the edge is taken by no
packet; nothing is noted then (any fact would be sound; none is simplest).
"""

from __future__ import annotations

from bpfc.isa.insn import AluOp, Size
from bpfc.opt import facts as F
from bpfc.opt.values import Values

MASK = F.MASK
_ADD, _SUB, _XOR = int(AluOp.ADD), int(AluOp.SUB), int(AluOp.XOR)
_MUL, _LSH, _RSH, _DIV = int(AluOp.MUL), int(AluOp.LSH), int(AluOp.RSH), int(AluOp.DIV)
_BIJECTIVE = frozenset((_ADD, _SUB, _XOR))
_MONOTONE = frozenset((_MUL, _LSH, _RSH, _DIV))
_BOUND = {int(Size.B): 0xFF, int(Size.H): 0xFFFF}


def pull(vals: Values, facts: dict[int, F.Fact], va: int) -> tuple[int, F.Fact] | None:
    """``(v, fact)`` when ``va`` is a step of ``v`` by a constant and its fact in ``facts``
    says something about ``v``: the fact to store for ``v`` (already met with ``facts``'s)."""
    key = vals.keys[va]
    kind = key[0]
    if kind == "neg":
        v, op, c = key[1], None, 0
    elif kind == "alu":
        op, left, right = key[1], key[2], key[3]
        if op not in _BIJECTIVE and op not in _MONOTONE:
            return None
        const = vals.const
        c = const.get(right)
        v = left
        if c is None:
            if op not in (_ADD, _MUL, _XOR):
                return None
            c, v = const.get(left), right
            if c is None:
                return None
    else:
        return None
    y = facts.get(va)
    if y is None or y is F.TOP:
        return None
    if op is None or op in _BIJECTIVE:
        got = _bijective(op, c, y)
    else:
        got = _monotone(op, c, _bound(vals, v), y)
    if got is None:
        return None
    lo, hi, pre, ne = got
    old = facts.get(v, F.TOP)
    lo, hi = max(lo, old.lo), min(hi, old.hi)
    if lo > hi:
        return None
    if old.vals is not None:
        pre = old.vals if pre is None else old.vals & pre
    if pre is not None:
        pre = frozenset(x for x in pre if lo <= x <= hi and not x & old.zero)
        if not pre:
            return None
    ne = old.ne | ne if len(old.ne) + len(ne) <= 16 else old.ne
    new = F.Fact(lo, hi, pre, ne, old.zero, old.nz)
    if new == old:
        return None
    return v, new


def _bijective(op: int | None, c: int, y: F.Fact):
    """Preimage of ``y`` under ``-v`` (op None), ``v + c``, ``v - c`` or ``v ^ c``."""
    if op is None:

        def inv(x: int) -> int:
            return -x & MASK
    elif op == _ADD:

        def inv(x: int) -> int:
            return (x - c) & MASK
    elif op == _SUB:

        def inv(x: int) -> int:
            return (x + c) & MASK
    else:

        def inv(x: int) -> int:
            return x ^ c

    pre = None if y.vals is None else frozenset(inv(x) for x in y.vals)
    ne = frozenset(inv(x) for x in y.ne)
    lo, hi = 0, MASK
    if op in (_ADD, _SUB) and (y.lo, y.hi) != (0, MASK):
        a, b = inv(y.lo), inv(y.hi)
        if a <= b:  # the translated interval does not wrap
            lo, hi = a, b
    if pre is None and not ne and (lo, hi) == (0, MASK):
        return None
    return lo, hi, pre, ne


def _bound(vals: Values, v: int) -> int:
    key = vals.keys[v]
    if key[0] in ("ld", "ldi"):
        return _BOUND.get(key[1], MASK)
    if key[0] == "msh":
        return 60
    c = vals.const.get(v)
    return MASK if c is None else c


def _apply(op: int, c: int, v: int) -> int:
    if op == _MUL:
        return v * c
    if op == _LSH:
        return v << c
    if op == _RSH:
        return v >> c
    return v // c


def _monotone(op: int, c: int, bound: int, y: F.Fact):
    """Preimage of ``y`` under a non-decreasing ``v op c`` on ``[0, bound]`` (None: unknown)."""
    if op == _DIV and c == 0 or op in (_LSH, _RSH) and c >= 32:
        return None
    if op in (_MUL, _LSH) and _apply(op, c, bound) > MASK:
        return None  # wraps: not monotone
    lo, hi = y.lo, y.hi
    if lo == 0 and hi == MASK and not y.ne:
        return None

    def first(at_least: int) -> int:  # least v with f(v) >= at_least (bound + 1 if none)
        a, b = 0, bound + 1
        while a < b:
            m = (a + b) // 2
            if _apply(op, c, m) >= at_least:
                b = m
            else:
                a = m + 1
        return a

    plo = first(lo)
    phi = first(hi + 1) - 1
    if plo > phi:
        return None  # no packet takes this edge
    ne: frozenset[int] = frozenset()
    if op in (_MUL, _LSH) and c and y.ne:  # one to one on [0, bound]
        step = c if op == _MUL else 1 << c
        ne = frozenset(x // step for x in y.ne if x % step == 0)
    if (plo, phi) == (0, bound) and not ne:
        return None
    return plo, phi, None, ne
