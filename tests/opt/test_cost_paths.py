"""``compile`` optimizes a graph built from code generation's blocks: it must give the
program that optimizing the unoptimized listing gives.

``bpfc.compiler`` builds the optimizer's graph straight from code generation's blocks
(``graph.from_cfg``) instead of laying out the unoptimized program and reading it back
(``graph.build``).  The shortcut must be invisible in the output: this test compares
both routes on every corpus expression and every upstream accept case.
"""

from __future__ import annotations

import glob
import json
import warnings
from pathlib import Path

from bpfc.compiler import build_cfg
from bpfc.compiler import compile as bpfc_compile
from bpfc.emit import linearize as emit
from bpfc.errors import BpfcError
from bpfc.opt import optimize

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


def _outcome(compile_once) -> tuple | str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple(tuple(i) for i in compile_once())
    except BpfcError as err:
        return f"{type(err).__name__}: {err.message}"


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
