"""Linearization: libpcap's block order, relative jumps, ``ja`` trampolines, size warning."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.cfg import Block, and_, finish, jmp_block, not_, or_, ret_block
from bpfc.emit import MAX_COND_JUMP, BpfcWarning, linearize
from bpfc.isa.insn import BPF_MAXINSNS, Class, Insn, JmpOp, Mode, Size
from bpfc.program import Program


def _byte_is(offset: int, value: int):  # noqa: ANN202 - a Cond
    return jmp_block([Insn(Class.LD | Mode.ABS | Size.B, 0, 0, offset)], JmpOp.JEQ, value)


def _run(insns: list[Insn], packet: bytes) -> int:
    return Program.from_insns(insns).run(packet)


def test_single_compare_layout() -> None:
    root = finish(_byte_is(0, 7), 100)
    assert linearize(root) == [
        (0x30, 0, 0, 0),
        (0x15, 0, 1, 7),
        (0x06, 0, 0, 100),
        (0x06, 0, 0, 0),
    ]


def test_true_side_before_false_side() -> None:
    # (a or b): a's false edge enters b; b is placed right after a (true side first is
    # the accept block, which is shared and so lands at the end)
    root = finish(or_(_byte_is(0, 1), _byte_is(1, 2)), 9)
    prog = linearize(root)
    assert [i.code for i in prog] == [0x30, 0x15, 0x30, 0x15, 0x06, 0x06]
    assert prog[1] == (0x15, 2, 0, 1)  # true -> accept at 4, false -> next block
    assert prog[3] == (0x15, 0, 1, 2)


def _long_chain(n: int) -> Block:
    """root: byte0 == 1 accepts; otherwise a chain of n tests that all share the accept."""
    cond = _byte_is(0, 1)
    for i in range(n):
        cond = or_(cond, _byte_is(1 + i % 64, 0xEE))
    return finish(cond, 1)


def test_far_jump_gets_trampoline() -> None:
    prog = linearize(_long_chain(200))
    assert len(prog) > MAX_COND_JUMP
    assert any(i.code == Class.JMP | JmpOp.JA for i in prog)
    for index, insn in enumerate(prog):
        if insn.code & 0x07 == Class.JMP and insn.code != Class.JMP | JmpOp.JA:
            assert insn.jt <= MAX_COND_JUMP and insn.jf <= MAX_COND_JUMP
            assert index + 1 + max(insn.jt, insn.jf) < len(prog)
    assert _run(prog, bytes([1]) + bytes(64)) == 1
    assert _run(prog, bytes([0]) + bytes(64)) == 0
    assert _run(prog, bytes([0]) + bytes([0xEE]) + bytes(63)) == 1


def test_trampoline_on_false_edge() -> None:
    # not(chain): the far edge becomes the false side
    cond = _byte_is(0, 1)
    for i in range(150):
        cond = or_(cond, _byte_is(1 + i % 64, 0xEE))
    prog = linearize(finish(not_(cond), 5))
    assert _run(prog, bytes([1]) + bytes(64)) == 0
    assert _run(prog, bytes(65)) == 5


@given(
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 3)), min_size=1, max_size=90),
    st.binary(min_size=16, max_size=16),
    st.booleans(),
)
def test_linearized_matches_graph_semantics(terms, packet, conj) -> None:  # noqa: ANN001
    """The program returns what walking the graph returns, long jumps or not."""
    conds = [_byte_is(off, val) for off, val in terms]
    cond = conds[0]
    for other in conds[1:]:
        cond = and_(cond, other) if conj else or_(cond, other)
    expected = all if conj else any
    truth = expected(packet[off] == val for off, val in terms)
    prog = linearize(finish(cond, 77))
    assert _run(prog, packet) == (77 if truth else 0)


def test_warns_past_kernel_limit() -> None:
    cond = _byte_is(0, 1)
    for i in range(BPF_MAXINSNS // 2 + 10):
        cond = and_(cond, _byte_is(i % 16, 1))
    with pytest.warns(BpfcWarning, match="4096"):
        prog = linearize(finish(cond, 1))
    assert len(prog) > BPF_MAXINSNS


def test_no_warning_for_small_programs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        linearize(finish(_byte_is(0, 1), 1))


def test_ret_only_program() -> None:
    assert linearize(ret_block(262144)) == [(6, 0, 0, 262144)]
