"""Arithmetic: ``proto[expr:size]`` loads, operators, relations, ``len``, less/greater.

An arithmetic value is an :class:`Arth`: the statements that compute it and store
it in a scratch register, the register, and the protocol checks (a :class:`Cond`)
its packet loads depend on.  A relation compares two values in A and X and ands the
protocol checks in front, as libpcap's ``gen_relation`` does; registers are taken
round robin and freed as soon as a value is consumed, so register numbers in the
listing match libpcap's.
"""

from __future__ import annotations

from dataclasses import dataclass

from bpfc.cfg import Cond, and_, jmp_block, not_
from bpfc.codegen import link, net, transport
from bpfc.codegen.state import SIZES, CodegenState, Offset, ld
from bpfc.isa.insn import AluOp, Class, Insn, JmpOp, Mode, Src

#: operator text -> ALU operation
ALU_OPS = {
    "+": AluOp.ADD,
    "-": AluOp.SUB,
    "*": AluOp.MUL,
    "/": AluOp.DIV,
    "%": AluOp.MOD,
    "&": AluOp.AND,
    "|": AluOp.OR,
    "^": AluOp.XOR,
    "<<": AluOp.LSH,
    ">>": AluOp.RSH,
}

#: relation text -> (jump, reversed)
RELATIONS = {
    ">": (JmpOp.JGT, False),
    ">=": (JmpOp.JGE, False),
    "=": (JmpOp.JEQ, False),
    "==": (JmpOp.JEQ, False),
    "!=": (JmpOp.JEQ, True),
    "<": (JmpOp.JGE, True),
    "<=": (JmpOp.JGT, True),
}

#: link types whose captures start with a radio header (``radio[]``)
RADIO_HEADERS = ("radiotap", "avs", "prism")
LINK_PROTOS = {"link", "ether", "fddi", "tr", "wlan", "ppp", "slip", "radio"}
NET_PROTOS = {
    "ip": link.ETHERTYPE_IP,
    "arp": link.ETHERTYPE_ARP,
    "rarp": link.ETHERTYPE_REVARP,
    "atalk": link.ETHERTYPE_ATALK,
    "decnet": link.ETHERTYPE_DN,
    "sca": 0x6007,
    "lat": 0x6004,
    "moprc": 0x6002,
    "mopdl": 0x6001,
    "ip6": link.ETHERTYPE_IPV6,
}
#: transport protocols indexed after the IPv4 header
TRAN_PROTOS = {
    "tcp": 6,
    "udp": 17,
    "sctp": 132,
    "icmp": 1,
    "igmp": 2,
    "igrp": 9,
    "pim": 103,
    "vrrp": 112,
    "carp": 112,
}


@dataclass
class Arth:
    """A computed value: ``stmts`` leave it in M[``reg``]; ``checks`` guard its loads."""

    stmts: list[Insn]
    reg: int
    checks: Cond | None = None


def _st(reg: int) -> Insn:
    return ld(Class.ST, reg)


def _to_x(a: Arth) -> Insn:
    return ld(Class.LDX | Mode.MEM, a.reg)


def _to_a(a: Arth) -> Insn:
    return ld(Class.LD | Mode.MEM, a.reg)


def gen_loadi(state: CodegenState, value: int) -> Arth:
    reg = state.alloc_reg()
    return Arth([ld(Class.LD | Mode.IMM, value), _st(reg)], reg)


def gen_loadlen(state: CodegenState) -> Arth:
    reg = state.alloc_reg()
    return Arth([ld(Class.LD | Mode.LEN), _st(reg)], reg)


def _and_checks(a: Cond | None, b: Cond | None) -> Cond | None:
    if a is None:
        return b
    if b is None:
        return a
    return and_(a, b)


