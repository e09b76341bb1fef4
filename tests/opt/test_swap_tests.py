"""Swapping two pure tests that share a target (bpfc/opt/swap_tests.py).

Random chains of tests whose edges go to the next test, a later test or one of a few
shared exits (some reading A) are run through the pass alone and through the whole
optimizer: the verdicts stay those of the input on sampled packets and on every
truncation of them, the pass never grows a program, and a second run changes nothing.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.opt_helpers import lay_out

from bpfc.compiler import compile as bpfc_compile
from bpfc.isa.insn import Insn
from bpfc.isa.validation import validate
from bpfc.opt import optimize, swap_tests
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.opt.verify import sample
from bpfc.vm.interp import interpret as run

LOADS = (
    Insn(0x20, 0, 0, 2),  # ld [2]
    Insn(0x20, 0, 0, 6),  # ld [6]
    Insn(0x28, 0, 0, 4),  # ldh [4]
    Insn(0x30, 0, 0, 9),  # ldb [9]
    Insn(0x30, 0, 0, 30),  # ldb [30]: often past the end
    Insn(0x48, 0, 0, 1),  # ldh [x + 1]
    Insn(0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)
    Insn(0x04, 0, 0, 1),  # add #1
    Insn(0x54, 0, 0, 0xF0),  # and #0xf0
    Insn(0x07, 0, 0, 0),  # tax
    Insn(0x87, 0, 0, 0),  # txa
    Insn(0x02, 0, 0, 1),  # st M[1]
    Insn(0x60, 0, 0, 1),  # ld M[1]
)
EXITS = (
    Insn(0x06, 0, 0, 0),  # ret #0
    Insn(0x06, 0, 0, 1),  # ret #1
    Insn(0x16, 0, 0, 0),  # ret a: A live, which must block a swap
)
CONSTS = (0, 1, 2, 3, 0x40, 0x0102, 0x01020304)
JUMPS = (0x15, 0x15, 0x15, 0x25, 0x35, 0x45, 0x1D)  # jeq jgt jge jset, and jeq x


@st.composite
def chains_of_tests(draw) -> list[Insn]:
    """Blocks of 0-2 statements (mostly a repeated load) and a test; each edge goes to
    the next block, a later one or a shared exit."""
    n = draw(st.integers(2, 10))
    exits = draw(st.lists(st.sampled_from(EXITS), min_size=2, max_size=3))
    blocks = []
    few = st.sampled_from(LOADS[:2])  # mostly reloads of a few fields: the pass's shape
    for i in range(n):
        stmts = draw(
            st.one_of(
                st.lists(few, min_size=1, max_size=1), st.lists(st.sampled_from(LOADS), max_size=2)
            )
        )
        code = draw(st.sampled_from(JUMPS))
        targets = st.one_of(
            st.just(i + 1), st.just(n), st.integers(i + 1, n + len(exits) - 1), st.just(n + 1)
        )
        blocks.append((stmts, code, draw(st.sampled_from(CONSTS)), draw(targets), draw(targets)))
    # ldx #2, so that indirect loads have a base; and sometimes a load proving 14 bytes
    prefix = [Insn(0x01, 0, 0, 2)] + ([Insn(0x30, 0, 0, 13)] if draw(st.booleans()) else [])
    return lay_out(blocks, exits, prefix)


@st.composite
def shared_target_chains(draw) -> list[Insn]:
    """Runs of ``[load]; test`` whose one edge goes on and the other to a shared exit,
    either way round: ``or`` and ``and`` chains over a few fields, the pass's shape."""
    n = draw(st.integers(2, 9))
    fields = st.sampled_from((*LOADS[:3], LOADS[5]))
    tests = []
    for i in range(n):
        load = [] if i and draw(st.integers(0, 3)) == 0 else [draw(fields)]
        exit_ = draw(st.sampled_from((0, 0, 0, 1, 2)))  # which exit the other edge takes
        tests.append((load, draw(st.sampled_from(JUMPS)), draw(st.sampled_from(CONSTS)),
                      exit_, draw(st.booleans())))  # fmt: skip
    exits = [draw(st.sampled_from(EXITS[1:])), draw(st.sampled_from(EXITS)), EXITS[0]]
    out = [Insn(0x01, 0, 0, 2)]  # ldx #2
    if draw(st.booleans()):
        out.append(draw(st.sampled_from((Insn(0x30, 0, 0, 13), Insn(0x30, 0, 0, 29)))))
    total = len(out) + sum(len(t[0]) + 1 for t in tests)
    for i, (load, code, k, exit_, exit_on_true) in enumerate(tests):
        out += load
        here = len(out)
        on = 0 if i + 1 < n else total + 2 - here - 1  # the last test's other edge: ret #0
        away = total + exit_ - here - 1
        out.append(Insn(code, away, on, k) if exit_on_true else Insn(code, on, away, k))
    return out + exits


def _swapped(prog: list[Insn]) -> tuple[bool, list[Insn], bool]:
    """(changed, the program after the pass alone, whether a second run changed it)."""
    graph = build(prog)
    changed = swap_tests.run(graph)
    again = swap_tests.run(graph)
    return changed, linearize(graph), again


def _shrinks(prog: list[Insn]) -> bool:
    """The pass never adds work: blocks' statements and tests (a layout may add a ``ja``,
    which ``merge_blocks`` and the layout of the whole optimizer remove)."""
    graph = build(prog)
    size = graph.size()
    swap_tests.run(graph)
    return graph.size() <= size


