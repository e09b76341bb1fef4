"""Set membership at scale: 1,000 hosts or ports fit the kernel limit, with O(log n) tests."""

from __future__ import annotations

import pytest

from bpfc import libpcap
from bpfc.isa.insn import BPF_MAXINSNS, Class, JmpOp, bpf_class, bpf_op
from bpfc.opt import optimize
from bpfc.opt.compose import chain_or
from bpfc.packetgen.ether import ether
from bpfc.packetgen.inet import arp, ipv4, ipv6, tcp, udp
from bpfc.vm.interp import interpret as run

pytestmark = pytest.mark.skipif(not libpcap.available(), reason="libpcap not installed")
MAC_A, MAC_B = b"\x02\0\0\0\0\1", b"\x02\0\0\0\0\2"


def _host(i: int) -> str:
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


def _terms(exprs):
    return [[tuple(i) for i in libpcap.compile(e, "EN10MB", 262144, False, 0)] for e in exprs]


def _longest_test_path(prog) -> int:
    """The most conditional jumps any packet can execute (a DAG longest path)."""
    depth = [0] * (len(prog) + 1)
    for i in range(len(prog) - 1, -1, -1):
        code, jt, jf, k = prog[i]
        if bpf_class(code) == Class.RET:
            depth[i] = 0
        elif bpf_class(code) == Class.JMP and bpf_op(code) == JmpOp.JA:
            depth[i] = depth[i + 1 + k]
        elif bpf_class(code) == Class.JMP:
            depth[i] = 1 + max(depth[i + 1 + jt], depth[i + 1 + jf])
        else:
            depth[i] = depth[i + 1]
    return depth[0]


@pytest.fixture(scope="module")
def hosts():
    prog = chain_or(_terms(f"host {_host(i)}" for i in range(1, 1001)))
    return prog, optimize(prog)


def test_1000_hosts_fit_the_kernel_limit(hosts):
    prog, out = hosts
    assert len(prog) > 20000
    assert len(out) <= BPF_MAXINSNS


def test_1000_hosts_cost_logarithmic_tests(hosts):
    _, out = hosts
    assert _longest_test_path(out) <= 60  # a linear chain would be > 2000


def test_1000_hosts_verdicts(hosts):
    prog, out = hosts
    packets = []
    for i in (1, 2, 500, 999, 1000, 1001, 70000):
        for src, dst in ((_host(i), "192.0.2.1"), ("192.0.2.1", _host(i))):
            packets.append(ether(MAC_A, MAC_B, 0x800, ipv4(src, dst, 6, tcp(1, 2))))
            packets.append(ether(MAC_A, MAC_B, 0x806, arp(spa=src, tpa=dst)))
            packets.append(ether(MAC_A, MAC_B, 0x8035, arp(spa=src, tpa=dst)))
        packets.append(ether(MAC_A, MAC_B, 0x800, ipv4(_host(i), "192.0.2.1"))[:32])
    verdicts = [run(out, p) for p in packets]
    assert verdicts == [run(prog, p) for p in packets]
    # hosts 1, 2, 500, 999 and 1000 match 6 packets each; of the 32-byte packets (too short
    # for the dst address) only host 1's is accepted: its src test comes before any dst load
    assert sum(1 for v in verdicts if v) == 5 * 6 + 1


def test_1000_ports():
    prog = chain_or(_terms(f"port {i}" for i in range(1, 1001)))
    out = optimize(prog)
    assert len(out) <= BPF_MAXINSNS
    assert _longest_test_path(out) <= 80
    packets = []
    for port in (1, 7, 500, 1000, 1001, 65535):
        packets.append(ether(MAC_A, MAC_B, 0x800, ipv4(payload=tcp(40000, port))))
        packets.append(ether(MAC_A, MAC_B, 0x800, ipv4(proto=17, payload=udp(port, 40000))))
        packets.append(ether(MAC_A, MAC_B, 0x86DD, ipv6(nxt=6, payload=tcp(port, 40000))))
    verdicts = [run(out, p) for p in packets]
    assert verdicts == [run(prog, p) for p in packets]
    assert sum(1 for v in verdicts if v) == 4 * 3


def test_or_chains_reach_the_passes_folded():
    """The passes see two terms and the sets, not 1,000 terms (what keeps big lists linear)."""
    from bpfc.opt import fold_chains
    from bpfc.opt.graph import build
    from bpfc.opt.manager import run_passes

    prog = chain_or(_terms(f"port {i}" for i in range(1, 1001)))
    graph = build(prog)
    before = graph.order()
    assert fold_chains.run(graph)
    # of the 1,000 terms only the first is left (plus its copy asking set membership)
    last = max(b.id for b in before)
    kept = [b for b in graph.order() if b.id <= last]
    assert len(before) > 20_000 and len(kept) < len(before) / 500
    assert run_passes(graph) <= 6
