"""libpcap's apply suite: bpfc's programs (optimized and unoptimized) return the recorded
value on every packet of the savefile.  One test per case; known failures are
``xfail(strict=True)`` so a fix that is not recorded fails.
"""

from __future__ import annotations

import pytest
from conftest import UPSTREAM
from support.upstream_cases import cases, evaluate_apply, known_failures


def _params():
    if not (UPSTREAM / "libpcap-filtertests.jsonl").exists():
        return [pytest.param(None, id="no-upstream-corpus")]
    known = known_failures()
    out = []
    for rec in cases(UPSTREAM, "apply"):
        marks = (
            [pytest.mark.xfail(strict=True, reason="known failure")] if rec["id"] in known else []
        )
        out.append(pytest.param(rec, id=rec["id"], marks=marks))
    return out


@pytest.mark.parametrize("rec", _params())
def test_apply_case(upstream, rec):
    reason = evaluate_apply(rec, upstream)
    assert reason is None, reason
