"""bpfc against the system libpcap: every pool primitive alone, then random compositions
(and/or/not/parentheses, depth <= 4) of the primitives that pass alone, optimized and
unoptimized, on every packet of the targeted + steered set.

Primitives bpfc does not compile yet are excluded (and listed in the output, -rA).
Known failures are recorded in differential_known_failures.txt and are strict: a fix
that is not recorded fails (``python tools/differential_soak.py --update-known-failures``).
$BPFC_COMPOSITIONS sets how many compositions run per link type and setting.
"""

from __future__ import annotations

import pytest
from differential import CI_LINKTYPES, ci_results, known_failures, require_libpcap


@pytest.mark.parametrize("linktype", CI_LINKTYPES)
def test_bpfc_agrees_with_libpcap(linktype):
    require_libpcap()
    results, excluded = ci_results(linktype)
    print(f"{linktype}: {len(results)} checks, {len(excluded)} primitives excluded:")
    for prim, why in excluded.items():
        print(f"  excluded {prim!r}: {why}")
    known = {what for lt, what in known_failures() if lt == linktype}
    problems = []
    for what, reason in results.items():
        if reason is not None and what not in known:
            problems.append(f"NEW FAILURE {what!r}:\n{reason}")
        elif reason is None and what in known:
            problems.append(f"FIXED {what!r}: remove it from differential_known_failures.txt")
    assert not problems, "\n".join(problems)
