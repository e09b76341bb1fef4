"""``pullback``: a fact about ``f(v)`` (f an arithmetic step by a constant) gives one about v.

Checked against brute force on byte loads (every value of v), and end to end: a program
that tests ``f(v)`` then v optimizes to one with the same verdict on every byte value.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn, Size
from bpfc.opt import facts as F
from bpfc.opt import optimize
from bpfc.opt.pullback import pull
from bpfc.opt.values import Values
from bpfc.vm.interp import interpret as run

MASK = 0xFFFFFFFF
STEPS = {"add": 0x00, "sub": 0x10, "mul": 0x20, "div": 0x30, "lsh": 0x60, "rsh": 0x70, "xor": 0xA0}
JMPS = {"jeq": 0x10, "jgt": 0x20, "jge": 0x30, "jset": 0x40}
CONSTS = st.one_of(st.integers(0, 300), st.sampled_from((MASK, MASK - 5, 1 << 31, 0xFFFF)))


def _f(step: str, c: int, v: int) -> int | None:
    if step == "neg":
        return -v & MASK
    op = {"add": v + c, "sub": v - c, "mul": v * c, "xor": v ^ c}.get(step)
    if op is not None:
        return op & MASK
    if step == "div":
        return None if c == 0 else v // c
    if c >= 32:
        return 0
    return (v << c) & MASK if step == "lsh" else v >> c


def _holds(f: F.Fact, x: int) -> bool:
    if not f.lo <= x <= f.hi or x in f.ne or x & f.zero:
        return False
    if f.vals is not None and x not in f.vals:
        return False
    return all(x & m for m in f.nz)


@given(
    st.sampled_from((*STEPS, "neg")),
    CONSTS.filter(lambda c: c < 32) | CONSTS,
    st.sampled_from(tuple(JMPS.values())),
    CONSTS,
    st.booleans(),
    st.sampled_from((None, (3, 200), (0, 6))),
)
def test_pulled_fact_holds_for_every_byte_the_edge_takes(step, c, jop, k, taken, known):
    vals = Values()
    v = vals.number(("ld", Size.B, 5))
    if step == "neg":
        va = vals.number(("neg", v))
    else:
        va = vals.alu(STEPS[step], v, vals.of_const(c))
    if va == v or va in vals.const:
        return  # an identity or a constant: nothing to pull
    facts = {va: F.refine(F.TOP, jop, k, taken)}
    if known:
        facts[v] = F.Fact(lo=known[0], hi=known[1])
    found = pull(vals, facts, va)
    if found is None:
        return
    assert found[0] == v
    for x in range(256):
        y = _f(step, c, x)
        if y is None:
            return
        on_edge = F.evaluate(jop, y, k) == taken and (not known or known[0] <= x <= known[1])
        if on_edge:
            assert _holds(found[1], x), (x, y, found[1])


@given(
    st.sampled_from(tuple(STEPS.values())),
    st.integers(0, 40),
    st.sampled_from(tuple(JMPS.values())),
    CONSTS,
    st.sampled_from(tuple(JMPS.values())),
    CONSTS,
    st.booleans(),
)
def test_testing_the_step_then_the_byte_keeps_every_verdict(op, c, j1, k1, j2, k2, neg):
    if op == 0x30 and c == 0:
        c = 3
    step = Insn(0x84, 0, 0, 0) if neg else Insn(0x04 | op, 0, 0, c)
    prog = [
        Insn(0x30, 0, 0, 1),  # ldb [1]
        step,
        Insn(0x05 | j1, 0, 3, k1),
        Insn(0x30, 0, 0, 1),
        Insn(0x05 | j2, 0, 1, k2),
        Insn(0x06, 0, 0, 7),
        Insn(0x06, 0, 0, 0),
    ]
    out = optimize(prog, reject_empty=False)
    for b in range(256):
        pkt = bytes((0, b, 0))
        assert run(out, pkt, len(pkt)) == run(prog, pkt, len(pkt)), b
