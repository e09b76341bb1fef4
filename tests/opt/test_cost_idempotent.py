"""The passes the manager marks clean right after they change a graph must be idempotent.

``manager.IDEMPOTENT`` lets the pass manager skip a pass's confirming call when no other
pass changed the graph since the pass's own change.  That is exact only if a pass run
again at once never finds more work: these tests run each of those passes twice in a
row wherever the manager runs it, on every upstream listing, every project corpus
expression and random programs, and require the second call to report no change and
leave the graph as the first call left it.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from support.opt_helpers import corpus_records, upstream_accepts

from bpfc.compiler import compile as bpfc_compile
from bpfc.errors import BpfcError
from bpfc.opt import manager, optimize
from bpfc.opt.graph import Graph
from opt.test_properties import programs


def _shape(graph: Graph) -> list[tuple]:
    graph.forget_order()  # a fresh walk: the order the last pass was handed may be stale
    return [
        (b.id, b.code, b.k, b.jt and b.jt.id, b.jf and b.jf.id, tuple(b.stmts))
        for b in graph.order()
    ]


class Twice:
    """Wraps the idempotent passes: after each change, the same pass runs again at once."""

    def __init__(self) -> None:
        self.changes = 0
        self.failures: list[str] = []

    def wrap(self, name: str, fn: manager.Pass) -> manager.Pass:
        def twice(graph: Graph) -> bool:
            changed = fn(graph)
            if changed:
                self.changes += 1
                before = _shape(graph)
                if fn(graph) or _shape(graph) != before:
                    self.failures.append(name)
            return changed

        return twice


@pytest.fixture
def twice(monkeypatch: pytest.MonkeyPatch) -> Twice:
    spy = Twice()
    wrapped = tuple(
        (name, spy.wrap(name, fn) if name in manager.IDEMPOTENT else fn)
        for name, fn in manager.PASSES
    )
    monkeypatch.setattr(manager, "PASSES", wrapped)
    monkeypatch.setattr(manager, "IDEMPOTENT", frozenset())  # every confirming call runs
    return spy


def test_idempotent_passes_are_a_known_few():
    names = {name for name, _ in manager.PASSES}
    assert manager.IDEMPOTENT <= names
    assert "thread_jumps" not in manager.IDEMPOTENT  # a threaded edge can open another


def test_upstream_listings(upstream, twice):
    cases = upstream_accepts(upstream)
    for record in cases:
        optimize(record["unopt"], reject_empty=False)
    assert len(cases) > 2000
    assert twice.changes > 1000
    assert twice.failures == []


def test_project_corpus(twice):
    count = 0
    for record in corpus_records():
        try:
            bpfc_compile(record["expr"], record["linktype"], optimize=True)
        except BpfcError:
            continue
        count += 1
    assert count > 2000
    assert twice.changes > 1000
    assert twice.failures == []


@given(programs())
def test_random_programs(prog):
    spy = Twice()
    passes = [
        (name, spy.wrap(name, fn) if name in manager.IDEMPOTENT else fn)
        for name, fn in manager.PASSES
    ]
    optimize(prog, passes=passes, reject_empty=False)
    assert spy.failures == []
