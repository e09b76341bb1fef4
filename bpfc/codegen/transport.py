"""Transport-layer primitives: ``port``, ``portrange`` (TCP/UDP/SCTP over IPv4 and IPv6).

As libpcap: an IPv4 port test first rules out non-first fragments (they carry no
transport header), finds the transport header through the IHL (``ldxb 4*([nl]&0xf)``),
and a protocol-less ``port`` covers TCP, UDP and SCTP.  IPv6 ports are read right
after the fixed header.  The IPv6 test comes first in the program (libpcap generates
``port6 or port4``).
"""

from __future__ import annotations

from bpfc.cfg import Cond, and_, not_, or_
from bpfc.codegen import link
from bpfc.codegen.link import DIR_AND, DIR_DST, DIR_OR, DIR_SRC
from bpfc.codegen.state import CodegenState, Rel
from bpfc.isa.insn import JmpOp

TRANSPORTS = {"tcp": 6, "udp": 17, "sctp": 132}


def gen_ipfrag(state: CodegenState) -> Cond:
    """Not a non-first IPv4 fragment (fragment offset is zero)."""
    return not_(state.ncmp(Rel.NET, 6, 2, 0xFFFFFFFF, JmpOp.JSET, False, 0x1FFF))


def _atom(state: CodegenState, v6: bool, off: int, lo: int, hi: int) -> Cond:
    rel = Rel.TRAN_IPV6 if v6 else Rel.TRAN_IPV4
    if lo == hi:
        return state.cmp(rel, off, 2, lo)
    if lo > hi:
        lo, hi = hi, lo
    return and_(state.cmp_ge(rel, off, 2, lo), state.cmp_le(rel, off, 2, hi))


def _portop(
    state: CodegenState, v6: bool, lo: int, hi: int, protos: tuple[int, ...], direction: str
) -> Cond:
    """Protocol is one of ``protos`` (and, for IPv4, not a later fragment), then the ports.

    Generated in master's order (port atoms, then protocol, then fragment test): on
    variable-length headers that order decides which offset takes which register."""
    if direction == DIR_SRC:
        b1 = _atom(state, v6, 0, lo, hi)
    elif direction == DIR_DST:
        b1 = _atom(state, v6, 2, lo, hi)
    elif direction == DIR_AND:
        b1 = and_(_atom(state, v6, 0, lo, hi), _atom(state, v6, 2, lo, hi))
    elif direction in (DIR_OR, "default"):
        b1 = or_(_atom(state, v6, 0, lo, hi), _atom(state, v6, 2, lo, hi))
    else:
        raise state.error(f"'{direction}' is not a valid qualifier for 'port'")
    field = 6 if v6 else 9
    b0 = state.cmp(Rel.NET, field, 1, protos[0])
    for proto in protos[1:]:
        b0 = or_(b0, state.cmp(Rel.NET, field, 1, proto))
    if not v6:
        b0 = and_(b0, gen_ipfrag(state))
    return and_(b0, b1)


def _port_one(state: CodegenState, v6: bool, lo: int, hi: int, proto: str, direction: str) -> Cond:
    ethertype = link.ETHERTYPE_IPV6 if v6 else link.ETHERTYPE_IP
    protos = (TRANSPORTS[proto],) if proto in TRANSPORTS else (6, 17, 132)
    b1 = _portop(state, v6, lo, hi, protos, direction)
    return and_(link.gen_linktype(state, ethertype), b1)  # the link type last, as master


def gen_port(
    state: CodegenState, lo: int, hi: int, proto: str, direction: str, family: str = "any"
) -> Cond:
    """``[tcp|udp|sctp] [dir] port N`` / ``portrange LO-HI``; ``family`` ip, ip6 or any."""
    if family == "ip":
        return _port_one(state, False, lo, hi, proto, direction)
    if family == "ip6":
        return _port_one(state, True, lo, hi, proto, direction)
    b4 = _port_one(state, False, lo, hi, proto, direction)
    return or_(_port_one(state, True, lo, hi, proto, direction), b4)
