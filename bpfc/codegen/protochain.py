"""``[ip|ip6] protochain N``: walk the IPv6 extension headers (and AH) looking for N.

libpcap generates one block whose statements contain a loop: load the next-header
value, compare with N, skip hop-by-hop/destination/routing/fragment headers (IPv6)
and AH headers, jump back.  We build the same statements, with the jumps between
them as :class:`~bpfc.cfg.InnerJump` (forward targets by index, the backward ``ja``
by relative offset), so the listing is libpcap master's.  The backward jump makes
the program one that no cBPF validator (libpcap's or Linux's) accepts.
"""

from __future__ import annotations

from bpfc.cfg import Cond, InnerJump, and_, jmp_block, or_
from bpfc.codegen import link
from bpfc.codegen.state import CodegenState, ld
from bpfc.isa.insn import AluOp, Class, JmpOp, Mode, Size, Src
from bpfc.isa.opcodes import JA

IPPROTO_HOPOPTS = 0
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_AH = 51
IPPROTO_NONE = 59
IPPROTO_DSTOPTS = 60

JEQ = Class.JMP | JmpOp.JEQ
TAX = Class.MISC | 0x00
TXA = Class.MISC | 0x80


def gen_protochain(state: CodegenState, number: int, proto: str | None) -> Cond:
    """``protochain N`` over IPv4 (``proto`` "ip"), IPv6 ("ip6") or both (None)."""
    reg = state.alloc_reg()  # libpcap takes a register even for the combined case
    if proto is None:
        b0 = gen_protochain(state, number, "ip")
        return or_(b0, gen_protochain(state, number, "ip6"))
    if state.off_linkpl.reg is not None:
        raise state.error("'protochain' not supported with variable length headers")
    # the loop is not a DAG: libpcap turns its optimizer off for the whole filter, even
    # where a constant operand drops this code (bpfc.opt.libpcap_model reads the flag)
    state.extra["no_optimize"] = True
    head = state.off_linkpl.constant + state.off_nl
    v6 = proto == "ip6"
    b0 = link.gen_linktype(state, link.ETHERTYPE_IPV6 if v6 else link.ETHERTYPE_IP)

    # statements with symbolic jump targets, resolved to indices at the end
    stmts: list = []
    fixups: list[tuple[int, str | None, str | None]] = []
    labels: dict[str, int] = {}

    def emit(insn: object) -> int:
        stmts.append(insn)
        return len(stmts) - 1

    def jeq(k: int, jt: str | None, jf: str | None) -> None:
        fixups.append((emit(InnerJump(JEQ, k)), jt, jf))

    if v6:
        emit(ld(Class.LD | Mode.ABS | Size.B, head + 6))
        emit(ld(Class.LDX | Mode.IMM, 40))
    else:
        emit(ld(Class.LD | Mode.ABS | Size.B, head + 9))
        emit(ld(Class.LDX | Mode.MSH | Size.B, head))
    labels["again"] = len(stmts)
    jeq(number, "end", None)
    jeq(IPPROTO_NONE, "end", None)
    if v6:
        for ext in (IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING):
            jeq(ext, "v6advance", None)
        jeq(IPPROTO_FRAGMENT, "v6advance", "ahcheck")
        labels["v6advance"] = len(stmts)
        emit(ld(Class.LD | Mode.IND | Size.B, head))
        emit(ld(Class.ST, reg))
        emit(ld(Class.LD | Mode.IND | Size.B, head + 1))
        emit(ld(Class.ALU | AluOp.ADD, 1))
        emit(ld(Class.ALU | AluOp.MUL, 8))
        emit(ld(Class.ALU | AluOp.ADD | Src.X))
        emit(ld(TAX))
        emit(ld(Class.LD | Mode.MEM, reg))
        _back(stmts, labels["again"])
    else:
        emit(ld(Class.ALU | AluOp.ADD, 0))  # nop: the target of "not IPPROTO_NONE"
    labels["ahcheck"] = len(stmts)
    jeq(IPPROTO_AH, None, "end")
    emit(ld(Class.LD | Mode.IND | Size.B, head))
    emit(ld(Class.ST, reg))
    emit(ld(TXA))
    emit(ld(Class.ALU | AluOp.ADD, 1))
    emit(ld(TAX))
    emit(ld(Class.LD | Mode.IND | Size.B, head))
    emit(ld(Class.ALU | AluOp.ADD, 2))
    emit(ld(Class.ALU | AluOp.MUL, 4))
    emit(ld(TAX))
    emit(ld(Class.LD | Mode.MEM, reg))
    _back(stmts, labels["again"])
    labels["end"] = len(stmts)
    emit(ld(Class.ALU | AluOp.ADD, 0))  # nop: the loop's exit

    for index, jt, jf in fixups:
        jump = stmts[index]
        stmts[index] = jump._replace(
            jt=labels[jt] if jt else index + 1, jf=labels[jf] if jf else index + 1
        )
    state.free_reg(reg)
    return and_(b0, jmp_block(stmts, JmpOp.JEQ, number))


def _back(stmts: list, target: int) -> None:
    """``ja`` back to statement ``target`` (a negative relative offset)."""
    stmts.append(InnerJump(JA, target - len(stmts) - 1))
