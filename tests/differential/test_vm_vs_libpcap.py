"""The interpreter against libpcap's own bpf_filter: random programs and real filters."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from support.vm_strategies import FRAMES, packets, strict_programs

from bpfc import libpcap, vm
from bpfc.errors import ValidationError
from bpfc.isa.validation import validate

pytestmark = pytest.mark.skipif(not libpcap.available(), reason="system libpcap not available")


@given(strict_programs(), st.lists(packets, min_size=1, max_size=6), st.integers(0, 2000))
def test_random_strict_programs_match_libpcap(
    prog: list[tuple[int, int, int, int]], pkts: list[bytes], extra: int
) -> None:
    try:
        validate(prog, strict=True)
    except ValidationError:
        assume(False)
    ours = vm.make_filter(prog)
    theirs = libpcap.make_bpf_filter(prog)
    for pkt in pkts:
        for wirelen in (None, len(pkt) + extra):
            assert ours(pkt, wirelen) == theirs(pkt, wirelen), (pkt.hex(), wirelen)
            assert vm.interpret(prog, pkt, wirelen) == theirs(pkt, wirelen)


EXPRESSIONS = [
    "tcp port 80",
    "host 10.0.0.1 and not port 22",
    "vlan 100 and udp port 53",
    "ip",
    "ip6",
    "arp",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "ether broadcast",
    "ether multicast",
    "ip multicast",
    "src net 192.168.0.0/16",
    "dst host 10.0.0.2",
    "portrange 1-1024",
    "udp and ip[6:2] & 0x1fff != 0",
    "greater 60",
    "less 64",
    "len > 50 and len < 1500",
    "ip[2:2] > 40",
    "ether[12:2] = 0x0800",
    "tcp src port 443 or udp dst port 53",
    "vlan",
    "vlan and tcp",
    "ip6 and tcp port 80",
    "ip proto 17",
    "not ip and not ip6",
    "ip[0] & 0xf > 5",
    "tcp[13] = 18",
    "udp[8:2] = 0x1234",
    "ip host 10.0.0.1 and ip host 10.0.0.2",
]


def _frames() -> list[bytes]:
    out = list(FRAMES.values())
    for frame in FRAMES.values():
        out += [frame[:cut] for cut in (13, 14, 23, 34, 36, 38, 42) if cut < len(frame)]
    return out


@pytest.mark.parametrize("optimize", [True, False], ids=["opt", "unopt"])
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_real_filters_match_libpcap(expr: str, optimize: bool) -> None:
    prog = libpcap.compile(expr, optimize=optimize)
    ours, batch = vm.make_filter(prog), vm.make_batch_filter(prog)
    theirs = libpcap.make_bpf_filter(prog)
    frames = _frames()
    expected = [theirs(f, w) for f in frames for w in (None, 1514)]
    assert [ours(f, w) for f in frames for w in (None, 1514)] == expected
    assert batch([(f, w) for f in frames for w in (None, 1514)]) == expected
    assert vm.make_batch_counter(prog)([(f, None) for f in frames]) == sum(
        1 for f in frames if theirs(f)
    )


def test_frames_exercise_both_verdicts() -> None:
    prog = libpcap.compile("tcp port 80")
    verdicts = {vm.run(prog, f) for f in FRAMES.values()}
    assert verdicts == {0, 262144}


@given(
    st.sampled_from(EXPRESSIONS[:12]),
    st.sampled_from(sorted(FRAMES)),
    st.lists(st.tuples(st.integers(0, 99), st.integers(0, 255)), max_size=4),
)
def test_mutated_frames_match_libpcap(expr: str, name: str, flips: list[tuple[int, int]]) -> None:
    frame = bytearray(FRAMES[name])
    for where, value in flips:
        if where < len(frame):
            frame[where] = value
    prog = libpcap.compile(expr)
    assert vm.run(prog, frame) == libpcap.bpf_filter(prog, bytes(frame))