def gen_load(state: CodegenState, proto: str, index: Arth, size: int) -> Arth:
    """``proto[index:size]``."""
    if size not in SIZES:
        raise state.error("data size must be 1, 2, or 4")
    sz = SIZES[size]
    reg = state.alloc_reg()
    state.free_reg(index.reg)
    stmts = list(index.stmts)
    checks = index.checks
    if proto == "radio":
        if state.link.vlhdr not in RADIO_HEADERS:
            raise state.error("radio information not present in capture")
        stmts += [_to_x(index), ld(Class.LD | Mode.IND | sz, 0)]
    elif proto in LINK_PROTOS:
        stmts += _indexed(state.off_linkhdr, index, 0, sz)
    elif proto in NET_PROTOS:
        stmts += _indexed(state.off_linkpl, index, state.off_nl, sz)
        check = link.gen_linktype(state, NET_PROTOS[proto])
        checks = _and_checks(checks, check) if checks is None else and_(checks, check)
    elif proto in TRAN_PROTOS:
        stmts += state.loadx_iphdrlen()
        stmts += [
            _to_a(index),
            ld(Class.ALU | AluOp.ADD | Src.X),
            ld(Class.MISC | 0x00),
            ld(Class.LD | Mode.IND | sz, state.off_linkpl.constant + state.off_nl),
        ]
        b = and_(net.gen_ip_proto(state, TRAN_PROTOS[proto]), transport.gen_ipfrag(state))
        if checks is not None:
            b = and_(checks, b)
        checks = b
    elif proto == "icmp6":  # libpcap makes the checks first (register order)
        b = and_(
            link.gen_linktype(state, link.ETHERTYPE_IPV6),
            state.cmp(net.Rel.NET, 6, 1, 58),
        )
        checks = b if checks is None else and_(checks, b)
        stmts += _indexed(state.off_linkpl, index, state.off_nl + 40, sz)
    else:
        raise state.error(f"'{proto}' does not support the index operation")
    stmts.append(_st(reg))
    return Arth(stmts, reg, checks)


def _indexed(base: Offset, index: Arth, k: int, sz: int) -> list[Insn]:
    """Load at ``k`` + index past ``base``; a variable base adds its register to X."""
    if base.reg is None:
        return [_to_x(index), ld(Class.LD | Mode.IND | sz, base.constant + k)]
    return [
        ld(Class.LDX | Mode.MEM, base.reg),
        _to_a(index),
        ld(Class.ALU | AluOp.ADD | Src.X),
        ld(Class.MISC | 0x00),
        ld(Class.LD | Mode.IND | sz, base.constant + k),
    ]


def gen_arth(state: CodegenState, op: str, a0: Arth, a1: Arth) -> Arth:
    """``a0 op a1``."""
    code = ALU_OPS[op]
    lead = _leading_const(a1)
    if code in (AluOp.DIV, AluOp.MOD) and lead == 0:
        raise state.error("division by zero" if code == AluOp.DIV else "modulus by zero")
    if code in (AluOp.LSH, AluOp.RSH) and lead is not None and lead > 31:
        raise state.error("shift by more than 31 bits")
    stmts = a0.stmts + a1.stmts + [_to_x(a1), _to_a(a0), ld(Class.ALU | code | Src.X)]
    state.free_reg(a0.reg)
    state.free_reg(a1.reg)
    reg = state.alloc_reg()
    stmts.append(_st(reg))
    # libpcap keeps only the left operand's protocol checks here (the right one's are
    # dropped: ``ip[1] + tcp[2] = 3`` does not test for TCP); same verdicts on purpose
    return Arth(stmts, reg, a0.checks)


def gen_neg(state: CodegenState, a: Arth) -> Arth:
    stmts = a.stmts + [_to_a(a), ld(Class.ALU | AluOp.NEG), _st(a.reg)]
    return Arth(stmts, a.reg, a.checks)


def _leading_const(a: Arth) -> int | None:
    """The constant the operand's code starts by loading, if it does: libpcap judges
    division, modulus and shift operands by that first statement, so ``x >> -(40)``,
    ``x / (0 + len)`` and ``x >> ip[40]`` (the index is loaded first) are refused too."""
    if a.stmts and a.stmts[0].code == Class.LD | Mode.IMM:
        return a.stmts[0].k
    return None


def gen_relation(state: CodegenState, rel: str, a0: Arth, a1: Arth) -> Cond:
    """``a0 rel a1``: the value test, behind the protocol checks of both sides (the
    right operand's first, as libpcap orders them)."""
    op, reverse = RELATIONS[rel]
    stmts = a0.stmts + a1.stmts + [_to_x(a1), _to_a(a0)]
    b = jmp_block(stmts, op, 0, Src.X)
    if reverse:
        b = not_(b)
    state.free_reg(a0.reg)
    state.free_reg(a1.reg)
    # libpcap ands the left side's checks in front of the test, then the right side's
    # in front of that: the right operand's protocol is tested first
    if a0.checks is not None:
        b = and_(a0.checks, b)
    if a1.checks is not None:
        b = and_(a1.checks, b)
    return b


def gen_len(state: CodegenState, op: int, value: int, reverse: bool) -> Cond:
    b = jmp_block([ld(Class.LD | Mode.LEN)], op, value)
    return not_(b) if reverse else b


def gen_less(state: CodegenState, value: int) -> Cond:
    return gen_len(state, JmpOp.JGT, value, True)


def gen_greater(state: CodegenState, value: int) -> Cond:
    return gen_len(state, JmpOp.JGE, value, False)
