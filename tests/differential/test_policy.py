"""The equivalence policy of tests/support/policy.py judges what it should: each rule catches a
planted breach, and each excuse (master change, uninitialized scratch, libpcap's
optimizer changing its own verdict, a proof of unsatisfiability) is narrow."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.differential import Rejected, libpcap_compile, libpcap_runner
from support.policy import MASTER_CHANGES, Scratch, _replace, check_policy, master_ip_multicast

from bpfc.packetgen import Packet
from bpfc.vm.interp import interpret


@pytest.fixture(autouse=True)
def _libpcap():
    from support.differential import require_libpcap

    require_libpcap()


def _ip_frame(dst_first: int, ihl_words: int = 5) -> Packet:
    ip = bytes([0x40 | ihl_words, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1])
    ip += bytes([dst_first, 0, 0, 1]) + bytes(4 * (ihl_words - 5))
    data = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + ip
    return Packet(data, len(data), f"dst {dst_first}.0.0.1")


def _libpcap_as(opt_fn):
    """A candidate answering libpcap's programs, transformed by ``opt_fn(expr, opt)``."""

    def compile_fn(expr, linktype, snaplen, optimize, netmask):
        return opt_fn(libpcap_compile(expr, linktype, snaplen, optimize, netmask), optimize)

    return compile_fn


def test_libpcap_unopt_meets_the_policy_as_candidate():
    # libpcap's unoptimized program for both settings is the meaning itself.
    same = _libpcap_as(lambda insns, opt: insns)
    unopt_only = lambda e, lt, s, o, n: libpcap_compile(e, lt, s, False, n)  # noqa: E731
    for expr in ("tcp port 80 or udp", "len <= 60 or tcp", "host 10.1.2.3 or 10.1.2.5"):
        assert (
            check_policy(expr, "RAW", candidate=unopt_only, candidate_runner=libpcap_runner) == []
        )
    # libpcap's own optimizer breaks opt-self: it tests both sources before loading the
    # destination, so a capture truncated inside the destination address is accepted.
    stats: Counter = Counter()
    found = check_policy("host 10.1.2.3 or 10.1.2.5", "RAW", candidate=same, stats=stats,
                         candidate_runner=libpcap_runner)  # fmt: skip
    assert [d.rule for d in found] and {d.rule for d in found} == {"opt-self"}
    assert all(len(d.packet.data) < d.packet.wirelen for d in found)


def test_planted_wrong_port_breaks_unopt():
    wrong = lambda e, lt, s, o, n: libpcap_compile(e.replace("80", "81"), lt, s, o, n)  # noqa: E731
    found = check_policy("tcp port 80", candidate=wrong, candidate_runner=libpcap_runner)
    assert any(d.rule == "unopt" and d.packet is not None for d in found)


def test_proof_of_unsatisfiability_agrees_only_when_everything_returns_0():
    def refusing(expr, linktype, snaplen, optimize, netmask):
        if optimize:
            raise Rejected("expression rejects all packets")
        return libpcap_compile(expr, linktype, snaplen, False, netmask)

    stats: Counter = Counter()
    # 1.10.3's optimizer proves this on EN10MB but not behind 802.11's variable header.
    wlan = "IEEE802_11"
    assert check_policy("udp[4:2] > 12 and icmp", wlan, candidate=refusing, stats=stats,
                        candidate_runner=libpcap_runner) == []  # fmt: skip
    assert stats["agreed (bpfc proves unsatisfiable, all programs return 0)"] == 1
    (d,) = check_policy("udp", wlan, candidate=refusing, candidate_runner=libpcap_runner)
    assert d.rule == "compile" and d.optimize and "rejects all packets" in str(d.ours)


def test_ip_multicast_master_rewrite():
    prog = libpcap_compile("ip multicast", "EN10MB", 262144, False, None)
    master = master_ip_multicast(prog)
    assert len(master) == len(prog) + 1
    for first, want in ((0xDF, 0), (0xE0, 1), (0xEF, 1), (0xF0, 0), (0xFF, 0)):
        pkt = _ip_frame(first)
        assert bool(interpret(master, pkt.data)) == bool(want), hex(first)
        assert bool(interpret(prog, pkt.data)) == (first >= 0xE0)
    # The rewrite excuses exactly the class-E destinations.
    class_d = lambda e, lt, s, o, n: master  # noqa: E731
    stats: Counter = Counter()
    pkts = [_ip_frame(v) for v in (0x0A, 0xE0, 0xEF, 0xF0, 0xFF)]
    assert check_policy("ip multicast", packets=pkts, optimize=(False,), candidate=class_d,
                        candidate_runner=libpcap_runner, stats=stats) == []  # fmt: skip
    assert stats["excused (master change: ip multicast)"] == 2


