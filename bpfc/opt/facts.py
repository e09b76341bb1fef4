"""What a branch taken tells us about a value, and which later tests that decides.

A ``Fact`` summarises everything known about one value-numbered quantity on a path:
an interval ``[lo, hi]``, an optional finite set of possible values, a set of values
it is known not to equal, bits known to be zero (from a false ``jset``) and masks
known to intersect it (from a true ``jset``).  Facts are immutable tuples; refining
and merging build new ones.  The sets are capped so that long ``or`` chains stay
linear (losing a little precision, never soundness).

``masked`` derives a fact about ``v & c`` from the fact about ``v``: after ``jset #0x8``
true and ``jset #0x4`` false on ``[0]``, the test ``[0] & 0xc == 8`` is decided even
though nothing was ever learnt about the masked value itself (802.11 frame types).

Note the ``jset #0xffffffff`` trap: it is true exactly when the value is nonzero, so
it is decided only by a fact that excludes zero (or pins the value).
"""

from __future__ import annotations

from typing import NamedTuple

from bpfc.isa.insn import JmpOp

MASK = 0xFFFFFFFF
_CAP = 16


class Fact(NamedTuple):
    lo: int = 0
    hi: int = MASK
    vals: frozenset[int] | None = None
    ne: frozenset[int] = frozenset()
    zero: int = 0
    nz: tuple[int, ...] = ()
    """Masks a true ``jset`` proved nonzero in the value: a set, kept sorted."""


TOP = Fact()


def evaluate(op: int, a: int, k: int) -> bool:
    """The outcome of a conditional jump on constants."""
    if op == JmpOp.JEQ:
        return a == k
    if op == JmpOp.JGT:
        return a > k
    if op == JmpOp.JGE:
        return a >= k
    return (a & k) != 0


def decide(f: Fact, op: int, k: int) -> bool | None:
    """True/False when the fact fixes the outcome of ``A op k``, else None."""
    vals = f.vals
    if vals is not None:
        if op == JmpOp.JEQ:
            if k not in vals:
                return False
            if len(vals) == 1:
                return True
        else:
            outcomes = {evaluate(op, v, k) for v in vals}
            if len(outcomes) == 1:
                return outcomes.pop()
    if op == JmpOp.JEQ:
        if k in f.ne or k < f.lo or k > f.hi or (k & f.zero):
            return False
        if f.lo == f.hi == k:
            return True
        return None
    if op == JmpOp.JGT:
        if f.lo > k:
            return True
        if f.hi <= k:
            return False
        return None
    if op == JmpOp.JGE:
        if f.lo >= k:
            return True
        if f.hi < k:
            return False
        return None
    # jset
    if k & ~f.zero & MASK == 0:
        return False
    if any(m & ~k == 0 for m in f.nz):
        return True
    if k == MASK and (f.lo > 0 or 0 in f.ne):
        return True
    if f.lo == f.hi:
        return evaluate(op, f.lo, k)
    return None


def refine(f: Fact, op: int, k: int, taken: bool) -> Fact:
    """The fact after the branch ``A op k`` went the ``taken`` way."""
    lo, hi, vals, ne, zero, nz = f
    if op == JmpOp.JEQ:
        if taken:
            return Fact(k, k, frozenset((k,)), frozenset(), zero, nz)
        if len(ne) < _CAP:
            ne = ne | {k}
        if vals is not None:
            vals = vals - {k}
    elif op == JmpOp.JGT:
        if taken:
            lo = max(lo, k + 1)
        else:
            hi = min(hi, k)
    elif op == JmpOp.JGE:
        if taken:
            lo = max(lo, k)
        else:
            hi = min(hi, k - 1) if k > 0 else hi
    elif taken:
        if k not in nz and len(nz) < _CAP:
            nz = tuple(sorted(nz + (k,)))  # a set: one order, so equal facts compare equal
    else:
        zero |= k
    if vals is not None:
        vals = frozenset(v for v in vals if lo <= v <= hi and not v & zero)
    return Fact(lo, hi, vals, ne, zero, nz)


def merge(a: Fact, b: Fact) -> Fact:
    """What holds on both of two joining paths."""
    if a is b or a == b:
        return a
    vals = None
    if a.vals is not None and b.vals is not None and len(a.vals) + len(b.vals) <= 2 * _CAP:
        vals = a.vals | b.vals
    ne = a.ne & b.ne
    if a.ne != b.ne:  # a value one path rules out by its set or interval, the other by ``ne``
        extra = [k for k in a.ne ^ b.ne if _excludes(a, k) and _excludes(b, k)]
        if extra:
            ne = (ne | frozenset(extra)) if len(ne) + len(extra) <= _CAP else ne
    return Fact(
        min(a.lo, b.lo),
        max(a.hi, b.hi),
        vals,
        ne,
        a.zero & b.zero,
        tuple(m for m in a.nz if m in b.nz),  # both sorted: so is this, either way round
    )


def of_values(values: list[int]) -> Fact:
    """The fact that a value is one of ``values`` (the set is dropped past the cap)."""
    lo, hi = min(values), max(values)
    if len(values) > 2 * _CAP:
        return Fact(lo, hi)
    return Fact(lo, hi, frozenset(values))


def _excludes(f: Fact, k: int) -> bool:
    """Whether ``f`` rules out the value ``k``."""
    if k in f.ne or k < f.lo or k > f.hi or k & f.zero:
        return True
    return f.vals is not None and k not in f.vals


def known_ones(f: Fact) -> int:
    """Bits known to be set: a true ``jset`` with a single-bit mask sets that bit."""
    ones = 0
    for m in f.nz:
        if m and m & (m - 1) == 0:
            ones |= m
    return ones


def masked(f: Fact, c: int) -> Fact | None:
    """What ``f`` says about ``v & c`` (None when it says nothing useful)."""
    ones = known_ones(f) & c
    zero = (f.zero | ~c) & MASK
    # (a finite set of values of v would give one of v & c too; left out on purpose: it
    # proves ``ip host 10.0.0.1 and not ip net 10.0.0.0/24`` rejects every packet, which
    # libpcap's optimizer does not see, and compiling it then fails where libpcap's works)
    if not ones and not f.zero & c:
        return None
    if ones | zero == MASK:
        return Fact(ones, ones, frozenset((ones,)), frozenset(), zero, ())
    nz = tuple(1 << b for b in range(32) if ones >> b & 1)[:_CAP]
    return Fact(ones, min(c, MASK & ~zero), None, frozenset(), zero, nz)
