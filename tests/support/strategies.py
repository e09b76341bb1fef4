"""Hypothesis strategies built on bpfc.packetgen: frames for a link type, filter compositions.

``frames(linktype)`` draws a network packet (IPv4 with options and fragments, IPv6
with extension headers, ARP, any transport, planted addresses and ports), frames it
for the link type, on Ethernet optionally inside VLAN/QinQ/MPLS/PPPoE, and
optionally truncates it.  ``compositions(primitives)`` draws boolean combinations
that shrink toward single primitives.
"""

from __future__ import annotations

from hypothesis import strategies as st

from bpfc.packetgen import Packet, frame, truncate
from bpfc.packetgen import ether as E
from bpfc.packetgen import inet as I

ADDR4 = st.sampled_from(["10.1.2.3", "10.1.2.4", "10.1.2.5", "192.168.1.1", "172.16.0.1",
                         "10.0.0.1", "224.0.0.1", "255.255.255.255", "0.0.0.0"]) | st.integers(
    0, 0xFFFFFFFF
)  # fmt: skip
ADDR6 = st.sampled_from(["fe80::1", "2001:db8::2", "2001:db8::1", "ff02::1", "::ffff:10.1.2.3",
                         "::1"]) | st.integers(0, (1 << 128) - 1)  # fmt: skip
PORT = st.sampled_from([0, 22, 53, 54, 80, 443, 999, 1000, 1023, 1024, 2000, 2001, 8080, 65535])
_MAC_TEXT = ["02:00:00:00:00:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01"]
MACS = st.sampled_from(_MAC_TEXT).map(E.mac) | st.binary(min_size=6, max_size=6)


@st.composite
def transports(draw, v6: bool = False) -> tuple[int, bytes]:
    """(IP protocol, bytes) of a transport packet with drawn ports and flags."""
    kind = draw(st.sampled_from(["tcp", "udp", "sctp", "icmp", "igmp", "pim", "raw"]))
    sport, dport = draw(PORT), draw(PORT)
    if kind == "tcp":
        return 6, I.tcp(sport, dport, draw(st.integers(0, 255)))
    if kind == "udp":
        return 17, I.udp(sport, dport)
    if kind == "sctp":
        return 132, I.sctp(sport, dport)
    if kind == "icmp":
        return (
            (58, I.icmp6(draw(st.integers(0, 255))))
            if v6
            else (1, I.icmp(draw(st.integers(0, 255))))
        )
    if kind == "igmp":
        return 2, I.igmp()
    if kind == "pim":
        return 103, I.pim()
    return draw(st.integers(0, 255)), draw(st.binary(max_size=24))


@st.composite
def network_packets(draw) -> tuple[int, bytes]:
    """(ethertype, bytes): IPv4 (options, fragments), IPv6 (extension headers) or ARP."""
    family = draw(st.sampled_from(["ip", "ip", "ip6", "ip6", "arp"]))
    if family == "arp":
        return 0x0806, I.arp(draw(st.sampled_from([1, 2, 3, 4])), spa=draw(ADDR4), tpa=draw(ADDR4))
    if family == "ip":
        proto, body = draw(transports())
        frag = draw(st.sampled_from([0, 0, 0, 1, 100]))
        return 0x0800, I.ipv4(
            draw(ADDR4), draw(ADDR4), proto, body,
            options=draw(st.sampled_from([b"", b"\x94\x04\0\0", b"\x01" * 8])),
            frag_offset=frag, mf=draw(st.booleans()), df=draw(st.booleans()),
        )  # fmt: skip
    proto, body = draw(transports(v6=True))
    chain = draw(st.lists(st.sampled_from([0, 43, 44, 60, 51]), max_size=3))
    nxt, payload = I.ipv6_chain(chain, proto, body)
    return 0x86DD, I.ipv6(draw(ADDR6), draw(ADDR6), nxt, payload)


@st.composite
def frames(draw, linktype: str = "EN10MB") -> Packet:
    """A frame for ``linktype`` (``data``, ``wirelen``), sometimes encapsulated or truncated."""
    et, l3 = draw(network_packets())
    src, dst = draw(MACS), draw(MACS)
    data = None
    if linktype == "EN10MB":
        encap = draw(st.sampled_from(["none", "none", "vlan", "qinq", "mpls", "pppoes"]))
        if encap == "vlan":
            tags = ((draw(st.sampled_from(E.VLAN_TPIDS)), draw(st.integers(0, 0xFFFF))),)
            data = E.ether(dst, src, et, l3, tags=tags)
        elif encap == "qinq":
            tags = ((0x88A8, draw(st.integers(0, 4095))), (0x8100, draw(st.integers(0, 4095))))
            data = E.ether(dst, src, et, l3, tags=tags)
        elif encap == "mpls":
            labels = draw(st.lists(st.integers(0, (1 << 20) - 1), min_size=1, max_size=3))
            data = E.ether(dst, src, 0x8847, E.mpls(labels, l3))
        elif encap == "pppoes" and et in E.PPP_PROTO:
            data = E.ether(dst, src, 0x8864, E.pppoe_session(draw(st.integers(0, 3)),
                                                              E.PPP_PROTO[et], l3))  # fmt: skip
    if data is None:
        data = frame(linktype, et, l3, src=src, dst=dst, variant=draw(st.integers(0, 15)))
    if data is None:
        data = draw(st.binary(max_size=80))
    pkt = Packet(data, len(data), "hypothesis")
    if draw(st.integers(0, 9)) == 0:
        pkt = truncate(pkt, draw(st.integers(0, len(data))))
    return pkt


def compositions(primitives: list[str], max_leaves: int = 8) -> st.SearchStrategy[str]:
    """Boolean compositions of ``primitives`` with and/or/not/parentheses (all spellings)."""
    leaves = st.sampled_from(primitives)

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binop = st.tuples(children, st.sampled_from([" and ", " or ", " && ", " || "]), children)
        return st.one_of(
            st.builds(lambda e, n: f"{n}({e})", children, st.sampled_from(["not ", "!"])),
            binop.map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
            binop.map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)
