"""Random boolean compositions of filter primitives, for differential soak tests.

Single-primitive tests never see state leaking from one branch into another
(a ``vlan`` that shifts offsets for the rest of the expression, a register reused
across an ``or``).  :func:`compose` draws primitives from a per-link-type pool and
joins them with ``and``/``or``/``not`` and parentheses, in every spelling
(``&&``, ``||``, ``!``), up to a given depth.  Deterministic given the
``random.Random`` passed in; no hypothesis needed (tests/support/strategies.py wraps it).
"""

from __future__ import annotations

import random

IP_POOL: tuple[str, ...] = (
    "ip", "ip6", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp", "pim", "vrrp", "ah", "esp",
    "host 10.1.2.3", "src host 10.1.2.3", "dst host 10.1.2.4", "host 10.1.2.3 or 10.1.2.5",
    "net 10.0.0.0/8", "src net 192.168.1.0/24", "dst net 172.16/12",
    "net 10.1.0.0 mask 255.255.0.0", "ip host 192.168.1.1", "ip src host 10.1.2.3",
    "ip6 host fe80::1", "ip6 src net 2001:db8::/32", "ip6 dst host 2001:db8::2",
    "host ::ffff:10.1.2.3",
    "port 80", "src port 53", "dst port 443", "tcp port 22", "udp port 53", "sctp port 80",
    "tcp dst port 80 or 443", "portrange 1000-2000", "tcp src portrange 1-1023",
    "udp dst portrange 53-54", "port 80 or 8080",
    "ip proto 47", "ip proto \\tcp", "ip6 proto 17", "proto 132", "ip protochain 6",
    "ip6 protochain 17",
    "tcp[13] & 2 != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
    "tcp[tcpflags] & tcp-rst != 0", "icmp[icmptype] = icmp-echo", "icmp[0] = 0",
    "ip[8] > 64", "ip[6:2] & 0x1fff = 0", "udp[4:2] > 12", "ip[0] & 0xf > 5",
    "len > 100", "len <= 60", "less 60", "greater 200", "ip multicast", "ip6 multicast",
    "ip[2:2] - 20 > 30", "tcp[0:2] + tcp[2:2] = 1104", "ip[9] * 2 = 12", "ip[1] / 4 = 0",
    "ip[16] ^ 10 = 0", "ip[19] << 1 = 4", "ip[19] >> 1 = 1", "ip[19] % 2 = 1",
    "-ip[9] = -6", "ip[12:4] = 0x0a010203",
)  # fmt: skip

ARP_POOL: tuple[str, ...] = ("arp", "rarp", "arp host 10.1.2.3", "arp src host 10.0.0.1")

ETHER_POOL: tuple[str, ...] = (
    "ether host 02:00:00:00:00:01", "ether src 02:00:00:00:00:01",
    "ether dst ff:ff:ff:ff:ff:ff", "ether broadcast", "ether multicast",
    "ether proto 0x0800", "ether proto \\ip6", "ether[0] & 1 != 0", "ether[12:2] = 0x86dd",
    "broadcast", "multicast", "ether src 02-00-00-00-00-02", "ether host 0200.0000.0001",
    "vlan", "vlan 100", "vlan 1 and vlan 100", "mpls", "mpls 16", "pppoes", "pppoes 1", "pppoed",
    "stp", "ipx", "netbeui", "iso", "llc", "decnet", "atalk", "aarp", "lat", "sca", "mopdl",
    "moprc", "clnp", "esis", "isis", "llc u", "llc i", "llc s", "geneve", "geneve 100",
    "vxlan", "vxlan 42",
)  # fmt: skip

MAC_LINKS = ("FDDI", "IEEE802", "IEEE802_11", "IP_OVER_FC", "NETANALYZER")


def pool(linktype: str) -> tuple[str, ...]:
    """The primitive pool for ``linktype`` (before filtering by what compiles)."""
    if linktype == "EN10MB":
        return IP_POOL + ARP_POOL + ETHER_POOL
    extra = ()
    if linktype in MAC_LINKS:
        extra = ("ether host 02:00:00:00:00:01", "ether src 02:00:00:00:00:01",
                 "ether broadcast", "ether multicast")  # fmt: skip
    if linktype in ("LINUX_SLL", "LINUX_SLL2", "FDDI", "IEEE802", "IEEE802_11", "C_HDLC"):
        extra += ARP_POOL
    return IP_POOL + extra


def compose(primitives: list[str] | tuple[str, ...], rng: random.Random, depth: int = 4) -> str:
    """A random boolean expression over ``primitives`` no deeper than ``depth``."""
    return compose_leaves(primitives, rng, depth)[0]


def compose_leaves(
    primitives: list[str] | tuple[str, ...], rng: random.Random, depth: int = 4
) -> tuple[str, list[str]]:
    """Like :func:`compose`, also returning the primitives used (the leaves, in order)."""
    if depth <= 0 or rng.random() < 0.3:
        leaf = rng.choice(primitives)
        return leaf, [leaf]
    roll = rng.random()
    if roll < 0.2:
        inner, leaves = compose_leaves(primitives, rng, depth - 1)
        return f"{rng.choice(('not ', '!', 'not '))}({inner})", leaves
    op = rng.choice((" and ", " or ", " && ", " || ", " and ", " or "))
    left, lleaves = compose_leaves(primitives, rng, depth - 1)
    right, rleaves = compose_leaves(primitives, rng, depth - 1)
    if rng.random() < 0.8:  # usually parenthesise: `and`/`or` share one precedence level
        left, right = f"({left})", f"({right})"
    return left + op + right, lleaves + rleaves
