"""``bpfc.isa.arith.shift``: one meaning of a shift for the interpreter, the optimizer's
folding, the model of libpcap's optimizer and libpcap's own ``bpf_filter``.

The counts are drawn from the whole u32 range with the edges (31, 32, 33, 2**32 - 1)
weighted in: a shift by 32 or more gives 0 everywhere bpfc computes one.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bpfc import libpcap
from bpfc.isa.arith import shift
from bpfc.isa.insn import AluOp, Class, Insn, JmpOp, Mode, Size, Src
from bpfc.isa.validation import validate
from bpfc.opt import optimize
from bpfc.opt.libpcap_model import fold_constant
from bpfc.opt.values import fold
from bpfc.vm.interp import alu, interpret

U32 = st.integers(0, 2**32 - 1)
COUNTS = st.one_of(st.integers(0, 40), st.sampled_from([31, 32, 33, 63, 64, 2**31, 2**32 - 1]), U32)
SHIFTS = st.sampled_from([int(AluOp.LSH), int(AluOp.RSH)])


@given(SHIFTS, U32, COUNTS)
def test_shift_is_the_c_shift_below_32_and_zero_from_32(op: int, a: int, count: int) -> None:
    if count < 32:
        want = (a * 2**count) % 2**32 if op == AluOp.LSH else a // 2**count
    else:
        want = 0
    assert shift(op, a, count) == want


@given(SHIFTS, U32, COUNTS)
def test_folding_equals_interpreting(op: int, a: int, count: int) -> None:
    # bpfc's optimizer, the model of master's and the interpreter: one answer
    assert fold(op, a, count) == alu(op, a, count, False) == fold_constant(op, a, count)
    assert alu(op, a, count, True) == shift(op, a, count % 32)  # the kernel: X mod 32


def _program(op: int, count: int, bound: int, by_x: bool) -> list[Insn]:
    """``ld [0]``; shift by ``count`` (in X, or as k); accept when the result > bound."""
    shift_insn = (
        [Insn(Class.LDX | Mode.IMM, 0, 0, count), Insn(Class.ALU | op | Src.X, 0, 0, 0)]
        if by_x
        else [Insn(Class.ALU | op | Src.K, 0, 0, count)]
    )
    return [
        Insn(Class.LD | Mode.ABS | Size.W, 0, 0, 0),
        *shift_insn,
        Insn(Class.JMP | JmpOp.JGT | Src.K, 0, 1, bound),
        Insn(Class.RET, 0, 0, 262144),
        Insn(Class.RET, 0, 0, 0),
    ]


@settings(max_examples=150, deadline=None)
@given(SHIFTS, COUNTS, U32, st.booleans(), st.lists(st.binary(min_size=4, max_size=4), max_size=6))
@example(int(AluOp.RSH), 33, 0, True, [b"\xff\xff\xff\xff"])  # 2**32-1 >> 33 is 0, not 2**31-1
@example(int(AluOp.LSH), 32, 0, True, [b"\x00\x00\x00\x05"])  # 5 << 32 is 0, not 5
def test_optimized_program_equals_the_interpreted_one(
    op: int, count: int, bound: int, by_x: bool, packets: list[bytes]
) -> None:
    if not by_x and count >= 32:
        count %= 32  # a constant count >= 32 is refused by the code generator
    source = _program(op, count, bound, by_x)
    result = optimize(source, reject_empty=False)
    validate(result, strict=True)  # never a constant shift >= 32 (undefined in bpf_filter)
    for packet in [*packets, b"\x80\x00\x00\x01"]:
        assert interpret(result, packet) == interpret(source, packet)


@pytest.fixture(scope="module")
def system_libpcap() -> libpcap.Libpcap:
    if not libpcap.available():
        pytest.skip("libpcap (libpcap0.8) is not installed")
    return libpcap.library()


@settings(max_examples=60, deadline=None)
@given(SHIFTS, U32, COUNTS)
def test_bpf_filter_shifts_by_x_as_defined(
    system_libpcap: libpcap.Libpcap, op: int, a: int, count: int
) -> None:
    # libpcap's bpf_filter defines a shift by X >= 32 as 0 (a constant one it leaves to C)
    prog = [
        Insn(Class.LDX | Mode.IMM, 0, 0, count),
        Insn(Class.LD | Mode.IMM, 0, 0, a),
        Insn(Class.ALU | op | Src.X, 0, 0, 0),
        Insn(Class.RET | 0x10, 0, 0, 0),  # ret a
    ]
    run = system_libpcap.make_bpf_filter(prog)
    assert run(b"\0" * 4, 4) == shift(op, a, count) == interpret(prog, b"\0" * 4)
