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
from support.compositions import CI_LINKTYPES, ci_results, known_failures
from support.differential import require_libpcap


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


HYPOTHESIS_EXPRS = [
    "tcp dst port 80 or udp src port 53", "host 10.1.2.3 and not net 192.168.1.0/24",
    "ip6 and tcp or tcp[tcpflags] & tcp-syn != 0", "icmp or arp or ip6 multicast",
    "portrange 1000-2000 and (ip[8] > 64 or len < 100)", "ether broadcast or ip proto 47",
]  # fmt: skip


@pytest.mark.parametrize("expr", HYPOTHESIS_EXPRS)
def test_bpfc_agrees_on_hypothesis_frames(expr):
    require_libpcap()
    from hypothesis import given
    from support.differential import (
        Rejected,
        bpfc_compile,
        bpfc_runner,
        libpcap_compile,
        libpcap_runner,
    )
    from support.strategies import frames

    pairs = []
    for opt in (True, False):
        try:
            ours = bpfc_compile(expr, "EN10MB", 262144, opt, None)
        except Rejected as err:
            pytest.skip(f"bpfc does not compile {expr!r} yet: {err.message}")
        ref = libpcap_compile(expr, "EN10MB", 262144, opt, None)
        pairs.append((opt, bpfc_runner(ours), libpcap_runner(ref)))

    @given(frames("EN10MB"))
    def agree(pkt):
        for opt, ours, ref in pairs:
            a, b = ours(pkt.data, pkt.wirelen), ref(pkt.data, pkt.wirelen)
            assert a == b, f"opt={opt}: bpfc {a}, libpcap {b} on {pkt.data.hex()}"

    agree()
