"""``eliminate_dead``: a dead ``ld [x + k]`` that may fail goes when every later path runs a
load at the same X reaching as far (or returns 0).  Random programs over one header length
``ldxb 4*([0]&0xf)``, checked on every packet length and several header lengths."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.opt import optimize
from bpfc.opt.eliminate_dead import run as eliminate_dead
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.vm.interp import interpret as run

IND = (0x40, 0x48, 0x50)  # ld, ldh, ldb [x + k]


@st.composite
def programs(draw):
    n = draw(st.integers(3, 14))
    out = [Insn(0xB1, 0, 0, 0)]  # ldxb 4*([0]&0xf)
    for i in range(n):
        left = n - i  # instructions after this one, rets included below
        kind = draw(st.integers(0, 5))
        if kind <= 2:
            out.append(Insn(draw(st.sampled_from(IND)), 0, 0, draw(st.integers(0, 10))))
        elif kind == 3 and left >= 2:
            jt = draw(st.integers(0, min(left - 1, 5)))
            jf = draw(st.integers(0, min(left - 1, 5)))
            out.append(Insn(0x15, jt, jf, draw(st.sampled_from((0, 1, 7)))))
        elif kind == 4:
            out.append(Insn(0xB1, 0, 0, draw(st.sampled_from((0, 1)))))  # X again, or another
        else:
            out.append(Insn(0x06, 0, 0, draw(st.sampled_from((0, 5)))))
    out.append(Insn(0x06, 0, 0, 3))
    out.append(Insn(0x06, 0, 0, 0))
    return out


def _packets():
    for first in (0x40, 0x41, 0x43, 0x45, 0x00):
        for fill in (0, 1, 7):
            full = bytes((first, first)) + bytes((fill,)) * 40
            for n in range(0, len(full) + 1):
                yield full[:n]


PACKETS = list(_packets())


@given(programs())
def test_dropping_dead_indirect_loads_keeps_every_verdict(prog):
    alone = linearize(_pass(prog))
    full = optimize(prog, reject_empty=False)
    for pkt in PACKETS:
        want = run(prog, pkt, len(pkt))
        assert run(alone, pkt, len(pkt)) == want, pkt
        assert run(full, pkt, len(pkt)) == want, pkt


def _pass(prog):
    graph = build(prog)
    eliminate_dead(graph)
    return graph
