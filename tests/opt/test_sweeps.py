"""Replaying a kept forward sweep (``bpfc.opt.sweeps``) must give exactly what sweeping gives.

``thread_jumps`` and ``number_values`` reuse the states of the last sweep while the graph
is unchanged; the claim is that this never changes the optimizer's output.  The strongest
check is to compare against the optimizer with sweep keeping turned off, on random programs
and on the upstream expressions; the unit tests pin the invalidation rules.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given

from bpfc.compiler import build_cfg
from bpfc.emit import linearize as emit
from bpfc.isa.insn import Insn
from bpfc.opt import number_values, optimize, sweeps, thread_jumps
from bpfc.opt.graph import build
from opt.test_properties import programs


@contextmanager
def no_sweeps() -> Iterator[None]:
    """Every pass sweeps afresh (nothing is ever kept), as before sweeps were kept."""
    saved = sweeps.MAX_BLOCKS
    sweeps.MAX_BLOCKS = -1
    try:
        yield
    finally:
        sweeps.MAX_BLOCKS = saved


def _both(prog) -> tuple[list, list]:
    kept = optimize(prog, reject_empty=False)
    with no_sweeps():
        fresh = optimize(prog, reject_empty=False)
    return kept, fresh


@given(programs(max_len=32))
def test_replayed_sweeps_change_no_output(prog):
    kept, fresh = _both(prog)
    assert kept == fresh


def test_replayed_sweeps_change_no_output_on_upstream(upstream):
    seen = 0
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] != "accept" or case["dlt"] != "EN10MB" or case.get("special"):
                continue
            try:
                root, _ = build_cfg(case["expr"], "EN10MB", 262144, None)
            except Exception:  # noqa: BLE001 - only what bpfc compiles
                continue
            prog = emit(root, warn=False)
            kept, fresh = _both(prog)
            assert kept == fresh, case["expr"]
            seen += 1
    assert seen > 300


# ldh [12]; jeq #0x800 -> (ldh [12]; jeq #0x800 -> ret 1 / ret 0) / ret 0
TWICE = [
    Insn(0x28, 0, 0, 12),
    Insn(0x15, 0, 3, 0x800),
    Insn(0x28, 0, 0, 12),
    Insn(0x15, 0, 1, 0x800),
    Insn(0x06, 0, 0, 1),
    Insn(0x06, 0, 0, 0),
]


def test_a_sweep_is_recalled_only_while_nothing_changed():
    graph = build(TWICE)
    assert sweeps.recall(graph) is None
    number_values.run(graph)  # sweeps, rewrites, and keeps the sweep for the result
    sweep = sweeps.recall(graph)
    assert sweep is not None
    assert sweeps.recall(graph) is sweep  # asking does not use it up
    graph.entry.stmts = graph.entry.stmts + [Insn(0x00, 0, 0, 1)]  # ld #1: a new statement
    assert sweeps.recall(graph) is None
    assert sweeps.recall(graph) is None  # and it is gone for good


def test_an_edge_change_invalidates_the_sweep():
    graph = build(TWICE)
    thread_jumps.run(graph)
    assert sweeps.recall(graph) is not None
    block = graph.entry
    block.jt, block.jf = block.jf, block.jt
    assert sweeps.recall(graph) is None


def test_restamping_drops_what_was_derived_from_statements():
    graph = build(TWICE)
    thread_jumps.run(graph)  # keeps its sweep whether or not it threaded an edge
    sweep = sweeps.recall(graph)
    assert sweep is not None
    sweep.live, sweep.rewrites = {0: 1}, {}
    sweep.stamp(graph, graph.order())
    assert sweep.live is None and sweep.rewrites is None


def test_big_graphs_are_not_kept():
    graph = build(TWICE)
    saved = sweeps.MAX_BLOCKS
    sweeps.MAX_BLOCKS = 1
    try:
        number_values.run(graph)
        assert sweeps.recall(graph) is None
    finally:
        sweeps.MAX_BLOCKS = saved


def test_nothing_is_kept_once_optimize_returns():
    """Sweeps die with their graph: optimizing many programs leaves no states behind."""
    for prog in (TWICE, TWICE[2:], [Insn(0x06, 0, 0, 1)]):
        optimize(prog, reject_empty=False)
    gc.collect()
    assert not [obj for obj in gc.get_objects() if type(obj) is sweeps.Sweep]


def test_a_sweep_belongs_to_its_graph():
    graph, other = build(TWICE), build(TWICE)
    number_values.run(graph)
    assert sweeps.recall(graph) is not None
    assert sweeps.recall(other) is None


def test_a_changed_block_id_invalidates_the_sweep():
    graph = build(TWICE)
    number_values.run(graph)
    assert sweeps.recall(graph) is not None
    graph.entry.id = 99  # states are filed by block id: a renumbered block is a new graph
    assert sweeps.recall(graph) is None
