"""``build_sets``: a chain whose shared true target rejects every packet too short for the
chain's furthest load is regrouped whole.  Random chains and targets, every length."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.opt import optimize
from bpfc.opt.build_sets import run as build_sets
from bpfc.vm.interp import interpret as run

LOADS = (0x30, 0x28)  # ldb, ldh [k]
VALUES = (0, 1, 0x101)


@st.composite
def programs(draw):
    """A chain of ``ld [k]; jeq #c`` (or a bare ``jeq``) with one true target T, then T:
    ``ld [t]; jeq #c`` accepting or not, and the chain's false exit returning 3 or 0."""
    n = draw(st.integers(3, 7))
    tests: list[list[Insn]] = []
    for i in range(n):
        body = []
        if i == 0 or draw(st.booleans()):
            body.append(Insn(draw(st.sampled_from(LOADS)), 0, 0, draw(st.integers(0, 4))))
        body.append(Insn(0x15, 0, 0, draw(st.sampled_from(VALUES))))
        tests.append(body)
    size = sum(len(b) for b in tests)
    t = size  # T's first instruction
    out: list[Insn] = []
    for body in tests:
        for ins in body[:-1]:
            out.append(ins)
        here = len(out)
        jt = t - here - 1
        jf = 0 if len(out) + 1 < size else 3  # the next test, or past T to the false exit
        out.append(Insn(body[-1].code, jt, jf, body[-1].k))
    tail_load = Insn(draw(st.sampled_from(LOADS)), 0, 0, draw(st.integers(0, 8)))
    out += [
        tail_load,
        Insn(0x15, 0, 1, draw(st.sampled_from(VALUES))),
        Insn(0x06, 0, 0, draw(st.sampled_from((0, 7)))),
        Insn(0x06, 0, 0, 0),
        Insn(0x06, 0, 0, draw(st.sampled_from((0, 3)))),
    ]
    # the false exit is the last instruction: fix the chain's last jf to reach it
    last = size - 1
    out[last] = Insn(out[last].code, out[last].jt, len(out) - 1 - last - 1, out[last].k)
    return out


PACKETS = (
    [bytes(p)[:n] for p in itertools.product((0, 1), repeat=10) for n in (1, 3, 5, 10)][::7]
    + [bytes(n) for n in range(12)]
    + [b"\x01" * n for n in range(12)]
)


@given(programs())
def test_regrouped_chains_keep_every_verdict(prog):
    from bpfc.opt.graph import build
    from bpfc.opt.linearize import linearize

    graph = build(prog)
    build_sets(graph)
    alone = linearize(graph)
    full = optimize(prog, reject_empty=False)
    for pkt in PACKETS:
        want = run(prog, pkt, len(pkt))
        assert run(alone, pkt, len(pkt)) == want, pkt
        assert run(full, pkt, len(pkt)) == want, pkt
