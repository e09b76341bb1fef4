"""Dropping a dead load every feasible path already made (bpfc/opt/drop_proven_loads.py).

On random DAGs of small blocks (byte tests that split and join paths, indirect loads at
one small X on some of them, a dead indirect load in front of a return) and on the
generic random programs, the pass alone and the whole optimizer keep every verdict on
sampled packets and all their truncations, and a second call changes nothing; the
``disjoint`` test of two facts never claims two facts exclusive that a value satisfies.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.isa.validation import validate
from bpfc.opt import drop_proven_loads, optimize
from bpfc.opt import facts as F
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.opt.verify import sample
from bpfc.vm.interp import interpret as run
from opt.test_properties import programs

STMTS = (
    [],
    [],
    [Insn(0x30, 0, 0, 1)],  # ldb [1]
    [Insn(0x30, 0, 0, 2)],  # ldb [2]
    [Insn(0x48, 0, 0, 4)],  # ldh [x + 4]
    [Insn(0x48, 0, 0, 6)],  # ldh [x + 6]
    [Insn(0x50, 0, 0, 7)],  # ldb [x + 7]
    [Insn(0x48, 0, 0, 6), Insn(0x30, 0, 0, 1)],  # a dead ldh [x + 6], then ldb [1]
    [Insn(0x30, 0, 0, 30), Insn(0x30, 0, 0, 2)],  # a dead ldb [30], then ldb [2]
    [Insn(0x28, 0, 0, 20), Insn(0x80, 0, 0, 0)],  # a dead ldh [20], then ld #pktlen
    [Insn(0x80, 0, 0, 0)],  # ld #pktlen
)
TESTS = (0x15, 0x25, 0x35, 0x45)  # jeq jgt jge jset
CONSTS = (0, 1, 2, 3, 6, 0x11, 0x16, 0x1E, 0x40, 0x80)


@st.composite
def joined_blocks(draw) -> list[Insn]:
    """``ldxb 4*([0]&0xf)`` (or ``ldb [0]; and #0x1c; tax``), then blocks of a load or
    two (the first sometimes dead) and a test (or a ``ja``) jumping to later blocks or to
    ``ret #0`` / ``ret #1``; the last block of the body is a dead indirect load in front
    of ``ret #1``."""
    if draw(st.booleans()):
        head = [Insn(0xB1, 0, 0, 0)]  # ldxb 4*([0]&0xf)
    else:  # X bounded through an ALU chain (PFLOG's header length), not ``msh``
        head = [Insn(0x30, 0, 0, 0), Insn(0x54, 0, 0, 0x1C), Insn(0x07, 0, 0, 0)]
    n = draw(st.integers(2, 7))
    blocks = []
    for i in range(n):
        stmts = draw(st.sampled_from(STMTS))
        kind = draw(st.sampled_from(("test", "test", "test", "ja")))
        t = draw(st.integers(i + 1, n + 2))
        f = draw(st.integers(i + 1, n + 2))
        code, k = draw(st.sampled_from(TESTS)), draw(st.sampled_from(CONSTS))
        blocks.append((stmts, kind, code, k, t, f))
    last = [draw(st.sampled_from((Insn(0x48, 0, 0, 4), Insn(0x48, 0, 0, 6), Insn(0x50, 0, 0, 7))))]
    # block n: dead load, ret #1; n + 1: ret #1; n + 2: ret #0
    sizes = [len(b[0]) + 1 for b in blocks] + [2, 1, 1]
    start = [len(head)]
    for size in sizes:
        start.append(start[-1] + size)
    out = list(head)
    for i, (stmts, kind, code, k, t, f) in enumerate(blocks):
        out += stmts
        here = start[i] + len(stmts)
        if kind == "ja":
            out.append(Insn(0x05, 0, 0, start[t] - here - 1))
        else:
            out.append(Insn(code, start[t] - here - 1, start[f] - here - 1, k))
    out += last + [Insn(0x06, 0, 0, 1), Insn(0x06, 0, 0, 1), Insn(0x06, 0, 0, 0)]
    return out


def _packets(prog: list[Insn], extra: list[bytes]) -> list[bytes]:
    out = []
    base = sample(prog, count=30) + extra + [bytes([0x41]) + bytes(range(1, 32)), bytes(24)]
    for pkt in base:
        out += [pkt[:cut] for cut in range(len(pkt) + 1)]
    return out


def _alone(prog: list[Insn]) -> tuple[list[Insn], bool]:
    graph = build(prog)
    drop_proven_loads.run(graph)
    again = drop_proven_loads.run(graph)
    return linearize(graph), again


@given(
    st.one_of(joined_blocks(), programs()),
    st.lists(st.binary(max_size=40), max_size=6),
)
def test_dropping_keeps_verdicts_and_reaches_a_fixed_point(prog, extra):
    validate(prog)
    out, again = _alone(prog)
    assert not again
    validate(out)
    whole = optimize(prog, reject_empty=False)
    for pkt in _packets(prog, extra):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())
        assert run(whole, pkt) == run(prog, pkt), (prog, whole, pkt.hex())


FACTS = st.builds(
    lambda lo, span, vals, ne, zero, nz: F.Fact(
        lo, min(lo + span, F.MASK), vals, frozenset(ne), zero, tuple(sorted(set(nz)))
    ),
    st.integers(0, 0x90),
    st.integers(0, 0x90),
    st.one_of(st.none(), st.frozensets(st.integers(0, 0x90), max_size=4)),
    st.lists(st.integers(0, 0x90), max_size=3),
    st.integers(0, 0xFF),
    st.lists(st.integers(1, 0xFF), max_size=2),
)


@given(FACTS, FACTS)
def test_disjoint_facts_share_no_value(f, g):
    if drop_proven_loads.disjoint(f, g):
        for v in range(0x200):
            assert not (drop_proven_loads._satisfies(v, f) and drop_proven_loads._satisfies(v, g))


def test_a_port_load_every_feasible_path_made_goes():
    """NULL ``(port 80) or (... dst port 22 ...)``: the motivating shape, as master."""
    import bpfc

    expr = (
        "(port 80) or ((((ip[0] & 0xf > 5) && (src 10.0.0.1 and dst port 22)) && "
        "((ip[2:2] - 20 > 30) || (tcp))) or (src host 10.0.0.1))"
    )
    assert len(bpfc.compile(expr, linktype="NULL")) <= 29
