"""Optimizing an optimized program changes nothing: ``optimize(optimize(p)) == optimize(p)``.

The pass manager stops at a fixed point of every pass on its graph; laying the graph out
and reading it back must not give the passes new work (an edge a ``ja`` splits, a block
order that shares differently).  Checked on every upstream listing, on every program
the project's corpus and the upstream accept cases compile to, and on random programs.
"""

from __future__ import annotations

import warnings

from hypothesis import given, settings
from support.opt_helpers import corpus_records, upstream_accepts

from bpfc.compiler import compile as bpfc_compile
from bpfc.errors import BpfcError
from bpfc.isa.insn import Insn
from bpfc.opt import optimize
from opt.test_properties import programs


def _again(prog: list[Insn]) -> list[Insn]:
    return optimize(prog, reject_empty=False)


def test_upstream_listings(upstream):
    cases = upstream_accepts(upstream)
    differ = []
    for record in cases:
        once = _again(record["unopt"])
        if _again(once) != once:
            differ.append(record["expr"])
    assert len(cases) > 2000
    assert differ == []


def test_compiled_programs(upstream):
    differ = []
    count = 0
    cases = [(r["expr"], r["linktype"]) for r in corpus_records()]
    cases += [(r["expr"], r["dlt"]) for r in upstream_accepts(upstream)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for expr, linktype in dict.fromkeys(cases):
            try:
                once = list(bpfc_compile(expr, linktype))
            except BpfcError:
                continue
            count += 1
            if _again(once) != once:
                differ.append((expr, linktype))
    assert count > 3500
    assert differ == []


@settings(max_examples=300)
@given(programs())
def test_random_programs(prog):
    once = _again(prog)
    assert _again(once) == once
