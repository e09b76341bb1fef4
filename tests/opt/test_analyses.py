"""The analysis cache (``bpfc.opt.analyses``): computed once, dropped on every change.

Unit tests pin the cache's contract; the property tests check the manager keeps it:
whenever a pass starts, every analysis the cache hands out equals the same analysis
worked out afresh on the graph as it is then (so no pass ever sees a stale one).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from support.opt_helpers import upstream_accepts

from bpfc.isa.insn import Insn
from bpfc.opt import is_forward, manager
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.dataflow import live_ins
from bpfc.opt.graph import Graph, build
from opt.test_properties import programs

# ldh [12]; jeq #0x800 -> (ldh [12]; jeq #0x800 -> ret 1 / ret 0) / ret 0
TWICE = [
    Insn(0x28, 0, 0, 12),
    Insn(0x15, 0, 3, 0x800),
    Insn(0x28, 0, 0, 12),
    Insn(0x15, 0, 1, 0x800),
    Insn(0x06, 0, 0, 1),
    Insn(0x06, 0, 0, 0),
]


def test_an_analysis_is_computed_once_until_the_graph_changes():
    calls = []

    def counted(analyses: Analyses) -> int:
        calls.append(1)
        return len(analyses.get(topo_order))

    cache = Analyses(build(TWICE))
    assert cache.get(counted) == cache.get(counted) == 4
    assert len(calls) == 1
    cache.changed()
    assert cache.get(counted) == 4
    assert len(calls) == 2


def test_changed_drops_every_result():
    graph = build(TWICE)
    cache = Analyses(graph)
    before = cache.get(topo_order)
    graph.entry.jt = graph.entry.jf  # the first test now rejects on both sides
    assert cache.get(topo_order) is before  # the cache cannot see the change by itself
    cache.changed()
    after = cache.get(topo_order)
    assert after is not before and len(after) < len(before)
    assert cache.get(live_in) == live_ins(after)


def test_of_reuses_a_cache_only_for_its_own_graph():
    graph, other = build(TWICE), build(TWICE)
    cache = Analyses(graph)
    assert Analyses.of(graph, cache) is cache
    assert Analyses.of(other, cache) is not cache
    assert Analyses.of(graph, None).graph is graph


def test_nothing_of_the_analyses_is_kept_on_the_graph():
    graph = build(TWICE)
    before = set(vars(graph))
    manager.run_passes(graph)
    assert set(vars(graph)) == before == {"entry", "_next_id"}


def _shape(graph: Graph) -> list[tuple]:
    return [
        (b.id, b.code, b.k, b.jt and b.jt.id, b.jf and b.jf.id, tuple(b.stmts))
        for b in graph.order()
    ]


class Fresh:
    """Wraps every pass: on entry, the cache's analyses must equal fresh ones; a pass that
    reports no change must leave the graph exactly as it was."""

    def __init__(self) -> None:
        self.calls = 0
        self.stale: list[str] = []

    def wrap(self, name: str, fn: manager.Pass) -> manager.Pass:
        def checked(graph: Graph, analyses: Analyses) -> bool:
            self.calls += 1
            order = graph.order()
            if [b.id for b in analyses.get(topo_order)] != [b.id for b in order]:
                self.stale.append(f"{name}: order")
            if analyses.get(live_in) != live_ins(order):
                self.stale.append(f"{name}: live")
            before = _shape(graph)
            changed = fn(graph, analyses)
            if not changed and _shape(graph) != before:
                self.stale.append(f"{name}: changed the graph but reported no change")
            return changed

        return checked

    def passes(self) -> list[tuple[str, manager.Pass]]:
        return [(name, self.wrap(name, fn)) for name, fn in manager.PASSES]


def _run(prog: list[Insn], spy: Fresh) -> None:
    source = [Insn(*i) for i in prog]
    if is_forward(source):
        manager.run_passes(build(source), spy.passes())


@given(programs())
def test_every_pass_sees_fresh_analyses_on_random_programs(prog):
    spy = Fresh()
    _run(prog, spy)
    assert spy.stale == []


def test_every_pass_sees_fresh_analyses_on_upstream_listings(upstream):
    spy = Fresh()
    cases = upstream_accepts(upstream)
    for record in cases[::4]:
        _run(record["unopt"], spy)
    assert spy.calls > 5000
    assert spy.stale == []


@pytest.mark.parametrize("cap", [1, 2])
def test_the_round_cap_raises(monkeypatch, cap):
    """A graph that still changes after ``MAX_ROUNDS`` rounds is an internal error."""
    from bpfc.errors import InternalError

    monkeypatch.setattr(manager, "MAX_ROUNDS", cap)
    always = [("always", lambda graph, analyses: True)]
    with pytest.raises(InternalError, match=f"fixed point in {cap} rounds"):
        manager.run_passes(build(TWICE), always)
