"""libpcap's reject suite: every expression libpcap rejects, bpfc rejects with CompileError
(never another exception), one test per link type; known failures as in the accept suite.
How often the message also contains libpcap's ``errstr`` is reported by
tools/upstream_report.py, not enforced here.
"""

from __future__ import annotations

import pytest
from conftest import UPSTREAM
from support.upstream_cases import cases, compare_with_known, dlts, evaluate_reject, known_failures


@pytest.mark.parametrize("dlt", dlts(UPSTREAM, "reject") or ["(no upstream corpus)"])
def test_reject_cases_raise_compile_error(upstream, dlt):
    results = {
        rec["id"]: evaluate_reject(rec, upstream)[0]
        for rec in cases(upstream, "reject")
        if rec["dlt"] == dlt
    }
    assert results, f"no reject cases for {dlt}"
    problems = compare_with_known(results, known_failures())
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def test_known_failure_comparison_is_strict():
    from support.upstream_cases import compare_with_known

    results = {"a": None, "b": "boom", "c": None, "d": "still broken"}
    problems = compare_with_known(results, known={"c", "d"})
    assert any(p.startswith("NEW FAILURE b: boom") for p in problems)
    assert any(p.startswith("FIXED c") for p in problems)
    assert len(problems) == 2  # 'a' passes as expected, 'd' fails as recorded
