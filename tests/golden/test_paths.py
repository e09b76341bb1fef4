"""Targeted packets: the edge tracer agrees with the interpreter; selection loses no edge."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import bpfc
from bpfc.golden.paths import edges_of, path, select, targeted_packets_for
from bpfc.packetgen import Packet

CASES = [
    ("tcp port 80", "EN10MB", False),
    ("host 10.0.0.1 and not udp", "LINUX_SLL", False),
    ("vlan 100 and icmp", "EN10MB", True),
    ("ip[0] & 0xf > 5 or len < 60", "RAW", False),
]
PROGRAMS = {
    (e, lt, lx): (bpfc.compile(e, lt, linux=lx), bpfc.compile(e, lt, optimize=False, linux=lx))
    for e, lt, lx in CASES
}


def test_edges_of_counts_both_branches_and_every_ret() -> None:
    prog = bpfc.assemble("ldh [12]\njeq #0x800, a, b\na: ret #1\nb: ret #0")
    assert edges_of(prog) == {(1, 1), (1, 0), (2, 2), (3, 2)}


@settings(max_examples=150)
@given(st.sampled_from(CASES), st.binary(max_size=90), st.integers(0, 40))
def test_the_path_ends_where_the_interpreter_returns(case, data: bytes, extra: int) -> None:  # noqa: ANN001
    expr, linktype, linux = case
    for prog in PROGRAMS[case]:
        edges = path(prog, data, len(data) + extra, linux)
        ends = [pc for pc, kind in edges if kind in (2, 3)]
        assert len(ends) == 1  # every run ends once: a ret or a failed load
        assert edges <= edges_of(prog) | {(ends[0], 3)}
        got = prog.run(data, len(data) + extra, linux=linux)
        pc = ends[0]
        if (pc, 2) in edges and prog[pc].code == 0x06:  # ret #k
            assert got == prog[pc].k
        elif (pc, 3) in edges:
            assert got == 0


@settings(max_examples=60)
@given(st.sampled_from(CASES), st.lists(st.binary(max_size=80), max_size=30))
def test_selection_keeps_every_edge_the_candidates_take(case, blobs: list[bytes]) -> None:  # noqa: ANN001
    programs = PROGRAMS[case]
    linux = case[2]
    candidates = [Packet(b, len(b)) for b in blobs]
    kept, coverage = select(programs, candidates, linux)
    assert all(k in candidates for k in kept)
    for index, prog in enumerate(programs):
        every = set().union(*(path(prog, p.data, p.wirelen, linux) for p in candidates))
        have = set().union(*(path(prog, p.data, p.wirelen, linux) for p in kept))
        assert have == every
        assert coverage[index].taken == len(every & edges_of(prog))


def test_targeted_packets_cover_port_80_entirely_and_are_deterministic() -> None:
    programs = PROGRAMS[CASES[0]]
    first, coverage = targeted_packets_for("tcp port 80", "EN10MB", programs, seed=7)
    again, _ = targeted_packets_for("tcp port 80", "EN10MB", programs, seed=7)
    assert first == again and len(first) < 40
    assert all(c.taken == c.total for c in coverage)  # every branch of both programs
    verdicts = {bool(programs[0].run(p.data, p.wirelen)) for p in first}
    assert verdicts == {True, False}


def test_a_link_type_packetgen_cannot_frame_gives_no_packets() -> None:
    prog = bpfc.compile("link[0] = 1", "USER0")
    kept, coverage = targeted_packets_for("link[0] = 1", "USER0", [prog])
    assert kept == [] and coverage[0].taken == 0 and coverage[0].total > 0
