"""The optimizer's shortcuts for ordinary expressions give exactly the results of the long way.

``compiler._optimize_direct`` builds the optimizer's graph straight from code
generation's blocks instead of laying out the unoptimized program and reading it back;
``hoist_tests`` reads the states of a kept sweep instead of sweeping again.  Both must
be invisible in the output: these tests compare each shortcut with the long way on
every corpus expression and on random programs.
"""

from __future__ import annotations

import copy
import glob
import json
from pathlib import Path

import pytest
from hypothesis import given

from bpfc import compiler
from bpfc.errors import BpfcError
from bpfc.opt import hoist_tests, manager, optimize
from bpfc.opt.graph import Graph
from bpfc.opt.sweeps import recall
from opt.test_properties import programs

ROOT = Path(__file__).resolve().parent.parent.parent


def _outcome(expr: str, linktype: str) -> tuple | str:
    try:
        return tuple(tuple(i) for i in compiler.compile(expr, linktype, optimize=True))
    except BpfcError as err:
        return f"{type(err).__name__}: {err}"


def _cases(upstream: Path) -> list[tuple[str, str]]:
    cases = []
    for path in sorted(glob.glob(str(ROOT / "corpus" / "expected" / "*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            cases += [(r["expr"], r["linktype"]) for r in map(json.loads, handle)]
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for r in map(json.loads, handle):
            if r["kind"] == "accept" and not r.get("special") and r["dlt"] == "EN10MB":
                cases.append((r["expr"], "EN10MB"))
    return cases


def test_direct_graph_gives_the_listing_paths_programs(upstream, monkeypatch):
    cases = _cases(upstream)
    direct = [_outcome(expr, lt) for expr, lt in cases]
    monkeypatch.setattr(compiler, "SHORT_PROGRAM", -1)  # every graph takes the listing
    listed = [_outcome(expr, lt) for expr, lt in cases]
    assert len(cases) > 2500
    differ = [cases[i] for i, (a, b) in enumerate(zip(direct, listed, strict=True)) if a != b]
    assert differ == []
    assert sum(isinstance(a, tuple) for a in direct) > 2500


def _shape(graph: Graph) -> list[tuple]:
    graph.forget_order()
    return [
        (b.id, b.code, b.k, b.jt and b.jt.id, b.jf and b.jf.id, tuple(b.stmts))
        for b in graph.order()
    ]


class Compare:
    """``hoist_tests`` on the graph (replaying a kept sweep when there is one) and on a
    deep copy of it (which no sweep is kept for): same answer, same graph after."""

    def __init__(self) -> None:
        self.calls = 0
        self.replays = 0
        self.differ: list[tuple] = []

    def run(self, graph: Graph) -> bool:
        self.replays += recall(graph) is not None
        twin = copy.deepcopy(graph)
        fresh = hoist_tests.run(twin)
        got = hoist_tests.run(graph)
        self.calls += 1
        if got != fresh or _shape(graph) != _shape(twin):
            self.differ.append((got, fresh))
        return got

    def passes(self) -> list[tuple[str, manager.Pass]]:
        return [(n, self.run if n == "hoist_tests" else fn) for n, fn in manager.PASSES]


@pytest.fixture
def compare(monkeypatch: pytest.MonkeyPatch) -> Compare:
    spy = Compare()
    monkeypatch.setattr(manager, "PASSES", tuple(spy.passes()))
    return spy


def test_hoist_tests_replay_equals_a_fresh_sweep(upstream, compare):
    for expr, lt in _cases(upstream):
        _outcome(expr, lt)
    assert compare.calls > 2000
    assert compare.replays > 1000
    assert compare.differ == []


@given(programs())
def test_hoist_tests_replay_on_random_programs(prog):
    spy = Compare()
    optimize(prog, passes=spy.passes(), reject_empty=False)
    assert spy.differ == []
