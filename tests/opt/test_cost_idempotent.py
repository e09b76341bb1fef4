"""Optimizing an optimized program changes nothing: ``optimize(optimize(p)) == optimize(p)``.

The pass manager stops at a fixed point of every pass on its graph; laying the graph out
and reading it back must not give the passes new work (an edge a ``ja`` splits, a block
order that shares differently).  Checked on every upstream listing, on every program
the project's corpus and the upstream accept cases compile to, and on random programs.
"""

from __future__ import annotations

import warnings

from hypothesis import example, given, settings
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


# ``ldx M[1]; jge x`` -> (false) ``ldxb 4*([40]&0xf); ret a`` with A = 0, (true)
# ``ld #0x11; ret a``: both paths shared one ``ret a`` until ``number_values`` folded
# it per edge; emission copies a lone ``ret`` to each jump, so optimizing the output
# again found ``ret #0`` and ``ret #17`` (hypothesis found it)
SHARED_RET_A = [
    Insn(0x61, 0, 0, 1), Insn(0x3D, 4, 0, 4), Insn(0xB1, 0, 0, 40), Insn(0x35, 3, 5, 0),
    Insn(0x61, 0, 0, 0), Insn(0x50, 0, 0, 5), Insn(0x00, 0, 0, 17), Insn(0x25, 0, 0, 2048),
    Insn(0x35, 1, 1, 0), Insn(0x61, 0, 0, 0), Insn(0x61, 0, 0, 1), Insn(0x16, 0, 0, 0),
]  # fmt: skip


def test_a_shared_ret_a_is_folded_per_edge():
    out = _again(SHARED_RET_A)
    assert [i for i in out if i.code == 0x06] == [Insn(0x06, 0, 0, 0), Insn(0x06, 0, 0, 17)]
    assert not [i for i in out if i.code == 0x16]  # no ``ret a`` left
    assert _again(out) == out


@settings(max_examples=300)
@example(SHARED_RET_A)
@given(programs())
def test_random_programs(prog):
    once = _again(prog)
    assert _again(once) == once
