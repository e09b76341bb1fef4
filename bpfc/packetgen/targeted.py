"""Expression-aware packet sets: plant an expression's constants where filters look.

``targeted_packets(expr, linktype, seed=...)`` extracts the constants of ``expr``
(see :mod:`bpfc.packetgen.constants`) and builds frames that put each one, and its
neighbours (±1, just inside and just outside each CIDR block and port range), as
source and as destination, over IPv4 and IPv6, in TCP/UDP/SCTP and the other
transports, fragmented and not, tagged with VLAN/QinQ/MPLS/PPPoE/VXLAN/GENEVE and
not (Ethernet), plus link-specific frames (ARP, 802.3 LLC, STP, IPX, ISO) and random
noise.  Every packet set is deterministic for a given (expr, linktype, seed).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator, Mapping, Sequence

from bpfc.packetgen import ether as E
from bpfc.packetgen import inet as I
from bpfc.packetgen.constants import Constants, extract
from bpfc.packetgen.links import FRAMERS, HAS_MAC, frame
from bpfc.packetgen.mtp import mtp2_frames
from bpfc.packetgen.packet import Packet, truncate
from bpfc.packetgen.wlan import wlan_frames

DEFAULT4 = ("10.0.0.1", "10.0.0.2")
EXTRA_ONLY = ("MTP2",)  # link types with no network layer: only link-specific frames
DEFAULT6 = ("fe80::1", "fe80::2")
TRANSPORTS = ("tcp", "udp", "sctp", "icmp", "igmp", "pim", "vrrp", "gre", "esp", "ah", "ipip")


def _around(n: int, lo: int = 0, hi: int = 0xFFFF) -> list[int]:
    return [v for v in (n - 1, n, n + 1) if lo <= v <= hi]


def addresses4(c: Constants) -> list[str]:
    """IPv4 addresses worth planting: each network's edges and their outside neighbours."""
    out: list[int] = []
    for net in c.nets4:
        first, last = int(net.network_address), int(net.broadcast_address)
        out += [first, last, first - 1, last + 1, (first + last) // 2, first + 1]
    for n in c.numbers:  # small numbers are also abbreviated addresses in some forms
        if n > 0xFFFF:
            out.append(n)
    out = [a for a in dict.fromkeys(out) if 0 <= a <= 0xFFFFFFFF]
    return [str(ipaddress.IPv4Address(a)) for a in out] or list(DEFAULT4)


def addresses6(c: Constants) -> list[str]:
    """IPv6 addresses worth planting, like :func:`addresses4`, plus v4-mapped forms."""
    out: list[int] = []
    for net in c.nets6:
        first, last = int(net.network_address), int(net.broadcast_address)
        out += [first, last, first - 1, last + 1, first + 1]
    for net in c.nets4:
        out.append(0xFFFF00000000 | int(net.network_address))
    out = [a for a in dict.fromkeys(out) if 0 <= a < 1 << 128]
    return [str(ipaddress.IPv6Address(a)) for a in out] or list(DEFAULT6)


def ports(c: Constants) -> list[int]:
    """Ports worth planting: each number ±1 and each range's edges, middle and outsides."""
    out: list[int] = []
    for p in c.ports:
        out += _around(p)
    for lo, hi in c.ranges:
        out += _around(lo) + _around(hi) + [m for m in ((lo + hi) // 2,) if m <= 0xFFFF]
    return list(dict.fromkeys(out)) or [80, 53, 1024]


def _transport(
    name: str, sport: int, dport: int, rng: random.Random, v6: bool
) -> tuple[int, bytes]:
    """(protocol number, bytes) of one transport packet."""
    if name == "tcp":
        flags = rng.choice((0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0xFF, 0x00))
        opts = rng.choice((b"", b"\x02\x04\x05\xb4", b"\x01\x01\x08\x0a" + b"\0" * 8))
        return 6, I.tcp(sport, dport, flags, b"x" * rng.randrange(4), options=opts)
    if name == "udp":
        return 17, I.udp(sport, dport, b"\0" * rng.randrange(12))
    if name == "sctp":
        return 132, I.sctp(sport, dport)
    if name == "icmp":
        if v6:
            return 58, I.icmp6(rng.choice((128, 129, 135, 136, 1, 3, 133, 134)))
        return 1, I.icmp(rng.choice((0, 8, 3, 11, 5, 13, 17)), rng.randrange(3))
    if name == "igmp":
        return 2, I.igmp(rng.choice((0x11, 0x16, 0x17, 0x22)))
    if name == "pim":
        return 103, I.pim(rng.randrange(9))
    if name == "vrrp":
        return 112, I.vrrp(rng.randrange(1, 4))
    if name == "gre":
        return 47, I.gre(0x0800, I.ipv4("1.1.1.1", "2.2.2.2", 6, I.tcp(sport, dport)))
    if name == "esp":
        return 50, I.esp()
    if name == "ah":
        nxt = 6
        return 51, I.ah(nxt, I.tcp(sport, dport))
    return 4, I.ipv4("192.0.2.1", "192.0.2.2", 17, I.udp(sport, dport))


def _l3(c: Constants, rng: random.Random, budget: int) -> Iterator[tuple[int, bytes, str]]:
    """Network-layer packets: (ethertype, bytes, label)."""
    a4, a6, ps = addresses4(c), addresses6(c), ports(c)
    protos = [n for n in c.numbers if 0 <= n <= 255]
    # Systematic part: every address as src and as dst; every port as sport and as dport.
    for i, addr in enumerate(a4):
        other = a4[(i + 1) % len(a4)] if len(a4) > 1 else "10.0.0.9"
        for src, dst in ((addr, other), (other, addr), (addr, addr)):
            name = TRANSPORTS[(i + len(src)) % 3]
            proto, body = _transport(name, rng.choice(ps), rng.choice(ps), rng, False)
            yield 0x0800, I.ipv4(src, dst, proto, body), f"ip4 {src}>{dst} {name}"
        yield 0x0806, I.arp(1, spa=addr, tpa=other), f"arp {addr}"
        yield 0x8035, I.arp(3, spa=other, tpa=addr), f"rarp {addr}"
    for i, addr in enumerate(a6):
        other = a6[(i + 1) % len(a6)] if len(a6) > 1 else "fe80::9"
        for src, dst in ((addr, other), (other, addr)):
            name = ("tcp", "udp", "icmp")[i % 3]
            proto, body = _transport(name, rng.choice(ps), rng.choice(ps), rng, True)
            yield 0x86DD, I.ipv6(src, dst, proto, body), f"ip6 {src}>{dst} {name}"
    for port in ps:
        for name in ("tcp", "udp", "sctp"):
            s, d = rng.choice(a4), rng.choice(a4)
            proto, body = _transport(name, port, rng.choice(ps), rng, False)
            yield 0x0800, I.ipv4(s, d, proto, body), f"{name} sport {port}"
            proto, body = _transport(name, rng.choice(ps), port, rng, False)
            yield 0x0800, I.ipv4(s, d, proto, body), f"{name} dport {port}"
            proto, body = _transport(name, rng.choice(ps), port, rng, True)
            yield 0x86DD, I.ipv6(rng.choice(a6), rng.choice(a6), proto, body), f"6 {name} {port}"
    for proto in protos:
        yield 0x0800, I.ipv4(a4[0], a4[-1], proto, b"\0" * 20), f"ip proto {proto}"
        yield 0x86DD, I.ipv6(a6[0], a6[-1], proto, b"\0" * 20), f"ip6 proto {proto}"
    # Every transport, both families, and the fragment / option / extension-header shapes.
    for name in TRANSPORTS:
        proto, body = _transport(name, rng.choice(ps), rng.choice(ps), rng, False)
        yield 0x0800, I.ipv4(rng.choice(a4), rng.choice(a4), proto, body), f"ip4 {name}"
        proto, body = _transport(name, rng.choice(ps), rng.choice(ps), rng, True)
        yield 0x86DD, I.ipv6(rng.choice(a6), rng.choice(a6), proto, body), f"ip6 {name}"
    for _ in range(budget):
        yield _random_l3(rng, a4, a6, ps)


def _random_l3(rng: random.Random, a4: list[str], a6: list[str], ps: list[int]):
    name = rng.choice(TRANSPORTS)
    if rng.random() < 0.55:
        proto, body = _transport(name, rng.choice(ps), rng.choice(ps), rng, False)
        opts = rng.choice((b"", b"", b"\x94\x04\0\0", b"\x07\x07\x04" + b"\0" * 4))
        frag = rng.choice(((0, False), (0, True), (0, True), (1, False), (185, True)))
        df = rng.random() < 0.3
        body = body if frag[0] == 0 else body[: rng.randrange(len(body) + 1)]
        pkt = I.ipv4(
            rng.choice(a4), rng.choice(a4), proto, body, options=opts,
            frag_offset=frag[0], mf=frag[1], df=df, ttl=rng.choice((1, 64, 255)),
        )  # fmt: skip
        return 0x0800, pkt, f"ip4 {name} frag={frag} opts={len(opts)}"
    name6 = name if name != "igmp" else "icmp"
    proto, body = _transport(name6, rng.choice(ps), rng.choice(ps), rng, True)
    chain = rng.choice(([], [], [0], [44], [60], [43], [0, 60], [51], [0, 43, 44], [44, 60]))
    nxt, payload = I.ipv6_chain(chain, proto, body)
    return 0x86DD, I.ipv6(rng.choice(a6), rng.choice(a6), nxt, payload), f"ip6 {name} ext={chain}"


def _ether_extras(c: Constants, rng: random.Random) -> Iterator[tuple[bytes, str]]:
    """Whole Ethernet frames that are not plain IP: LLC/SNAP, STP, IPX, ISO, PPPoE discovery."""
    src, dst = E.mac("02:00:00:00:00:01"), E.mac("02:00:00:00:00:02")
    yield E.ether_8023(dst, src, E.stp_bpdu()), "stp"
    yield E.ether_8023(dst, src, E.llc(0xE0, 0xE0, 0x03, E.ipx_packet())), "ipx llc"
    yield E.novell_raw_8023(dst, src), "ipx raw"
    yield E.ether(dst, src, 0x8137, E.ipx_packet()), "ipx ethertype"
    yield E.ether_8023(dst, src, E.snap(0x8137, E.ipx_packet())), "ipx snap"
    yield E.ether_8023(dst, src, E.llc(0xF0, 0xF0, 0x03, b"\0" * 20)), "netbeui"
    for nlpid in (0x81, 0x82, 0x83):
        yield E.ether_8023(dst, src, E.llc(0xFE, 0xFE, 0x03, E.clnp_packet(nlpid))), f"iso {nlpid}"
    for ctl in (0x03, 0xAF, 0xE3, 0x43, 0x63, 0x0F, 0x87, 0x01, 0x05, 0x09, 0x0100, 0x0402):
        yield E.ether_8023(dst, src, E.llc(0xAA, 0xAA, ctl, b"\0" * 8)), f"llc ctl {ctl:#x}"
    yield E.ether_8023(dst, src, E.snap(0x809B, b"\0" * 20, b"\x08\x00\x07")), "atalk snap"
    for name in ("decnet", "lat", "sca", "moprc", "mopdl", "atalk", "aarp", "lldp", "slow"):
        yield E.ether(dst, src, E.ETHERTYPE[name], b"\0" * 30), name
    for code in (0x09, 0x07, 0x19, 0x65, 0xA7):
        yield E.ether(dst, src, 0x8863, E.pppoe_discovery(code, rng.randrange(3))), f"pppoed {code}"
    for n in c.numbers:
        if 0 <= n <= 0xFFFF:
            yield E.ether(dst, src, n, b"\0" * 30), f"ethertype {n}"
            if n <= 1500:
                yield E.ether_8023(dst, src, b"\0" * 30, length=n), f"802.3 len {n}"
            if n <= 0xFF:
                yield E.ether_8023(dst, src, E.llc(n, n, 0x03, b"\0" * 20)), f"llc sap {n}"


def _encapsulate(
    et: int, l3: bytes, c: Constants, rng: random.Random, src: bytes, dst: bytes
) -> tuple[bytes, str]:
    """One Ethernet frame around (et, l3), with a randomly chosen encapsulation."""
    ids = [n for n in c.numbers if 0 <= n <= 0xFFF] or [1, 100]
    labels = [n for n in c.numbers if 0 <= n < 1 << 20] or [16, 100]
    roll = rng.randrange(12)
    if roll == 0:
        vid = rng.choice(ids)
        tags = ((rng.choice(E.VLAN_TPIDS), E.vlan_tci(vid)),)
        return E.ether(dst, src, et, l3, tags=tags), f"vlan {vid}"
    if roll == 1:
        outer, inner = rng.choice(ids), rng.choice(ids)
        tags = ((0x88A8, E.vlan_tci(outer)), (0x8100, E.vlan_tci(inner)))
        return E.ether(dst, src, et, l3, tags=tags), f"qinq {outer}.{inner}"
    if roll == 2 and et in (0x0800, 0x86DD):
        stack = [rng.choice(labels) for _ in range(rng.randrange(1, 4))]
        return E.ether(dst, src, 0x8847, E.mpls(stack, l3)), f"mpls {stack}"
    if roll == 3 and et in E.PPP_PROTO:
        sid = rng.choice([n for n in c.numbers if 0 <= n <= 0xFFFF] or [1])
        return E.ether(dst, src, 0x8864, E.pppoe_session(sid, E.PPP_PROTO[et], l3)), f"pppoes {sid}"
    if roll in (4, 5):
        vni = rng.choice([n for n in c.numbers if 0 <= n < 1 << 24] or [42])
        inner = E.ether(dst, src, et, l3)
        port = 4789 if roll == 4 else 6081
        tun = I.vxlan(vni, inner) if roll == 4 else I.geneve(vni, inner, opt_len=rng.randrange(3))
        outer = I.ipv4("198.51.100.1", "198.51.100.2", 17, I.udp(12345, port, tun))
        return E.ether(dst, src, 0x0800, outer), f"{'vxlan' if roll == 4 else 'geneve'} {vni}"
    if roll == 6:
        tags = ((0x8100, E.vlan_tci(rng.choice(ids))),)
        stack = [rng.choice(labels)]
        if et in (0x0800, 0x86DD):
            return E.ether(dst, src, 0x8847, E.mpls(stack, l3), tags=tags), "vlan+mpls"
    return E.ether(dst, src, et, l3), "plain"


def _macs(c: Constants) -> list[bytes]:
    out = list(c.macs)
    for m in c.macs:
        n = int.from_bytes(m, "big")
        out += [((n + 1) % (1 << 48)).to_bytes(6, "big"), ((n - 1) % (1 << 48)).to_bytes(6, "big")]
    out += [E.BROADCAST, bytes.fromhex("01005e000001"), bytes.fromhex("333300000001"),
            E.mac("02:00:00:00:00:01")]  # fmt: skip
    return list(dict.fromkeys(out))


def targeted_packets(
    expr: str,
    linktype: str = "EN10MB",
    *,
    seed: int = 0,
    random_count: int = 60,
    truncated: int = 12,
    names: Mapping[str, Sequence[str]] | None = None,
) -> list[Packet]:
    """A deterministic packet set aimed at the constants of ``expr`` on ``linktype``.

    ``random_count`` adds that many randomly shaped IP packets (fragments, options,
    extension headers) over the planted values; ``truncated`` adds that many copies
    cut short (caplen < wirelen); ``names`` resolves host/network/ether names (see
    :func:`bpfc.packetgen.constants.names_from_fixtures`).  Unknown link types raise
    ``ValueError``.
    """
    if linktype not in FRAMERS and linktype not in EXTRA_ONLY:
        raise ValueError(f"packetgen has no framing for link type {linktype!r}")
    rng = random.Random(f"{seed}:{linktype}:{expr}")
    c = extract(expr, names)
    macs = _macs(c)
    out: list[Packet] = []
    ethernet = linktype == "EN10MB"
    for i, (et, l3, label) in enumerate(_l3(c, rng, random_count)):
        src, dst = macs[i % len(macs)], macs[(i * 7 + 3) % len(macs)]
        if ethernet and i % 2:
            data, how = _encapsulate(et, l3, c, rng, src, dst)
            out.append(Packet(data, len(data), f"{label} [{how}]"))
            continue
        data = frame(linktype, et, l3, src=src, dst=dst, variant=i) if linktype in FRAMERS else None
        if data is not None:
            out.append(Packet(data, len(data), label))
    if linktype in HAS_MAC:
        for i, m in enumerate(macs):
            for src, dst in ((m, macs[0]), (macs[-1], m)):
                l3 = I.ipv4(*DEFAULT4, 17, I.udp(1, 2))
                data = frame(linktype, 0x0800, l3, src=src, dst=dst, variant=i)
                if data is not None:
                    out.append(Packet(data, len(data), f"mac {src.hex()}>{dst.hex()}"))
    if ethernet:
        out += [Packet(d, len(d), label) for d, label in _ether_extras(c, rng)]
    wlan = wlan_frames(linktype, macs)
    if len(wlan) > 160:  # every subtype x slot x MAC is a lot; keep an even sample
        wlan = rng.sample(wlan, 160)
    out += [Packet(d, len(d), label) for d, label in wlan]
    if linktype == "MTP2":
        out += [Packet(d, len(d), label) for d, label in mtp2_frames(c.numbers)]
    out += _length_probes(c, out, rng)
    out += noise_packets(linktype, rng, 10)
    for _ in range(truncated):
        if out:
            p = rng.choice(out)
            out.append(truncate(p, rng.randrange(len(p.data) + 1)))
    unique: dict[tuple[bytes, int], Packet] = {}
    for p in out:  # the same bytes reached by two routes are only worth one run
        unique.setdefault((p.data, p.wirelen), p)
    return list(unique.values())


def _length_probes(c: Constants, pkts: list[Packet], rng: random.Random) -> list[Packet]:
    """Packets whose wire length sits at each number ±1 (for ``len``, ``less``, ``greater``)."""
    out = []
    base = pkts[0].data if pkts else b"\0" * 14
    for n in c.numbers:
        for length in _around(n, 0, 0x3FFF):
            data = (base + b"\0" * length)[:length]
            out.append(Packet(data, length, f"len {length}"))
    return out


def noise_packets(linktype: str, rng: random.Random, count: int) -> list[Packet]:
    """Random bytes, random-length frames and frames with random network-layer types."""
    out = []
    for i in range(count):
        n = rng.choice((0, 1, 3, 13, 14, 20, 34, 54, 60, 80, 200))
        data = bytes(rng.randrange(256) for _ in range(n))
        if i % 2 and linktype in FRAMERS:
            et = rng.choice((0x0800, 0x86DD, 0x0806, rng.randrange(0x10000)))
            framed = frame(linktype, et, data, variant=i)
            data = framed if framed is not None else data
        out.append(Packet(data, len(data), f"noise {i}"))
    return out
