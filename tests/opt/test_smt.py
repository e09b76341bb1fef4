"""Symbolic equivalence (z3): for every packet, not just a sample; skips without z3-solver.

Proves optimized == unoptimized for a spread of upstream listings (every DLT, small
to mid-size programs) and for the regression fixtures, and shows the check is not
vacuous: a wrong "optimization" yields a packet on which the interpreter disagrees.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.opt_helpers import upstream_accepts

from bpfc.isa.listing_reader import parse_listing
from bpfc.opt import optimize
from bpfc.vm.interp import interpret as run

z3 = pytest.importorskip("z3")
from bpfc.opt.smt import counterexample  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def _sample(upstream, per_dlt: int = 5, max_len: int = 80):
    seen: dict[str, int] = {}
    out = []
    for rec in upstream_accepts(upstream):
        if len(rec["unopt"]) > max_len or seen.get(rec["dlt"], 0) >= per_dlt:
            continue
        seen[rec["dlt"]] = seen.get(rec["dlt"], 0) + 1
        out.append(rec)
    return out


def test_upstream_listings_proved_equal(upstream):
    cases = _sample(upstream)
    assert len(cases) > 60
    unknown = []
    for rec in cases:
        verdict, pkt = counterexample(rec["unopt"], optimize(rec["unopt"], reject_empty=False))
        assert verdict != "differ", (rec["id"], pkt.hex() if pkt else None)
        if verdict == "unknown":
            unknown.append(rec["id"])
    assert len(unknown) <= len(cases) // 10, unknown


@pytest.mark.parametrize("name", ["vxlan_and_ip", "vxlan_and_ip6"])
def test_vxlan_fixtures_proved_equal(name):
    prog = parse_listing((FIXTURES / f"{name}.txt").read_text())
    assert counterexample(prog, optimize(prog))[0] == "equal"


def test_a_wrong_rewrite_is_caught_with_a_real_packet():
    """Dropping a load that can fail is exactly the kind of change the solver must see."""
    before = parse_listing("(000) ldb [40]\n(001) ld #1\n(002) ret a")
    after = parse_listing("(000) ld #1\n(001) ret a")
    verdict, pkt = counterexample(before, after)
    assert verdict == "differ"
    assert run(before, pkt) != run(after, pkt)
