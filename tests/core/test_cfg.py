"""The CFG combinators: and/or/not with libpcap's constant folding mean what they say."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.cfg import Cond, and_, false_cond, finish, jmp_block, not_, or_, to_dot, true_cond, walk
from bpfc.emit import linearize
from bpfc.isa.insn import Class, Insn, JmpOp, Mode, Size
from bpfc.program import Program

# a formula: ("byte", offset, value) | ("true",) | ("false",) | ("not", f) | ("and"/"or", f, g)
leaves = st.one_of(
    st.tuples(st.just("byte"), st.integers(0, 7), st.integers(0, 2)),
    st.just(("true",)),
    st.just(("false",)),
)
formulas = st.recursive(
    leaves,
    lambda sub: st.one_of(
        st.tuples(st.just("not"), sub),
        st.tuples(st.sampled_from(["and", "or"]), sub, sub),
    ),
    max_leaves=12,
)


def build(f: tuple) -> Cond:
    kind = f[0]
    if kind == "byte":
        load = Insn(Class.LD | Mode.ABS | Size.B, 0, 0, f[1])
        return jmp_block([load], JmpOp.JEQ, f[2])
    if kind == "true":
        return true_cond()
    if kind == "false":
        return false_cond()
    if kind == "not":
        return not_(build(f[1]))
    combine = and_ if kind == "and" else or_
    return combine(build(f[1]), build(f[2]))


def evaluate(f: tuple, packet: bytes) -> bool:
    kind = f[0]
    if kind == "byte":
        return packet[f[1]] == f[2]
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "not":
        return not evaluate(f[1], packet)
    if kind == "and":
        return evaluate(f[1], packet) and evaluate(f[2], packet)
    return evaluate(f[1], packet) or evaluate(f[2], packet)


def constant(f: tuple) -> bool | None:
    """The compile-time value libpcap's folding finds (None: depends on the packet)."""
    kind = f[0]
    if kind == "byte":
        return None
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "not":
        value = constant(f[1])
        return None if value is None else not value
    a, b = constant(f[1]), constant(f[2])
    absorbing = kind == "or"  # true absorbs "or", false absorbs "and"
    if a is not None:
        return a if a == absorbing else b
    if b is not None:
        return b if b == absorbing else None
    return None


@given(formulas, st.binary(min_size=8, max_size=8))
def test_program_computes_the_formula(formula: tuple, packet: bytes) -> None:
    cond = build(formula)
    prog = Program.from_insns(linearize(finish(cond, 99)))
    assert prog.run(packet) == (99 if evaluate(formula, packet) else 0)


@given(formulas)
def test_constants_fold_as_libpcap(formula: tuple) -> None:
    assert build(formula).const == constant(formula)


@given(formulas)
def test_every_block_is_closed_after_finish(formula: tuple) -> None:
    root = finish(build(formula), 1)
    for block in walk(root):
        assert block.is_ret or (block.jt is not None and block.jf is not None)


def test_not_keeps_the_jump_and_swaps_exits() -> None:
    cond = jmp_block([], JmpOp.JGT, 5)
    negated = not_(cond)
    assert negated.entry is cond.entry
    assert negated.true == cond.false and negated.false == cond.true
    assert negated.entry.code == Class.JMP | JmpOp.JGT


def test_folding_drops_the_other_operand() -> None:
    leaf = jmp_block([], JmpOp.JEQ, 1)
    assert and_(true_cond(), leaf) is leaf
    f = false_cond()
    assert and_(leaf, f) is f  # libpcap master drops the test: false either way
    assert or_(leaf, false_cond()) is leaf


def test_dot_output_names_every_block() -> None:
    root = finish(or_(jmp_block([], JmpOp.JEQ, 1), jmp_block([], JmpOp.JEQ, 2)), 7)
    dot = to_dot(root)
    assert dot.startswith("digraph cfg {") and dot.rstrip().endswith("}")
    assert dot.count("[label=") == len(list(walk(root)))
