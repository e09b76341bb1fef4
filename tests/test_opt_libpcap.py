"""The optimizer on libpcap 1.10.3's unoptimized programs for 200+ real expressions.

For every expression of ``fixtures/opt/expressions.tsv``: our optimization of
libpcap's unoptimized program returns the same value as that program on every
sample packet, and is no larger than libpcap's own optimized program (in total by a
clear margin).  Skips where libpcap is not installed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from test_opt_helpers import first_difference, packets_for

from bpfc import libpcap
from bpfc.errors import CompileError
from bpfc.opt import optimize

pytestmark = pytest.mark.skipif(not libpcap.available(), reason="libpcap not installed")

FIXTURES = Path(__file__).parent / "fixtures" / "opt"


def _cases() -> list[tuple[str, str]]:
    rows = []
    for line in (FIXTURES / "expressions.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            dlt, expr = line.split("\t")
            rows.append((dlt, expr))
    return rows


CASES = _cases()


@lru_cache(maxsize=None)
def _compiled(dlt: str, expr: str):
    unopt = libpcap.compile(expr, dlt, 262144, False, 0)
    theirs = libpcap.compile(expr, dlt, 262144, True, 0)
    return unopt, theirs, optimize(unopt)


def test_fixture_is_large_enough():
    assert len(CASES) >= 200
    assert len({dlt for dlt, _ in CASES}) >= 8


@pytest.mark.parametrize("part", range(4))
def test_same_verdicts_as_unoptimized(part):
    bad = []
    for dlt, expr in CASES[part::4]:
        unopt, _, ours = _compiled(dlt, expr)
        diff = first_difference(unopt, ours, packets_for(unopt, count=60))
        if diff:
            bad.append((dlt, expr, diff))
    assert not bad, bad[:5]


def test_never_larger_than_libpcap():
    ours = theirs = 0
    larger = []
    for dlt, expr in CASES:
        _, lib, mine = _compiled(dlt, expr)
        ours += len(mine)
        theirs += len(lib)
        if len(mine) > len(lib):
            larger.append((dlt, expr, len(lib), len(mine)))
    assert not larger, larger
    assert ours <= 0.92 * theirs, (ours, theirs)


def test_rejects_all_like_libpcap():
    expr = "host 10.0.0.1 and host 10.0.0.2 and host 10.0.0.3"
    unopt = libpcap.compile(expr, "EN10MB", 262144, False, 0)
    with pytest.raises(CompileError, match="expression rejects all packets"):
        optimize(unopt)
