"""Regression tests for the traps optimizers (libpcap's among them) have fallen into."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.opt_helpers import first_difference, packets_for

from bpfc.errors import CompileError, InternalError
from bpfc.isa.insn import Insn
from bpfc.isa.listing_reader import parse_listing
from bpfc.opt import optimize
from bpfc.opt.verify import check
from bpfc.packetgen.ether import ether
from bpfc.packetgen.inet import ipv4, ipv6, tcp, udp, vxlan
from bpfc.vm.interp import interpret as run

FIXTURES = Path(__file__).parent / "fixtures"
MAC_A, MAC_B = b"\x02\0\0\0\0\1", b"\x02\0\0\0\0\2"
ACCEPT = 262144


def listing(text: str) -> list[Insn]:
    return parse_listing(text)


def test_jset_all_ones_is_not_always_true():
    """``jset #0xffffffff`` is false when A is 0: it must not be folded to true."""
    prog = listing(
        """
        (000) ldb [14]
        (001) jset #0xffffffff jt 2 jf 3
        (002) ret #262144
        (003) ret #0
        """
    )
    out = optimize(prog)
    zero, one = bytes(15), bytes(14) + b"\x01"
    assert run(out, zero) == 0 and run(out, one) == ACCEPT
    assert len(out) == len(prog)


def test_jset_all_ones_decided_only_by_a_nonzero_fact():
    """After ``jeq #0`` is false, ``jset #0xffffffff`` on the same value is known true."""
    prog = listing(
        """
        (000) ldb [14]
        (001) jeq #0 jt 4 jf 2
        (002) jset #0xffffffff jt 3 jf 4
        (003) ret #262144
        (004) ret #0
        """
    )
    out = optimize(prog)
    assert len(out) == 4
    for b in range(256):
        pkt = bytes(14) + bytes([b])
        assert run(out, pkt) == run(prog, pkt)


@pytest.mark.parametrize("name, inner_type", [("vxlan_and_ip", 0x800), ("vxlan_and_ip6", 0x86DD)])
def test_vxlan_inner_offsets_via_x(name, inner_type):
    """libpcap #1670/#1726: the inner offset is in X and differs between outer IPv4/IPv6."""
    prog = parse_listing((FIXTURES / f"{name}.txt").read_text())
    out = optimize(prog)
    inner4 = ether(MAC_A, MAC_B, 0x800, ipv4("10.1.0.1", "10.1.0.2", 6, tcp(1, 2)))
    inner6 = ether(MAC_A, MAC_B, 0x86DD, ipv6("fd00::1", "fd00::2", 6, tcp(1, 2)))
    packets = []
    for inner in (inner4, inner6):
        tunnel = udp(1234, 4789, vxlan(42, inner))
        for opts in (b"", b"\x01" * 4, b"\x01" * 12):
            outer = ipv4("10.0.0.1", "10.0.0.2", 17, tunnel, options=opts)
            packets.append(ether(MAC_A, MAC_B, 0x800, outer))
        packets.append(ether(MAC_A, MAC_B, 0x86DD, ipv6("fd00::1", "fd00::2", 17, tunnel)))
    verdicts = [run(out, p) for p in packets]
    assert verdicts == [run(prog, p) for p in packets]
    expect = [ACCEPT] * 4 + [0] * 4 if inner_type == 0x800 else [0] * 4 + [ACCEPT] * 4
    assert verdicts == expect
    assert first_difference(prog, out, packets_for(prog)) is None


def test_indirect_loads_with_x_different_by_path_are_not_merged():
    """Two paths load ``[x + 0]`` with different X; after the join the load must stay."""
    prog = listing(
        """
        (000) ldb [0]
        (001) jeq #1 jt 2 jf 4
        (002) ldx #10
        (003) ja 5
        (004) ldx #20
        (005) ldb [x + 0]
        (006) jeq #7 jt 7 jf 8
        (007) ret #262144
        (008) ret #0
        """
    )
    out = optimize(prog)
    for first in (0, 1):
        for at in (10, 20):
            pkt = bytearray(32)
            pkt[0], pkt[at] = first, 7
            assert run(out, bytes(pkt)) == run(prog, bytes(pkt))


