"""Folding long ``or`` chains of near-equal terms (bpfc/opt/fold_chains.py).

The fold must keep every verdict, including the packets a short load rejects, and
must not make programs larger than the passes alone make them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.opt_helpers import first_difference, packets_for

from bpfc import libpcap
from bpfc.compiler import compile as bpfc_compile
from bpfc.isa.insn import Insn
from bpfc.opt import fold_chains, optimize
from bpfc.opt.compose import chain_or
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.opt.manager import PASSES
from bpfc.vm.interp import interpret as run

N = fold_chains.MIN_TERMS + 2


def _fold_only(prog: list[Insn]) -> tuple[bool, list[Insn]]:
    graph = build(prog)
    changed = fold_chains.run(graph)
    return changed, linearize(graph)


def _compiled(expr: str) -> list[Insn]:
    return [Insn(*i) for i in bpfc_compile(expr, "EN10MB", optimize=False)]


PRIMITIVES = {
    "host": lambda i: f"host 10.0.{i >> 8}.{i & 255}",
    "src host": lambda i: f"src host 10.0.{i >> 8}.{i & 255}",
    "port": lambda i: f"port {i}",
    "tcp dst port": lambda i: f"tcp dst port {i}",
    "net": lambda i: f"net 10.{i}.0.0/16",
    "ether host": lambda i: f"ether host 02:00:00:00:{i >> 8:02x}:{i & 255:02x}",
    "ip proto": lambda i: f"ip proto {i}",
    "ip6 host": lambda i: f"ip6 host 2001:db8::{i:x}",
}


@pytest.mark.parametrize("kind", sorted(PRIMITIVES))
def test_chains_fold_and_keep_verdicts(kind):
    values = [1, 7, 2, 200, 3, 90, 17, 5, 6, 11, 12, 13, 40, 41, 42, 43, 99, 100, 2]
    expr = " or ".join(PRIMITIVES[kind](v) for v in values)
    prog = _compiled(expr)
    changed, folded = _fold_only(prog)
    # a 6-byte address is two tests, the first of which does not accept: left alone
    assert changed == (kind != "ether host")
    packets = packets_for(prog, count=150)
    assert first_difference(prog, folded, packets) is None
    assert first_difference(prog, optimize(prog), packets) is None


@pytest.mark.parametrize("kind", ["host", "port"])
def test_fold_does_not_grow_the_result(kind):
    values = range(1, 41)
    prog = _compiled(" or ".join(PRIMITIVES[kind](v) for v in values))
    without = [(name, fn) for name, fn in PASSES if name != "fold_chains"]
    assert len(optimize(prog)) <= len(optimize(prog, passes=without))


@pytest.mark.skipif(not libpcap.available(), reason="libpcap not installed")
def test_libpcap_chains_fold_and_keep_verdicts():
    terms = [
        libpcap.compile(f"udp port {p} or tcp dst port {p}", "EN10MB", 262144, False, 0)
        for p in range(1, N + 1)
    ]
    prog = chain_or(terms)
    changed, folded = _fold_only(prog)
    assert changed
    assert first_difference(prog, folded, packets_for(prog, count=150)) is None


def test_short_chains_are_left_to_the_passes():
    prog = _compiled(" or ".join(f"port {i}" for i in range(1, fold_chains.MIN_TERMS)))
    assert not _fold_only(prog)[0]


def _term(x_first: bool, value: int, accept_src: int = 1, accept_dst: int = 1) -> list[Insn]:
    """``ldb [1] == v or ldb [2] == v`` (optionally reading X before writing it)."""
    pre = [Insn(0x61, 0, 0, 0)] if x_first else []  # ldx M[0]: a register from before
    return pre + [
        Insn(0x30, 0, 0, 1),
        Insn(0x15, 3, 0, value),
        Insn(0x30, 0, 0, 2),
        Insn(0x15, 2, 0, value),
        Insn(0x06, 0, 0, 0),
        Insn(0x06, 0, 0, accept_src),
        Insn(0x06, 0, 0, accept_dst),
    ]


def test_terms_reading_registers_from_before_are_not_folded():
    prog = chain_or([_term(True, v) for v in range(N)])
    assert not _fold_only(prog)[0]
    assert _fold_only(chain_or([_term(False, v) for v in range(N)]))[0]


def test_tests_accepting_differently_are_not_folded():
    # a hit on the first field and one on the second must reach the same ret
    terms = [_term(False, v) for v in range(N)]
    prog = chain_or(terms)
    # make the first test of every term jump to a ret of its own (ret #0 of the term)
    bent = [list(t) for t in terms]
    for t in bent:
        t[1] = Insn(0x15, 2, 0, t[1].k)  # first test's true side: the term's ret #0
    assert not _fold_only(chain_or(bent))[0]
    assert _fold_only(prog)[0]


# random term templates: loads (some may fail), X and M[] traffic, fixed tests that
# skip ahead or give up on the term, and "varying" tests whose constant each term picks
STMT_POOL = (
    Insn(0x30, 0, 0, 0),  # ldb [0]
    Insn(0x30, 0, 0, 3),
    Insn(0x28, 0, 0, 2),  # ldh [2]
    Insn(0x20, 0, 0, 4),  # ld [4]
    Insn(0xB1, 0, 0, 1),  # ldxb 4*([1]&0xf)
    Insn(0x50, 0, 0, 0),  # ldb [x + 0]
    Insn(0x07, 0, 0, 0),  # tax
    Insn(0x87, 0, 0, 0),  # txa
    Insn(0x04, 0, 0, 1),  # add #1
    Insn(0x02, 0, 0, 0),  # st M[0]
    Insn(0x60, 0, 0, 0),  # ld M[0]
    Insn(0x01, 0, 0, 2),  # ldx #2
)

items = st.one_of(
    st.tuples(st.just("stmt"), st.sampled_from(STMT_POOL)),
    st.tuples(st.just("vary"), st.sampled_from((0, 1, 2, 5, 6)), st.integers(0, 2)),
    st.tuples(
        st.just("test"),
        st.sampled_from((0x15, 0x25, 0x45)),
        st.integers(0, 4),
        st.integers(1, 4),
    ),
)


def _template_term(template, values) -> list[Insn]:
    """One term: ``template`` with its n-th varying test comparing ``values[n]``."""
    starts, n_insns = [], 0
    for item in template:
        starts.append(n_insns)
        n_insns += 2 if item[0] == "vary" else 1
    reject, accept = n_insns, n_insns + 1
    out: list[Insn] = []
    slot = 0
    for i, item in enumerate(template):
        if item[0] == "stmt":
            out.append(item[1])
        elif item[0] == "vary":
            out.append(Insn(0x30, 0, 0, item[1]))
            here = len(out)
            out.append(Insn(0x15, accept - here - 1, 0, values[slot]))
            slot += 1
        else:
            _, code, k, skip = item
            here = len(out)
            dest = starts[i + skip] if i + skip < len(template) else reject
            out.append(Insn(code, dest - here - 1, 0, k))
    return out + [Insn(0x06, 0, 0, 0), Insn(0x06, 0, 0, 1)]


# what may follow the chain: nothing, or a term that reads A or X before writing it
TAILS = {
    "none": [],
    "reads A": [[Insn(0x15, 0, 1, 7), Insn(0x06, 0, 0, 1), Insn(0x06, 0, 0, 0)]],
    "reads X": [
        [Insn(0x87, 0, 0, 0), Insn(0x15, 0, 1, 7), Insn(0x06, 0, 0, 1), Insn(0x06, 0, 0, 0)]
    ],
}


@given(
    template=st.lists(items, min_size=1, max_size=7),
    values=st.integers(1, 4).flatmap(  # few distinct constants: chains that reject happen
        lambda top: st.lists(
            st.lists(st.integers(0, top), min_size=7, max_size=7), min_size=N, max_size=N
        )
    ),
    packets=st.lists(st.binary(min_size=0, max_size=10), min_size=20, max_size=40),
    tail=st.sampled_from(sorted(TAILS)),
)
def test_folding_random_chains_keeps_verdicts(template, values, packets, tail):
    if not any(item[0] == "vary" for item in template):
        template = template + [("vary", 0, 0)]
    prog = chain_or([_template_term(template, vs) for vs in values] + TAILS[tail])
    _, folded = _fold_only(prog)
    # bytes the tests compare against (0..4), and 7, which only the tails look for
    small = [bytes(b % 8 for b in p) for p in packets]
    for pkt in small + packets:
        assert run(folded, pkt) == run(prog, pkt), pkt.hex()


def test_rotated_tests_leave_a_as_the_chain_left_it_for_what_follows():
    # the copy may ask "[1] in S" before "[0] in S" to reuse the load the first term made
    # last, but then A ends as [0], not [1]: not allowed when the code after the chain
    # reads A (here a test on A with no load of its own)
    template = [("vary", 0, 0), ("vary", 1, 0)]
    values = [[i % 2, (i + 1) % 2] + [0] * 5 for i in range(N)]
    prog = chain_or([_template_term(template, v) for v in values] + TAILS["reads A"])
    changed, folded = _fold_only(prog)
    assert changed
    pkt = bytes([9, 7, 0, 0])  # no term matches; A is [1] == 7 when the tail runs
    assert run(prog, pkt) == run(folded, pkt) != 0