def test_master_changes_are_few_and_explained():
    assert len(MASTER_CHANGES) <= 4
    assert all(len(why) > 40 for _, why in MASTER_CHANGES.values())


REPLACE_EXPRS = ("tcp or udp port 53 or ip[1] = 2", "ip6 protochain 17 or udp port 53")


@given(st.sampled_from(REPLACE_EXPRS), st.integers(0, 6), st.integers(1, 4),
       st.binary(min_size=0, max_size=120))  # fmt: skip
def test_replace_keeps_jump_targets(expr, at, width, data):
    # Replacing one non-jump instruction by ``width`` copies of it keeps every verdict,
    # including across protochain's backward ``ja``.
    prog = libpcap_compile(expr, "RAW", 262144, False, None)
    plain = [i for i, (code, *_rest) in enumerate(prog) if code & 0x07 != 0x05][at]
    grown = _replace(prog, plain, [prog[plain]] * width)
    assert interpret(grown, data) == interpret(prog, data)


def test_ip_multicast_rewrite_behind_a_variable_header():
    prog = libpcap_compile("ip multicast", "IEEE802_11", 262144, False, None)
    assert any(code == 0x50 for code, *_ in prog)  # ldb [x + k]
    assert master_ip_multicast(prog) != prog


def test_uninitialized_scratch_is_undefined_and_held_to_zero():
    # ld M[3]; jeq #0 -> accept : reads a register nobody wrote.
    prog = [(0x60, 0, 0, 3), (0x15, 0, 1, 0), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]
    pkt = Packet(b"\x00" * 20, 20, "zeros")
    zeroed, defined = Scratch(prog, libpcap_runner).verdict(pkt, 1)
    assert (zeroed, defined) == (1, False)
    # A program that stores first is defined.
    stored = [(0x00, 0, 0, 7), (0x02, 0, 0, 3)] + prog
    assert Scratch(stored, libpcap_runner).verdict(pkt, 0) == (0, True)


def test_constant_folding_excuse_follows_libpcaps_own_folding():
    # On IPV6, `ip` is a build-time false: master's `not (udp and ip)` accepts everything,
    # 1.10.3 still runs `udp`'s load, which rejects a 5-byte capture.
    accept_all = lambda e, lt, s, o, n: [(0x06, 0, 0, 262144)]  # noqa: E731
    short = [Packet(bytes([0x60, 0, 0, 0, 0]), 5, "short ip6")]
    stats: Counter = Counter()
    assert check_policy("not (udp and ip)", "IPV6", short, optimize=(False,), stats=stats,
                        candidate=accept_all, candidate_runner=libpcap_runner) == []  # fmt: skip
    assert stats["excused (master change: constant folding)"] == 1
    # Where libpcap's optimizer keeps the failing load (nothing folds), it is a bug.
    (d,) = check_policy("not udp", "IPV6", short, optimize=(False,),
                        candidate=accept_all, candidate_runner=libpcap_runner)  # fmt: skip
    assert d.rule == "unopt" and (d.ours, d.reference) == (262144, 0)


def test_constant_folding_with_protochain_uses_the_padded_capture():
    # protochain's backward jump stops 1.10.3's optimizer; the model is then its
    # unoptimized program on a zero-padded capture.
    accept_all = lambda e, lt, s, o, n: [(0x06, 0, 0, 262144)]  # noqa: E731
    short = [Packet(bytes([0x60, 0, 0, 0, 0]), 5, "short ip6")]
    stats: Counter = Counter()
    expr = "not (udp and ip) and not ip protochain 6"
    assert check_policy(expr, "IPV6", short, optimize=(False,), stats=stats,
                        candidate=accept_all, candidate_runner=libpcap_runner) == []  # fmt: skip
    assert stats["excused (master change: constant folding)"] == 1
    # Weaker than the optimizer model: any failing load is excused there, but a verdict
    # on a complete packet is still held.
    udp6 = bytes([0x60, 0, 0, 0, 0, 8, 17, 64]) + bytes(32) + bytes([0, 53, 0, 53, 0, 8, 0, 0])
    full = [Packet(udp6, len(udp6), "ip6 udp")]
    (d,) = check_policy("not udp and not ip protochain 6", "IPV6", full, optimize=(False,),
                        candidate=accept_all, candidate_runner=libpcap_runner)  # fmt: skip
    assert d.rule == "unopt"
