"""Random and/or/not compositions of primitives agree with libpcap on every packet.

Single-primitive tests never see state leaking from one branch into another
(registers, offsets, patched exits); compositions do.  Each example builds a random
boolean expression from a pool, compiles it with bpfc (unoptimized: the generator's
own output) and with the system libpcap, and runs both over the harness's packets.
"""

from __future__ import annotations

import pytest
from hypothesis import given

pytest.importorskip("bpfc.syntax.parse")

from support.differential import check, require_libpcap  # noqa: E402
from support.strategies import compositions  # noqa: E402

EN10MB_POOL = [
    "ip", "ip6", "arp", "tcp", "udp", "icmp", "sctp", "ipx", "iso", "stp",
    "host 10.0.0.1", "src net 10.0.0.0/8", "dst host 192.168.1.1", "arp src host 10.0.0.2",
    "ip6 host fe80::1", "ether host 00:11:22:33:44:55", "ether broadcast", "ether multicast",
    "tcp port 80", "udp src port 53", "portrange 1000-1010", "tcp dst portrange 20-21",
    "ip proto 47", "ip6 proto 17", "proto 6", "ether proto 0x88cc",
    "tcp[13] & 0x12 = 0x12", "ip[8] < 64", "len > 100", "less 80", "greater 60",
    "icmp[0] = 8", "udp[2:2] = 53", "ip[0] + ip[1] > ip[2] * 2", "ip6[6] = 58",
]  # fmt: skip

SLL_POOL = ["ip", "ip6", "arp", "tcp port 22", "host 10.0.0.1", "udp", "ipx", "iso", "len < 90"]


@pytest.fixture(autouse=True)
def _needs_libpcap() -> None:
    require_libpcap()


@given(compositions(EN10MB_POOL, max_leaves=6))
def test_en10mb_compositions_agree(expr: str) -> None:
    problems = check(expr, "EN10MB", optimize=(False,))
    assert not problems, str(problems[0])


@given(compositions(SLL_POOL, max_leaves=5))
def test_linux_sll_compositions_agree(expr: str) -> None:
    problems = check(expr, "LINUX_SLL", optimize=(False,))
    assert not problems, str(problems[0])
