"""Edges on which every packet is rejected: the tests every accepting path from a block takes.

``needs(order)`` works out, for each block B, tests that every path from B to a return
that may accept (``ret #k`` with k != 0, ``ret a``, ``ret x``) passes with a fixed
outcome: a test ``ld [k]; jeq #c`` (the tested A loaded by the last statement of the
test's own block, at a fixed offset) taken its true way, say.  ``doomed(vals, state,
tests)`` says whether the state on an edge into B decides one of B's tests the other way.
``thread_jumps`` then points that edge at a ``ret #0``: ``... and (ip[8] > 64) && proto
132`` on RAW, where the tcp tests on the path where ``[9] == 6`` end in a shared ``[8] >
64 and [9] == 132`` that can now only reject, loads that may fail included.

Why it is safe: take a packet on the edge P -> B (so it satisfies the state) whose run
from B returns nonzero.  Its path from B ends in an accepting return, so it passes the
block of each of B's tests and takes the test's recorded outcome; the tested value is a
load of fixed packet bytes, which (the packet never changes) is the value the state
speaks of, and the state decides the test the other way: no such packet exists.  Every
packet on the edge is rejected, by a failing load or a ``ret #0``; jumping to ``ret #0``
rejects it too.  A state decides a test only through a fact on that load's value number
(``Values`` numbers ``("ld", size, k)`` the same in every sweep), so a test on a value
the edge knows nothing about never dooms it.

``needs`` is one backward sweep: a return that may accept needs nothing; ``ret #0`` is
``None`` (no accepting path: nothing to prove, the other passes remove such blocks); a
branch needs what both sides need (an intersection), each side adding its own test when
the test's A is known; sets are capped (a subset of needed tests is still needed).
Redirecting edges to ``ret #0`` and threading only remove accepting paths or keep each
packet's path through the same outcomes, so the sets stay true during a sweep.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.isa.insn import Class
from bpfc.isa.opcodes import CLASS_MASK, JA, OP_MASK, SIZE_MASK, SRC_MASK
from bpfc.opt.dataflow import State
from bpfc.opt.facts import decide
from bpfc.opt.graph import Block
from bpfc.opt.values import ABS_LOADS, NEGATIVE_OFF, Values

_CAP = 8
_JMP, _JA = int(Class.JMP), JA
_EMPTY: frozenset = frozenset()
Need = tuple[tuple, int, int, bool]  # (load key, jump op, constant, outcome)


def needs(order: Sequence[Block]) -> dict[int, frozenset[Need] | None]:
    """For each block id, tests every accepting path from its entry passes (None: none
    accepts)."""
    out: dict[int, frozenset[Need] | None] = {}
    for block in reversed(order):
        jt = block.jt
        if jt is None:
            out[block.id] = None if block.k == 0 and not block.code & SIZE_MASK else _EMPTY
            continue
        jf = block.jf
        code = block.code
        on_t = out[jt.id]
        if jt is jf or code & CLASS_MASK != _JMP or code == _JA:
            out[block.id] = on_t
            continue
        on_f = out[jf.id]
        if on_t is None and on_f is None:
            out[block.id] = None
            continue
        stmts = block.stmts
        if stmts and not code & SRC_MASK:  # a ``#k`` test of the A its block loads last
            last = stmts[-1]
            size = ABS_LOADS.get(last.code)
            if size is not None and last.k < NEGATIVE_OFF:
                key = ("ld", size, last.k)
                op = code & OP_MASK
                if on_t is not None and len(on_t) < _CAP:
                    on_t = on_t | {(key, op, block.k, True)}
                if on_f is not None and len(on_f) < _CAP:
                    on_f = on_f | {(key, op, block.k, False)}
        if on_t is None:
            out[block.id] = on_f
        elif on_f is None or on_t is on_f:
            out[block.id] = on_t
        else:
            out[block.id] = on_t & on_f
    return out


def doomed(vals: Values, state: State, tests: frozenset[Need] | None) -> bool:
    """Whether ``state`` decides one of ``tests`` against its recorded outcome."""
    if not tests:
        return False
    facts = state.facts
    find = vals.find
    for key, op, k, outcome in tests:
        vn = find(key)
        if vn is None:
            continue
        fact = facts.get(vn)
        if fact is None:
            continue
        got = decide(fact, op, k)
        if got is not None and got != outcome:
            return True
    return False


def reject_block(order: Sequence[Block]) -> Block | None:
    """The last bare ``ret #0`` of ``order`` (edges moved to it stay forward only when it
    comes after their block: the caller checks)."""
    for block in reversed(order):
        if block.jt is None and not block.stmts and block.k == 0 and not block.code & SIZE_MASK:
            return block
    return None
