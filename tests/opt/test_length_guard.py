"""A length test's guard (bpfc/opt/eliminate_dead.py, ``_length_test_guard``).

``ld #pktlen; jgt/jge #k`` sends every packet shorter than a bound to its false edge;
when that edge returns 0 for such packets, a dead load in front of the test that needs
no more than the bound (or than the true side's guard) may go.  On random programs of
that shape (dead loads, a length test, a few loads and tests on each side, both
returns), ``eliminate_dead`` alone and the whole optimizer keep every verdict on
packets of every length up to 64 bytes, and the pass is a fixed point after one call.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.isa.validation import validate
from bpfc.opt import eliminate_dead, optimize
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.vm.interp import interpret as run

LOADS = (0x20, 0x28, 0x30)  # ld ldh ldb [k]


@st.composite
def length_tests(draw) -> list[Insn]:
    """Dead loads, ``ld #pktlen; jgt/jge #k``, then on each edge a short run of loads and
    tests ending in ``ret #0`` or ``ret #1`` (the false edge often ``ret #0`` at once)."""
    out = [Insn(draw(st.sampled_from(LOADS)), 0, 0, draw(st.integers(0, 40)))
           for _ in range(draw(st.integers(1, 3)))]  # fmt: skip
    out.append(Insn(0x80, 0, 0, 0))  # ld #pktlen
    code = draw(st.sampled_from((0x25, 0x35)))  # jgt jge
    k = draw(st.integers(0, 48))
    sides = []
    for _ in range(2):
        side = []
        for _ in range(draw(st.integers(0, 2))):
            side.append(Insn(draw(st.sampled_from(LOADS)), 0, 0, draw(st.integers(0, 40))))
            side.append(Insn(0x15, 0, 1, draw(st.integers(0, 2))))  # jeq #c: fall on / skip
            side.append(Insn(0x06, 0, 0, draw(st.sampled_from((0, 1)))))
        side.append(Insn(0x06, 0, 0, draw(st.sampled_from((0, 0, 1)))))
        sides.append(side)
    yes, no = sides
    out.append(Insn(code, 0, len(yes), k))
    return out + yes + no


def _packets() -> list[bytes]:
    return [bytes((i * 7 + n) & 0xFF for i in range(n)) for n in range(65)] + [
        bytes(n) for n in range(65)
    ]


@given(length_tests())
def test_dead_loads_before_a_length_test_keep_verdicts(prog):
    validate(prog)
    graph = build(prog)
    eliminate_dead.run(graph)
    assert not eliminate_dead.run(graph)
    out = linearize(graph)
    validate(out)
    whole = optimize(prog, reject_empty=False)
    for pkt in _packets():
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())
        assert run(whole, pkt) == run(prog, pkt), (prog, whole, pkt.hex())


def test_a_dead_load_the_length_test_covers_goes():
    """``ld [34]`` (38 bytes) before ``len >= 200`` whose false edge is ``ret #0``."""
    prog = [
        Insn(0x20, 0, 0, 34),  # ld [34]
        Insn(0x80, 0, 0, 0),  # ld #pktlen
        Insn(0x35, 0, 1, 200),  # jge #200
        Insn(0x06, 0, 0, 1),
        Insn(0x06, 0, 0, 0),
    ]
    graph = build(prog)
    assert eliminate_dead.run(graph)
    out = linearize(graph)
    assert len(out) == len(prog) - 1
    for n in (0, 37, 38, 199, 200, 300):
        assert run(out, bytes(n)) == run(prog, bytes(n))
