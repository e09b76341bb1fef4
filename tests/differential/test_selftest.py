"""The differential harness tests itself with libpcap at both ends: libpcap's optimized and
unoptimized programs must agree on every generated packet, and a planted bug must be found."""

from __future__ import annotations

import pytest
from support.compositions import run_compositions
from support.differential import (
    Rejected,
    check,
    libpcap_compile,
    libpcap_runner,
    libpcap_unopt,
    require_libpcap,
)

from bpfc.packetgen.compose import pool


@pytest.mark.parametrize("linktype", ["EN10MB", "LINUX_SLL", "RAW", "IEEE802_11", "PPP", "NULL"])
def test_libpcap_opt_and_unopt_agree_on_compositions(linktype):
    require_libpcap()
    prims = [p for p in pool(linktype) if "protochain" not in p]  # backward jumps: no oracle
    res = run_compositions(
        8, linktype, seed=11, primitives=prims, candidate=libpcap_unopt,
        candidate_runner=libpcap_runner, pad_to=256,
    )  # fmt: skip
    # An unoptimized program vs the optimizer's "rejects all packets" is not a disagreement
    # of verdicts; anything else is.
    real = [d for d in res.disagreements if d.packet is not None]
    assert not real, "\n".join(map(str, real[:3]))
    assert res.expressions == 8 and res.packets > 8 * 100


def test_planted_bug_is_reported_with_packet_and_listings():
    require_libpcap()

    def off_by_one(expr, linktype, snaplen, optimize, netmask):
        return libpcap_compile(expr.replace("443", "444"), linktype, snaplen, optimize, netmask)

    found = check("tcp dst port 443", candidate=off_by_one, candidate_runner=libpcap_runner)
    assert found, "a filter for the wrong port went unnoticed"
    text = str(found[0])
    assert "#0x1bc" in text and "#0x1bb" in text  # both listings
    assert found[0].packet.data.hex() in text


def test_compile_outcome_mismatch_is_reported():
    require_libpcap()

    def rejecting(expr, linktype, snaplen, optimize, netmask):
        raise Rejected("nope")

    (d,) = check("udp", optimize=(True,), candidate=rejecting, candidate_runner=libpcap_runner)
    assert d.packet is None and "nope" in str(d)


def test_master_listing_as_reference():
    require_libpcap()
    from support.differential import listing_compile

    master = listing_compile(
        ["(000) ldh      [12]", "(001) jeq      #0x800           jt 2\tjf 3",
         "(002) ret      #262144", "(003) ret      #0"],
        ["(000) ldh      [12]", "(001) jeq      #0x800           jt 2\tjf 3",
         "(002) ret      #262144", "(003) ret      #0"],
    )  # fmt: skip
    assert check("ip", reference=master, candidate=libpcap_compile,
                 candidate_runner=libpcap_runner) == []  # fmt: skip
    wrong = check("ip6", reference=master, candidate=libpcap_compile,
                  candidate_runner=libpcap_runner)  # fmt: skip
    assert wrong and all(d.packet is not None for d in wrong)