def _packets(prog: list[Insn], extra: list[bytes]) -> list[bytes]:
    base = sample(prog, count=30) + extra + [bytes(range(40)), b"\xff" * 40]
    out = []
    for pkt in base:  # every truncation: a swap must not move a test across a failing load
        out += [pkt[:cut] for cut in range(0, len(pkt) + 1, max(1, len(pkt) // 12))]
        out.append(pkt)
    return out


@given(
    st.one_of(chains_of_tests(), shared_target_chains()),
    st.lists(st.binary(max_size=40), max_size=10),
)
def test_swapping_keeps_verdicts_and_reaches_a_fixed_point(prog, extra):
    changed, out, again = _swapped(prog)
    assert not again
    assert _shrinks(prog)
    validate(out)
    for pkt in _packets(prog, extra):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())
    assert changed or out == linearize(build(prog))


@given(st.one_of(chains_of_tests(), shared_target_chains()))
def test_optimizer_with_the_pass_keeps_verdicts(prog):
    out = optimize(prog, reject_empty=False)
    for pkt in _packets(prog, []):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


def _or_chain(first_exit: Insn) -> list[Insn]:
    """``[2] == 1 or [6] == 1 or [2] == 3 or [6] == 3`` (``host a or host b`` on RAW)."""
    return [
        Insn(0x20, 0, 0, 2),  # 0 ld [2]
        Insn(0x15, 6, 0, 1),  # 1 jeq #1 -> 8
        Insn(0x20, 0, 0, 6),  # 2 ld [6]
        Insn(0x15, 4, 0, 1),  # 3 jeq #1 -> 8
        Insn(0x20, 0, 0, 2),  # 4 ld [2]
        Insn(0x15, 2, 0, 3),  # 5 jeq #3 -> 8
        Insn(0x20, 0, 0, 6),  # 6 ld [6]
        Insn(0x15, 0, 1, 3),  # 7 jeq #3 -> 8 / 9
        first_exit,  # 8
        Insn(0x06, 0, 0, 0),  # 9 ret #0
    ]


def test_or_chain_tests_the_held_value_first():
    prog = _or_chain(Insn(0x06, 0, 0, 1))
    # number_values first (the reload at 6 is not yet redundant): swap on the raw chain
    changed, out, again = _swapped(prog)
    assert changed and not again
    assert len(out) == len(prog) - 1
    for cut in range(12):
        pkt = bytes([0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0])[:cut]
        assert run(out, pkt) == run(prog, pkt)


def test_a_live_at_the_shared_target_blocks_the_swap():
    assert not _swapped(_or_chain(Insn(0x16, 0, 0, 0)))[0]  # ret a


@pytest.mark.parametrize(
    "expr, linktype, master",
    [
        # the pass brings bpfc's program from 19 to 18, libpcap master's size
        ("!((ip host 192.168.1.1) or (not ((host 10.0.0.2) || (tcp[2:2] > 1023))))", "NULL", 18),
        # ``[dst] == 20``, ``[dst] == 21`` then ``[src]`` reloaded for 21: the reload's test
        # moves before the destination's, across the statement-free test between (was 18)
        ("(udp[4:2] > 12) and (port 20 or 21)", "PPP", 17),
    ],
)
def test_as_small_as_master_with_the_same_verdicts(expr, linktype, master):
    prog = [Insn(*i) for i in bpfc_compile(expr, linktype, optimize=False)]
    out = optimize(prog)
    assert len(out) <= master
    for pkt in _packets(prog, []):
        assert run(out, pkt) == run(prog, pkt)


SMALL = (5, 7, 8)


@st.composite
def joined_pairs(draw) -> list[Insn]:
    """``_Proof``'s shape: a join J where one path loaded ``[2]`` and the other only
    ``[1]``, then B (``ldb [2]``: may fail on the second) and C (``[1]`` reloaded), with
    random tests, polarities and exits: the swap is sound only when the facts on ``[1]``
    prove every path that t_C sends to S loaded ``[2]``."""

    def test(jt: int, jf: int, here: int) -> Insn:
        code = draw(st.sampled_from((0x15, 0x15, 0x25, 0x35)))
        t, f = (jt, jf) if draw(st.booleans()) else (jf, jt)
        return Insn(code, t - here - 1, f - here - 1, draw(st.sampled_from(SMALL)))

    s, d = 10, 11
    out = [Insn(0x30, 0, 0, 1), test(4, 2, 1), Insn(0x30, 0, 0, 2)]
    out.append(test(4, draw(st.sampled_from((s, d))), 3))
    out += [Insn(0x30, 0, 0, 1), test(s, 6, 5), Insn(0x30, 0, 0, 2), test(s, 8, 7)]
    out += [Insn(0x30, 0, 0, 1), test(s, d, 9)]
    return out + [draw(st.sampled_from(EXITS[1:])), Insn(0x06, 0, 0, 0)]


_SHORT = [bytes([0, a]) for a in (*SMALL, 6, 9)] + [
    bytes([0, a, b]) for a in (*SMALL, 6, 9) for b in (*SMALL, 6)
]


@given(joined_pairs())
def test_proof_of_an_earlier_load_keeps_verdicts(prog):
    changed, out, again = _swapped(prog)
    assert not again
    validate(out)
    for pkt in _SHORT + _packets(prog, []):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())
