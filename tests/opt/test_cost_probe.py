"""``thread_jumps``' probe may only skip walks that would find nothing.

``_probe`` summarises what a block's test reads (A after an absolute load, a masked
load, an indirect load, or A as it came in) so that ``_hopeless`` can see, without
walking, that an edge's state cannot decide it.  Skipping a walk must never change the
program: the checks below compare the optimizer with and without the probe, and call
the walk itself wherever the probe said it was hopeless.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given

from bpfc.compiler import build_cfg
from bpfc.emit import linearize as emit
from bpfc.isa.insn import Insn
from bpfc.opt import optimize, thread_jumps
from bpfc.opt.graph import Block
from opt.test_properties import programs


@contextmanager
def no_probes() -> Iterator[None]:
    """Every edge is walked (the probe never summarises a block)."""
    saved = thread_jumps._probe
    thread_jumps._probe = lambda block: None
    try:
        yield
    finally:
        thread_jumps._probe = saved


@contextmanager
def checked_probes(skipped: list[int]) -> Iterator[None]:
    """Whenever ``_hopeless`` says so, the walk from that edge must indeed stop at once."""
    saved = thread_jumps._hopeless

    def hopeless(vals, probe, state, block):
        found = saved(vals, probe, state, block)
        if found:
            # no register is live anywhere: a walk past the first test would return a block
            walked = thread_jumps._walk(vals.copy(), block, state, defaultdict(int))
            assert walked is None, (probe, block)
            skipped.append(1)
        return found

    thread_jumps._hopeless = hopeless
    try:
        yield
    finally:
        thread_jumps._hopeless = saved


def _same_with_and_without(prog: list[Insn]) -> int:
    """Checks one program; returns how many walks the probe skipped."""
    skipped: list[int] = []
    with checked_probes(skipped):
        probed = optimize(prog, reject_empty=False)
    with no_probes():
        walked = optimize(prog, reject_empty=False)
    assert probed == walked
    return len(skipped)


@given(programs(max_len=32))
def test_probes_change_no_output(prog):
    _same_with_and_without(prog)


def test_a_byte_never_loaded_is_known_from_its_word():
    # found by the property above: after ``ld [0] == 0`` the byte test ``ldb [0]; jeq #0``
    # is decided (``dataflow.within``) although no ``ldb [0]`` was numbered yet; the probe
    # called that walk hopeless
    prog = [Insn(*i) for i in (
        (0x20, 0, 0, 0), (0x15, 0, 0, 0), (0x15, 0, 0, 0), (0x15, 2, 0, 0), (0x30, 0, 0, 0),
        (0x15, 0, 0, 0), (0x30, 0, 0, 0), (0x30, 0, 0, 0), (0x15, 0, 1, 0), (0x30, 0, 0, 0),
        (0x16, 0, 0, 0),
    )]  # fmt: skip
    _same_with_and_without(prog)


def _upstream_programs(upstream, dlt: str) -> Iterator[list[Insn]]:
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] != "accept" or case["dlt"] != dlt or case.get("special"):
                continue
            try:
                root, _ = build_cfg(case["expr"], dlt, 262144, None)
            except Exception:  # noqa: BLE001 - only what bpfc compiles
                continue
            yield emit(root, warn=False)


def test_probes_change_no_output_on_upstream(upstream):
    seen = skipped = 0
    for prog in _upstream_programs(upstream, "EN10MB"):
        skipped += _same_with_and_without(prog)
        seen += 1
    assert seen > 300
    assert skipped > seen  # the probe does spare walks, so the checks above are not idle


# ldb [14]; and #0xf; jeq #5 -> (ldb [14]; and #0xf; jeq #5 -> ret 1 / ret 2) / ret 0
MASKED_TWICE = [
    Insn(0x30, 0, 0, 14),
    Insn(0x54, 0, 0, 0xF),
    Insn(0x15, 0, 5, 5),
    Insn(0x30, 0, 0, 14),
    Insn(0x54, 0, 0, 0xF),
    Insn(0x15, 0, 1, 5),
    Insn(0x06, 0, 0, 1),
    Insn(0x06, 0, 0, 2),
    Insn(0x06, 0, 0, 0),
]

# ldxb 4*([14]&0xf); ldh [x+16]; jeq #80 -> (the same again -> ret 1 / ret 2) / ret 0
INDIRECT_TWICE = [
    Insn(0xB1, 0, 0, 14),
    Insn(0x48, 0, 0, 16),
    Insn(0x15, 0, 5, 80),
    Insn(0xB1, 0, 0, 14),
    Insn(0x48, 0, 0, 16),
    Insn(0x15, 0, 1, 80),
    Insn(0x06, 0, 0, 1),
    Insn(0x06, 0, 0, 2),
    Insn(0x06, 0, 0, 0),
]


def test_the_new_shapes_are_probed():
    stmts = MASKED_TWICE[:2]
    accept, reject = Block(1, [], 0x06, 1, None, None), Block(2, [], 0x06, 0, None, None)
    block = Block(0, stmts, 0x15, 5, accept, reject)
    assert thread_jumps._probe(block) is not None
    block.stmts = INDIRECT_TWICE[:2]
    assert thread_jumps._probe(block) is not None
    block.stmts = [Insn(0x48, 0, 0, 16)]  # X as the block came in
    assert thread_jumps._probe(block) is not None
    block.stmts = [Insn(0x01, 0, 0, 4), Insn(0x48, 0, 0, 16)]  # ldx #4 first: walk it
    assert thread_jumps._probe(block) is None
    block.stmts = [Insn(0x30, 0, 0, 14), Insn(0x54, 0, 0, 0xFFFFFFFF)]  # and #-1: walk it
    assert thread_jumps._probe(block) is None


def test_a_repeated_masked_or_indirect_test_is_still_threaded():
    # the second test is decided by the first: its false side (ret 2) can never be reached
    for prog in (MASKED_TWICE, INDIRECT_TWICE):
        out = optimize(prog, reject_empty=False)
        assert Insn(0x06, 0, 0, 2) not in out
        assert sum(1 for ins in out if ins.code == 0x15) == 1
