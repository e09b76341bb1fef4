"""Capture metadata: ``inbound``/``outbound`` and ``ifindex N``.

Link types whose header records the direction or interface (Linux cooked, SLIP,
pppd, ipnet...) test that field (``dir_field``/``ifindex_field`` in
:mod:`bpfc.linktypes`).  Otherwise only a live Linux socket knows, through the
kernel's ancillary loads (``ldh [type]``, ``ld [ifidx]``), which ``linux=True``
selects; offline (``pcap_open_dead``) libpcap refuses, and so do we.
"""

from __future__ import annotations

from bpfc.cfg import Cond, jmp_block, not_
from bpfc.codegen import messages
from bpfc.codegen.state import CodegenState, Rel, ld
from bpfc.isa.insn import Class, JmpOp, Mode, Size
from bpfc.isa.opcodes import SKF_AD, SKF_AD_OFF

SKF_AD_PKTTYPE = SKF_AD["pkttype"]
SKF_AD_IFINDEX = SKF_AD["ifindex"]
PACKET_OUTGOING = 4


def gen_direction(state: CodegenState, outbound: bool) -> Cond:
    """``outbound`` (or ``inbound`` when ``outbound`` is false)."""
    word = "outbound" if outbound else "inbound"
    field = state.link.dir_field
    if field is not None:
        offset, size, inbound_value, outbound_value = field
        if inbound_value is None:
            b = state.cmp(Rel.LINKHDR, offset, size, outbound_value)
            return b if outbound else not_(b)
        return state.cmp(Rel.LINKHDR, offset, size, outbound_value if outbound else inbound_value)
    if state.linux:
        load = ld(Class.LD | Mode.ABS | Size.H, SKF_AD_OFF + SKF_AD_PKTTYPE)
        b = jmp_block([load], JmpOp.JEQ, PACKET_OUTGOING)
        return b if outbound else not_(b)
    raise state.error(messages.not_live(word, state.link))


def gen_ifindex(state: CodegenState, index: int) -> Cond:
    """``ifindex N``."""
    field = state.link.ifindex_field
    if field is not None:
        offset, size = field
        return state.cmp(Rel.LINKHDR, offset, size, index)
    if state.linux:
        load = ld(Class.LD | Mode.ABS | Size.W, SKF_AD_OFF + SKF_AD_IFINDEX)
        return jmp_block([load], JmpOp.JEQ, index)
    raise state.error(messages.not_live("ifindex", state.link))
