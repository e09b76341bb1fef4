"""Big filters: ``compile``'s graph from code generation's blocks gives what the listing gives."""

from __future__ import annotations

import sys

import pytest

from bpfc.compiler import RECURSION_LIMIT, build_cfg
from bpfc.compiler import compile as bpfc_compile
from bpfc.emit import block_order
from bpfc.emit import linearize as emit
from bpfc.opt import optimize
from bpfc.opt.graph import build, from_cfg
from bpfc.opt.linearize import linearize

BIG_GRAPH = 2000
"""Blocks: big enough that the unoptimized listing has jumps too long to encode."""

EXPRS = {
    "ports": " or ".join(f"port {i}" for i in range(1, 400)),
    "hosts": " or ".join(f"host 10.0.{i >> 8}.{i & 255}" for i in range(1, 600)),
    "mixed": " or ".join(f"(tcp port {i} and src net 10.{i % 250}.0.0/16)" for i in range(1, 300)),
}


def _cfg(expr: str):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        return build_cfg(expr)[0]
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("name", sorted(EXPRS))
def test_direct_path_matches_listing_path(name):
    expr = EXPRS[name]
    assert len(block_order(_cfg(expr))) >= BIG_GRAPH
    direct = [tuple(i) for i in bpfc_compile(expr, "EN10MB")]
    listing = [tuple(i) for i in optimize(emit(_cfg(expr), warn=False))]
    assert direct == listing


@pytest.mark.parametrize(
    "expr", ["ip and tcp port 80", "vlan and (host 10.0.0.1 or port 53)", "ip[2:2] > 100"]
)
def test_graph_from_blocks_is_the_graph_of_their_listing(expr):
    root = _cfg(expr)
    graph = from_cfg(block_order(root))
    assert graph is not None
    assert linearize(graph) == linearize(build(emit(root, warn=False)))


@pytest.mark.filterwarnings("ignore:program has")  # the loop is left unoptimized: too long
def test_loops_take_the_listing_path():
    # protochain keeps a loop inside a block: no graph of its own, the listing path runs
    expr = "ip protochain 6 or " + " or ".join(f"udp port {i}" for i in range(1, 300))
    assert from_cfg(block_order(_cfg("ip protochain 6"))) is None
    assert len(bpfc_compile(expr, "EN10MB")) > 0
