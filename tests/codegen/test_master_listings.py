"""Code generation as libpcap master's: the unoptimized listing instruction for instruction.

Each case is a kind of expression where bpfc's program once differed from master's where
both compile (the front-end differential's verdict differences, issue 17); the listing is
the strongest evidence the verdicts agree on every packet."""

from __future__ import annotations

import pytest

pytest.importorskip("bpfc.syntax.parse")

from support.oracles import master_library  # noqa: E402

from bpfc import compiler  # noqa: E402
from bpfc.libpcap import Libpcap  # noqa: E402

#: relations: master ands the right operand's protocol checks in front of the left's
RELATIONS = [
    ("EN10MB", "tcp[0] = udp[0]"),
    ("EN10MB", "ip[1] + tcp[2] = udp[3]"),
    ("EN10MB", "icmp[0] > ip6[1]"),
    ("LINUX_SLL", "udp[2:2] != tcp[2:2]"),
    ("EN10MB", "ip[0] < 3"),
    ("EN10MB", "5 >= icmp6[0]"),
    # once "master folds constant protocol tests": master's checks first made bpfc's
    # later load the shorter packets' fate
    ("LOOP", "not -(-icmp6[6]) < icmp[14:4] or tcp-cwr != length - 2"),
]  # fmt: skip

#: hosts: the link type is generated before the address tests, which on radio headers
#: decides which offset register is taken first; a constant-false one makes no loads
HOSTS = [
    ("PPI", "arp host 10.0.0.1"),
    ("PPI", "rarp src net 10.0.0.0/8"),
    ("PPI", "arp dst host 10.0.0.1 or ip"),
    ("IEEE802_11_RADIO", "ip6 host fe80::1"),
    ("PRISM_HEADER", "host 10.0.0.1"),
    ("PFLOG", "arp host 10.0.0.1"),
    ("PFLOG", "rarp host 1.2.3.4 or ip"),
]  # fmt: skip

#: pflog after a link push: the header-length prologue goes to the payload offset's
#: register at the end (a tunnel's), and pppoes copies, not shares, an untaken register
PUSHED = [
    ("PFLOG", "subrulenum 1048575 or ah and not greater 128 or pppoes"),
    ("PFLOG", "geneve"),
    ("PFLOG", "vxlan and ip"),
    ("PFLOG", "tcp or vxlan 5 and udp"),
    ("PFLOG", "pppoes or ip"),
    ("PFLOG", "ah or pppoes or ip"),
    ("PFLOG", "ip host 1.2.3.4 or pppoes and ip host 1.2.3.4"),
    ("PFLOG", "ip and pppoes and ip"),
    ("IEEE802_11_RADIO", "pppoes or ip"),
    ("PPI", "ah or pppoes 3 and tcp port 80"),
]  # fmt: skip

#: vlan ids at the network layer's place: past 802.11's LLC/SNAP header, not on it
VLANS = [
    ("IEEE802_11_RADIO_AVS", "vlan 4094"),
    ("IEEE802_11", "direction 3 and vlan 8"),
    ("IEEE802_11_RADIO_AVS", "less 0xffff and vlan 7 or wlan type mgt"),
    ("IEEE802_11_RADIO", "vlan 1 and vlan 2 and ip host 1.2.3.4"),
    ("PRISM_HEADER", "vlan 5 and tcp port 80"),
    ("EN10MB", "vlan 100 and vlan 200"),
]  # fmt: skip

#: ports: the port atoms are generated before the protocol and link-type tests, which on
#: radio headers decides which offset takes which register (after arithmetic, master's
#: payload offset reuses a freed register)
PORTS = [
    ("IEEE802_11_RADIO", "tcp-fin <= length % 0XD / 1 and udp src or dst portrange 3"),
    ("IEEE802_11_RADIO", "tcp port 80"),
    ("PPI", "tcp dst port 22 or udp src portrange 1-5"),
    ("PRISM_HEADER", "ip6 and sctp port 9"),
    ("IEEE802_11_RADIO_AVS", "port 53"),
]  # fmt: skip


@pytest.fixture(scope="module")
def master() -> Libpcap:
    lib, why = master_library()
    if lib is None:
        pytest.skip(why)
    return Libpcap(lib)


def _same_listing(master: Libpcap, dlt: str, expr: str) -> None:
    ours = [tuple(i) for i in compiler.compile(expr, dlt, optimize=False)]
    theirs = [tuple(i) for i in master.compile(expr, dlt, optimize=False)]
    assert ours == theirs


@pytest.mark.parametrize(("dlt", "expr"), RELATIONS, ids=[f"{d}:{e}" for d, e in RELATIONS])
def test_relation_checks_in_masters_order(master: Libpcap, dlt: str, expr: str) -> None:
    _same_listing(master, dlt, expr)


@pytest.mark.parametrize(("dlt", "expr"), HOSTS, ids=[f"{d}:{e}" for d, e in HOSTS])
def test_host_link_type_first(master: Libpcap, dlt: str, expr: str) -> None:
    _same_listing(master, dlt, expr)


@pytest.mark.parametrize(("dlt", "expr"), PUSHED, ids=[f"{d}:{e}" for d, e in PUSHED])
def test_pflog_prologue_after_a_push(master: Libpcap, dlt: str, expr: str) -> None:
    _same_listing(master, dlt, expr)


@pytest.mark.parametrize(("dlt", "expr"), VLANS, ids=[f"{d}:{e}" for d, e in VLANS])
def test_vlan_id_past_the_llc_header(master: Libpcap, dlt: str, expr: str) -> None:
    _same_listing(master, dlt, expr)


@pytest.mark.parametrize(("dlt", "expr"), PORTS, ids=[f"{d}:{e}" for d, e in PORTS])
def test_port_atoms_first(master: Libpcap, dlt: str, expr: str) -> None:
    _same_listing(master, dlt, expr)


#: inside VXLAN or Geneve: MAC tests first check the inner frame has a link-layer header
#: (master does it after VXLAN too, where it always holds), and the LLC payload offset
#: (``off_nl_nosnap``) keeps the outer link's value, as master leaves it
TUNNELS = [
    ("EN10MB", "vxlan and multicast"),
    ("EN10MB", "vxlan 5 and ether src 1:2:3:4:5:6 or tcp"),
    ("EN10MB", "geneve and broadcast"),
    ("EN10MB", "vxlan and esis"),
    ("LINUX_SLL", "geneve and isis"),
    ("RAW", "vxlan or geneve and clnp"),
    ("IEEE802_11", "vxlan and stp"),
    ("NULL", "geneve and netbeui"),
]  # fmt: skip


@pytest.mark.parametrize(("dlt", "expr"), TUNNELS, ids=[f"{d}:{e}" for d, e in TUNNELS])
def test_inside_a_tunnel(master: Libpcap, dlt: str, expr: str) -> None:
    _same_listing(master, dlt, expr)
