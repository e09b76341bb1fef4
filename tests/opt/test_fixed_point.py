"""The optimizer stops only at a fixed point: no pass finds anything left to do in its output.

The pass manager stops after a round in which no pass changed the graph, handing each
pass the analyses it cached during that round.  If a pass reported no change after
changing something, or an analysis outlived a change, the optimizer would return a
program some pass could still shrink.  These tests run every pass once more, alone and
with fresh analyses, on the optimizer's final graph, on random programs, every upstream
listing and every project corpus expression, and require each to report no change.
(Random programs once found a pass reporting work left over: ``merge_blocks``, whose
joined chains became equal only after joining, and ``simplify_tests``, where taking
``add #1`` off a test uncovered an ``and #m`` the same call did not look at again.)
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from support.opt_helpers import corpus_records, upstream_accepts

from bpfc.compiler import compile as bpfc_compile
from bpfc.errors import BpfcError
from bpfc.isa.insn import Insn
from bpfc.opt import is_forward, manager, optimize
from bpfc.opt.graph import Graph, build
from opt.test_properties import programs


def _leftover(graph: Graph) -> list[str]:
    """The passes that still change ``graph`` (each tried on the graph as the last left it)."""
    found = []
    for name, fn in manager.PASSES:
        if fn(graph):
            found.append(name)
    return found


class Final:
    """Wraps ``run_passes``: after the manager stops, every pass is tried once more."""

    def __init__(self) -> None:
        self.graphs = 0
        self.failures: list[tuple[int, list[str]]] = []

    def wrap(self, run_passes):
        def checked(graph: Graph, passes=None) -> int:
            rounds = run_passes(graph, passes)
            if passes is None:
                self.graphs += 1
                left = _leftover(graph)
                if left:
                    self.failures.append((self.graphs, left))
            return rounds

        return checked


@pytest.fixture
def final(monkeypatch: pytest.MonkeyPatch) -> Final:
    spy = Final()
    monkeypatch.setattr(manager, "run_passes", spy.wrap(manager.run_passes))
    return spy


# two pairs of equal blocks that join into equal chains (merge_blocks had to share again)
JOINED = [
    Insn(0x30, 0, 0, 1), Insn(0x15, 0, 0, 0), Insn(0x15, 0, 0, 0), Insn(0x15, 0, 3, 0),
    Insn(0x30, 0, 0, 0), Insn(0x30, 0, 0, 0), Insn(0x15, 0, 1, 0), Insn(0x30, 0, 0, 0),
    Insn(0x15, 0, 2, 0), Insn(0x30, 0, 0, 0), Insn(0x30, 0, 0, 1), Insn(0x16, 0, 0, 0),
]  # fmt: skip


# ``and #1; add #1; jeq #0``: unshifted to ``and #1; jeq #0xffffffff``, never true
UNCOVERED = [
    Insn(0x15, 0, 0, 0), Insn(0x15, 0, 0, 0), Insn(0x30, 0, 0, 0), Insn(0x54, 0, 0, 1),
    Insn(0x04, 0, 0, 1), Insn(0x15, 0, 0, 0), Insn(0x15, 0, 3, 0), Insn(0x30, 0, 0, 0),
    Insn(0x30, 0, 0, 0), Insn(0x30, 0, 0, 1), Insn(0x30, 0, 0, 0), Insn(0x16, 0, 0, 0),
]  # fmt: skip


@settings(max_examples=1000)
@example(JOINED)
@example(UNCOVERED)
@given(programs())
def test_random_programs_end_at_a_fixed_point(prog):
    source = [Insn(*i) for i in prog]
    if not is_forward(source):
        return
    graph = build(source)
    manager.run_passes(graph)
    assert _leftover(graph) == []


def test_upstream_listings_end_at_a_fixed_point(upstream, final):
    for record in upstream_accepts(upstream):
        optimize(record["unopt"], reject_empty=False)
    assert final.graphs > 2000
    assert final.failures == []


def test_project_corpus_ends_at_a_fixed_point(final):
    for record in corpus_records():
        try:
            bpfc_compile(record["expr"], record["linktype"], optimize=True)
        except BpfcError:
            continue
    assert final.graphs > 2000
    assert final.failures == []
