"""libpcap's accept suite: bpfc's optimized and unoptimized programs give master's verdict
on every packet (targeted, steered and savefile packets), one test per link type.

Cases listed in upstream_known_failures.txt must fail and all others must pass, so a fix
that is not recorded fails too (regenerate with tools/upstream_report.py).
"""

from __future__ import annotations

import pytest
from conftest import UPSTREAM
from support.differential import require_libpcap
from support.upstream_cases import cases, compare_with_known, dlts, evaluate_accept, known_failures


@pytest.mark.parametrize("dlt", dlts(UPSTREAM, "accept") or ["(no upstream corpus)"])
def test_accept_cases_match_master_verdicts(upstream, dlt):
    require_libpcap()
    results = {
        rec["id"]: evaluate_accept(rec, upstream)
        for rec in cases(upstream, "accept", savefile=True)
        if rec["dlt"] == dlt
    }
    assert results, f"no accept cases for {dlt}"
    problems = compare_with_known(results, known_failures())
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