def test_failing_load_is_not_dropped_even_if_its_value_is_dead():
    """``ld [100]`` whose value is never used still rejects packets shorter than 104."""
    prog = listing(
        """
        (000) ld [100]
        (001) ld #1
        (002) ret #262144
        """
    )
    out = optimize(prog)
    assert run(out, bytes(50)) == 0 and run(out, bytes(104)) == ACCEPT
    assert len(out) == 2


def test_dead_load_goes_when_a_later_load_covers_it():
    """A dead ``ldb [20]`` may go when every path then loads ``ld [30]`` before accepting."""
    prog = listing(
        """
        (000) ldb [20]
        (001) ld [30]
        (002) jeq #5 jt 3 jf 4
        (003) ret #262144
        (004) ret #0
        """
    )
    out = optimize(prog)
    assert len(out) == 4
    assert first_difference(prog, out, packets_for(prog)) is None


def test_load_is_not_moved_across_a_branch_to_a_short_packet_accept():
    """Reordering src/dst tests across the first load of dst would change short packets."""
    prog = listing(
        """
        (000) ld [26]
        (001) jeq #0x0a000001 jt 12 jf 2
        (002) ld [30]
        (003) jeq #0x0a000001 jt 12 jf 4
        (004) ld [26]
        (005) jeq #0x0a000002 jt 12 jf 6
        (006) ld [30]
        (007) jeq #0x0a000002 jt 12 jf 8
        (008) ld [26]
        (009) jeq #0x0a000003 jt 12 jf 10
        (010) ld [30]
        (011) jeq #0x0a000003 jt 12 jf 13
        (012) ret #262144
        (013) ret #0
        """
    )
    out = optimize(prog)
    short = bytes(26) + bytes.fromhex("0a000002") + bytes(2)  # 32 bytes: [30] fails
    assert run(prog, short) == 0 and run(out, short) == 0
    assert len(out) < len(prog)
    assert first_difference(prog, out, packets_for(prog)) is None


def test_division_by_unknown_x_is_kept():
    prog = listing(
        """
        (000) ldx [0]
        (001) ld #10
        (002) div x
        (003) ld #1
        (004) ret #262144
        """.replace("ldx [0]", "ldxb 4*([0]&0xf)")
    )
    out = optimize(prog)
    assert run(out, b"\x00") == 0 and run(out, b"\x01") == ACCEPT


def test_rejects_all_packets():
    prog = listing(
        """
        (000) ldh [12]
        (001) jeq #0x800 jt 2 jf 4
        (002) jeq #0x86dd jt 3 jf 4
        (003) ret #262144
        (004) ret #0
        """
    )
    with pytest.raises(CompileError, match="^expression rejects all packets$"):
        optimize(prog)
    assert [tuple(i) for i in optimize(prog, reject_empty=False)] == [(6, 0, 0, 0)]


def test_loops_are_left_alone():
    """libpcap's protochain loops with a wrapping ``ja``: not a DAG, returned unchanged."""
    prog = [
        Insn(0x00, 0, 0, 3),
        Insn(0x15, 1, 0, 0),
        Insn(0x05, 0, 0, 0xFFFFFFFD),
        Insn(6, 0, 0, 1),
    ]
    assert optimize(prog) == prog


def test_verify_refuses_a_differing_program():
    before = listing("(000) ldb [0]\n(001) ret a")
    after = listing("(000) ld #0\n(001) ret a")
    with pytest.raises(InternalError, match="changed a verdict"):
        check(before, after)
    assert check(before, before) > 100


def test_verify_passes_through_optimize():
    prog = parse_listing((FIXTURES / "vxlan_and_ip.txt").read_text())
    assert optimize(prog, verify=True) == optimize(prog)


def test_linux_ancillary_loads_are_kept_and_prove_no_length():
    """``ld [0xfffff000 + n]`` reads socket metadata on Linux: never dropped, never a guard."""
    prog = listing(
        """
        (000) ldb [100]
        (001) ld #0xfffff004
        (002) ret #262144
        """
    )
    prog[1] = Insn(0x20, 0, 0, 0xFFFFF004)  # ld [SKF_AD_OFF + SKF_AD_PKTTYPE]
    out = optimize(prog)
    assert Insn(0x30, 0, 0, 100) in out and Insn(0x20, 0, 0, 0xFFFFF004) in out
