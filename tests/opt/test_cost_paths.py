"""``compile`` optimizes a graph built from code generation's blocks: it must give the
program that optimizing the unoptimized listing gives.

``bpfc.compiler`` builds the optimizer's graph straight from code generation's blocks
(``graph.from_cfg``) instead of laying out the unoptimized program and reading it back
(``graph.build``).  The shortcut must be invisible in the output: these tests compare
both routes on every corpus expression and every upstream accept case, and the graphs
themselves where blocks hold inner jumps (radio headers, ``--linux`` VLAN tests).
"""

from __future__ import annotations

import glob
import json
import warnings
from pathlib import Path

import pytest

from bpfc.compiler import build_cfg
from bpfc.compiler import compile as bpfc_compile
from bpfc.emit import block_order
from bpfc.emit import linearize as emit
from bpfc.errors import BpfcError
from bpfc.isa.insn import Insn
from bpfc.opt import optimize, rejects_all
from bpfc.opt.graph import build, from_cfg

ROOT = Path(__file__).resolve().parent.parent.parent


def _cases(upstream: Path) -> list[tuple[str, str]]:
    cases = []
    for path in sorted(glob.glob(str(ROOT / "corpus" / "expected" / "*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            cases += [(r["expr"], r["linktype"]) for r in map(json.loads, handle)]
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for r in map(json.loads, handle):
            if r["kind"] == "accept" and not r.get("special"):
                cases.append((r["expr"], r["dlt"]))
    return list(dict.fromkeys(cases))


REJECTS = "rejects all packets"


def _outcome(compile_once) -> tuple | str:
    """The program, or the error; a program that only returns 0 and the refusal of one
    are one outcome (``compile`` refuses where libpcap master does, modelled in
    ``bpfc.opt.libpcap_model``, and returns ``ret #0`` where only bpfc proves it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = tuple(tuple(i) for i in compile_once())
    except BpfcError as err:
        return REJECTS if err.message == "expression " + REJECTS else f"{err.message}"
    return REJECTS if rejects_all(program) else program


def _via_listing(expr: str, linktype: str) -> list:
    root, _ = build_cfg(expr, linktype)
    if root.is_ret and root.k == 0:  # ``compile`` refuses these before optimizing
        raise BpfcError("expression rejects all packets")
    return optimize(emit(root, warn=False))


def test_graph_from_blocks_gives_the_listing_routes_programs(upstream):
    cases = _cases(upstream)
    differ = []
    compiled = 0
    for expr, linktype in cases:
        direct = _outcome(lambda: bpfc_compile(expr, linktype))  # noqa: B023 - called now
        listed = _outcome(lambda: _via_listing(expr, linktype))  # noqa: B023 - called now
        compiled += isinstance(direct, tuple)
        # an error message may differ (``compile`` names the expression): only programs count
        if isinstance(direct, tuple) != isinstance(listed, tuple) or (
            isinstance(direct, tuple) and direct != listed
        ):
            differ.append((expr, linktype))
    assert len(cases) > 4000
    assert compiled > 3500
    assert differ == []


LINUX_AND_RADIO = [
    ("vlan 10", "EN10MB", True),
    ("vlan 100 and tcp port 80", "EN10MB", True),
    ("vlan 10 or vlan 20 and tcp", "EN10MB", True),
    ("not vlan 100 and udp", "EN10MB", True),
    ("tcp port 80", "IEEE802_11_RADIO", False),
    ("wlan host 02:00:00:00:00:01 and tcp", "IEEE802_11_RADIO", False),
    ("ip and udp port 53 or ip6", "IEEE802_11_RADIO_AVS", False),
    ("type data subtype qos-data and ip", "PRISM_HEADER", False),
]


@pytest.mark.parametrize("expr, linktype, linux", LINUX_AND_RADIO)
def test_blocks_with_inner_jumps_split_as_their_listing(expr, linktype, linux):
    """Radio headers and ``--linux`` VLAN tests put jumps inside a block's statements:
    ``from_cfg`` splits it where ``graph.build`` splits the listing, ids included."""
    root, _ = build_cfg(expr, linktype, linux=linux)
    blocks = block_order(root)
    assert any(not isinstance(s, Insn) for b in blocks for s in b.stmts)  # the case meant
    graph = from_cfg(blocks)
    assert graph is not None
    listed = build(emit(root, warn=False))
    assert _shape(graph) == _shape(listed)
    direct = _outcome(lambda: bpfc_compile(expr, linktype, linux=linux))
    assert direct == _outcome(lambda: optimize(emit(root, warn=False)))
    assert isinstance(direct, tuple)


def _shape(graph) -> list[tuple]:
    return [
        (b.id, b.code, b.k, b.jt and b.jt.id, b.jf and b.jf.id, tuple(b.stmts))
        for b in graph.order()
    ]


def test_a_backward_inner_jump_has_no_graph():
    root, _ = build_cfg("ip protochain 6", "EN10MB")
    assert from_cfg(block_order(root)) is None
