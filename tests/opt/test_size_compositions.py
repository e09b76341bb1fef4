"""Never larger than libpcap master on compositions, except where master changes a verdict.

A fixed set of the random compositions ``bench/size_vs_libpcap.py`` measures (tests/
support/size_compositions.py: every primitive family, several link types) plus the
examples of issue 13 is compiled by bpfc and by libpcap master.  Where bpfc's program is
larger, the case must be one where master's optimizer changes master's own verdict on
some packet (a witness: master's optimized and unoptimized programs differ on it; bpfc
keeps the unoptimized program's meaning, docs/optimizer.md), or one of the recorded open
losses below, by no more than recorded.  The set's total must stay <= 0.90 x master's.
"""

from __future__ import annotations

import pytest
from support.oracles import master_library
from support.size_compositions import compositions, witness

import bpfc
from bpfc.errors import BpfcError
from bpfc.libpcap import LibpcapError, library

COUNT = 80
SEED = 5

ISSUE_EXAMPLES = (
    "tcp port 80 or 443",
    "port ftp or port ftp-data",
    "tcp port 80 and (host 10.0.0.1 or host 10.0.0.2)",
    "((port http) or not (ah or esp))",
    "not (((ip[8] % 7 = 3) || not (udp port 53)) and ((udp port domain) and (not vlan)))",
)

OPEN_LOSSES: dict[tuple[str, str], int] = {
    # master keeps the meaning (z3 finds no packet on which its two programs differ) and
    # is 10 instructions smaller; not analysed yet (bench/size_vs_libpcap.py lists the
    # other open losses of the 10,000 compositions)
    (
        "PPP",
        "((((portrange 1000-2000) || (ip[16] ^ 10 = 0)) and ((ip6 and tcp port 443) && "
        "(ip[2:2] - 20 > 30))) or ((udp dst portrange 53-54) && (not (tcp)))) and (not ((ip6 "
        "and tcp port 443) || (ip[19] % 2 = 1)) || not ((ip[2:2] - 20 > 30) && (udp[4:2] > 12)))",
    ): 10,
}
"""(link type, expression) -> by how many instructions bpfc may still be larger."""


@pytest.fixture(scope="module")
def master():
    path, why = master_library()
    if path is None:
        pytest.skip(f"libpcap master unavailable: {why}")
    return library(path)


def _cases(master) -> list[tuple[str, str]]:
    def reference(expr: str, dlt: str) -> object:
        return master.compile(expr, dlt, 262144, True)

    return list(compositions(COUNT, SEED, reference)) + [(e, "EN10MB") for e in ISSUE_EXAMPLES]


def test_no_composition_is_larger_than_master_without_a_witness(master):
    pytest.importorskip("z3", reason="witnesses of master's changed verdicts come from z3")
    ours_total = theirs_total = 0
    unexplained = []
    for expr, dlt in _cases(master):
        try:
            theirs = master.compile(expr, dlt, 262144, True)
            unopt = master.compile(expr, dlt, 262144, False)
            ours = bpfc.compile(expr, linktype=dlt)
        except (BpfcError, LibpcapError):
            continue  # refused by one of them (or proved to reject everything)
        ours_total += len(ours)
        theirs_total += len(theirs)
        excess = len(ours) - len(theirs)
        if excess <= OPEN_LOSSES.get((dlt, expr), 0):
            continue
        if witness(expr, dlt, theirs, unopt) is None:
            unexplained.append(f"+{excess} {dlt} {expr!r}")
    assert not unexplained, "\n".join(unexplained)
    assert ours_total <= 0.90 * theirs_total, (ours_total, theirs_total)
