"""The shared forward sweep's shortcuts: inert ``ret #k`` blocks are not visited or joined,
and the two-state ``join`` is the lattice meet (phi where registers differ, facts merged
on common values, the smaller proven length)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.opt import facts as F
from bpfc.opt.dataflow import NREGS, State, forward, inert, join, out_edges, run_block
from bpfc.opt.graph import build
from bpfc.opt.values import Values

# ldh [12]; jeq #0x800 -> (ldb [23]; jeq #6 -> accept | reject) | reject; plus `ret a`
PROG = [
    Insn(0x28, 0, 0, 12),
    Insn(0x15, 0, 3, 0x800),
    Insn(0x30, 0, 0, 23),
    Insn(0x15, 0, 1, 6),
    Insn(0x6, 0, 0, 262144),
    Insn(0x6, 0, 0, 0),
]


def test_inert_is_exactly_a_bare_ret_k() -> None:
    graph = build(PROG)
    kinds = {(b.code, bool(b.stmts)): inert(b) for b in graph.order()}
    assert kinds[(0x06, False)] is True
    assert kinds[(0x15, True)] is False
    ret_a = build([Insn(0x28, 0, 0, 12), Insn(0x16, 0, 0, 0)])
    assert [inert(b) for b in ret_a.order()] == [False]


def test_forward_skips_inert_blocks_and_visits_the_rest_once() -> None:
    graph = build(PROG)
    vals = Values()
    seen: list[int] = []

    def visit(block, state):
        seen.append(block.id)
        return out_edges(vals, block, run_block(vals, block, state))

    forward(graph, graph.order(), vals, visit)
    order = graph.order()
    expected = [b.id for b in order if not inert(b)]
    assert seen == expected
    assert len(expected) == 2 and len(order) == 4  # two tests, two shared returns


regs = st.lists(st.integers(0, 5), min_size=NREGS, max_size=NREGS)
fact = st.builds(
    F.Fact,
    st.integers(0, 10),
    st.integers(10, 20),
    st.none() | st.frozensets(st.integers(0, 20), max_size=4),
    st.frozensets(st.integers(0, 20), max_size=3),
)
fact_map = st.dictionaries(st.integers(0, 6), fact, max_size=4)


@given(regs, regs, fact_map, fact_map, st.integers(0, 99), st.integers(0, 99))
def test_two_state_join_is_the_meet(ra, rb, fa, fb, ma, mb) -> None:
    vals = Values()
    block = build(PROG).entry
    got = join(vals, block, (State(tuple(ra), fa, ma), State(tuple(rb), fb, mb)))
    for i in range(NREGS):
        if ra[i] == rb[i]:
            assert got.regs[i] == ra[i]
        else:
            assert vals.keys[got.regs[i]] == ("phi", block.id, i)
    assert got.facts == {vn: F.merge(f, fb[vn]) for vn, f in fa.items() if vn in fb}
    assert list(got.facts) == [vn for vn in fa if vn in fb]
    assert got.minlen == min(ma, mb)
