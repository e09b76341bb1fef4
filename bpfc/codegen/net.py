"""Network-layer primitives: IPv4/IPv6/ARP/RARP hosts and nets, ``proto``, broadcast.

libpcap's meanings kept on purpose: a bare ``host``/``net`` also matches the
sender/target addresses of ARP and RARP packets; ``ip6 proto`` also looks through
one fragment header; ``ip broadcast`` needs the netmask.  Shapes follow gencode.c
(``gen_host``/``gen_hostop``/``gen_hostop6``/``gen_proto``) so listings match.
"""

from __future__ import annotations

from collections.abc import Callable

from bpfc.cfg import Cond, and_, not_, or_, true_cond
from bpfc.codegen import link
from bpfc.codegen.link import DIR_AND, DIR_DST, DIR_OR, DIR_SRC
from bpfc.codegen.state import NETMASK_UNKNOWN, CodegenState, Rel

IPPROTO_FRAGMENT = 44

#: proto qualifier -> (ethertype, source offset, destination offset) for IPv4 addresses
V4_HOST_PROTOS = {
    "ip": (link.ETHERTYPE_IP, 12, 16),
    "arp": (link.ETHERTYPE_ARP, 14, 24),
    "rarp": (link.ETHERTYPE_REVARP, 14, 24),
}


Addr4 = tuple[int, int]  # (address, mask)


def _dir(state: CodegenState, direction: str, mk: Callable[[int], Cond]) -> Cond:
    """Combine the source (0) and destination (1) tests as the direction says."""
    if direction == DIR_SRC:
        return mk(0)
    if direction == DIR_DST:
        return mk(1)
    if direction == DIR_AND:
        return and_(mk(0), mk(1))
    if direction in (DIR_OR, "default"):
        return or_(mk(0), mk(1))
    raise state.error(f"'{direction}' is not a valid qualifier for 'ip host'")


def _any(conds: list[Cond]) -> Cond:
    result = conds[0]
    for cond in conds[1:]:
        result = or_(result, cond)
    return result


def gen_hostop(
    state: CodegenState, addrs: list[Addr4], direction: str, proto: str, negate: bool = False
) -> Cond:
    """One protocol's IPv4 address test: its link type, then the address compares
    (``negate``: none of the addresses, as ``gateway`` needs)."""
    ethertype, src_off, dst_off = V4_HOST_PROTOS[proto]
    offs = (src_off, dst_off)

    def one(addr: int, mask: int) -> Cond:
        def mk(i: int) -> Cond:
            if mask == 0:  # a /0 network matches any address: no compare at all
                return true_cond()
            return state.mcmp(Rel.NET, offs[i], 4, addr & mask, mask)

        return _dir(state, direction, mk)

    # the link type first, as master: on variable-length headers it decides which offset
    # register is taken first; a constant-false one (ARP on PFLOG) makes no address loads
    linktype = link.gen_linktype(state, ethertype)
    if linktype.const is False:
        return linktype
    tests = _any([one(a, m) for a, m in addrs])
    return and_(linktype, not_(tests) if negate else tests)


def gen_host4(
    state: CodegenState, addr: int | list[Addr4], mask: int, direction: str, proto: str
) -> Cond:
    """``[ip|arp|rarp] [dir] host/net`` for IPv4 address(es); no proto means all three.

    ``addr`` may be a list of ``(address, mask)`` pairs (a host name with several
    addresses); each protocol then tests its link type once, then any address.
    """
    addrs = addr if isinstance(addr, list) else [(addr, mask)]
    if proto in ("default", "") and state.label_depth > 0:  # inside MPLS: IPv4 only
        return gen_hostop(state, addrs, direction, "ip")
    if proto in ("default", ""):
        b1 = or_(
            gen_hostop(state, addrs, direction, "ip"), gen_hostop(state, addrs, direction, "arp")
        )
        return or_(b1, gen_hostop(state, addrs, direction, "rarp"))
    if proto not in V4_HOST_PROTOS:
        raise state.error(f"'{proto}' modifier applied to host")
    return gen_hostop(state, addrs, direction, proto)


def gen_host6(
    state: CodegenState, addr: bytes | list[tuple[bytes, bytes]], mask: bytes, direction: str
) -> Cond:
    """``ip6 [dir] host/net`` for 16-byte address(es) and mask(s)."""
    addrs = addr if isinstance(addr, list) else [(addr, mask)]

    def one(a6: bytes, m6: bytes) -> Cond:
        def mk(i: int) -> Cond:
            base = (8, 24)[i]
            result: Cond | None = None
            for word in range(3, -1, -1):
                a = int.from_bytes(a6[word * 4 : word * 4 + 4], "big")
                m = int.from_bytes(m6[word * 4 : word * 4 + 4], "big")
                if m == 0:  # master skips words the prefix does not cover
                    continue
                cond = state.mcmp(Rel.NET, base + word * 4, 4, a & m, m)
                result = cond if result is None else and_(cond, result)
            return true_cond() if result is None else result

        return _dir(state, direction, mk)

    linktype = link.gen_linktype(state, link.ETHERTYPE_IPV6)  # first, as master
    tests = _any([one(a, m) for a, m in addrs])
    return and_(linktype, tests)


def gen_ip_proto(state: CodegenState, number: int) -> Cond:
    """``ip proto N``: IPv4 with protocol field N."""
    return and_(link.gen_linktype(state, link.ETHERTYPE_IP), state.cmp(Rel.NET, 9, 1, number))


def gen_ip6_proto(state: CodegenState, number: int) -> Cond:
    """``ip6 proto N``: next header N, directly or after one fragment header."""
    b1 = and_(state.cmp(Rel.NET, 6, 1, IPPROTO_FRAGMENT), state.cmp(Rel.NET, 40, 1, number))
    b1 = or_(state.cmp(Rel.NET, 6, 1, number), b1)
    return and_(link.gen_linktype(state, link.ETHERTYPE_IPV6), b1)


def gen_proto_default(state: CodegenState, number: int) -> Cond:
    """``proto N`` with no qualifier: IPv4 or IPv6."""
    return or_(gen_ip_proto(state, number), gen_ip6_proto(state, number))


def gen_ip_broadcast(state: CodegenState) -> Cond:
    if state.netmask == NETMASK_UNKNOWN:
        raise state.error("netmask not known, so 'ip broadcast' not supported")
    hostmask = ~state.netmask & 0xFFFFFFFF
    b2 = or_(
        state.mcmp(Rel.NET, 16, 4, 0, hostmask),
        state.mcmp(Rel.NET, 16, 4, hostmask, hostmask),
    )
    return and_(link.gen_linktype(state, link.ETHERTYPE_IP), b2)


def gen_ip_multicast(state: CodegenState) -> Cond:
    return and_(link.gen_linktype(state, link.ETHERTYPE_IP), state.mcmp(Rel.NET, 16, 1, 224, 0xF0))


def gen_ip6_multicast(state: CodegenState) -> Cond:
    return and_(link.gen_linktype(state, link.ETHERTYPE_IPV6), state.cmp(Rel.NET, 24, 1, 255))
