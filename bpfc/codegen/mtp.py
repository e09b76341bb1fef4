"""SS7: MTP2 signal unit types and MTP3 routing-label fields.

On ``DLT_MTP2`` (and ``MTP2_WITH_PHDR``, ``ERF``, where a pseudo-header shifts
everything; offsets in the row's ``ss7`` field):

* ``fisu``/``lssu``/``msu`` test the 6-bit length indicator (0, 1-2, 3 or more);
  ``hfisu``/``hlssu``/``hmsu`` the 9-bit one of high-speed links (Q.703 Annex A), in
  the top bits of a 16-bit word;
* ``sio`` is the service information octet; ``opc``/``dpc``/``sls`` are the 14-, 14-
  and 4-bit fields of the little-endian routing label (DPC first).  Values are
  compared in place: the constant and the mask are byte-swapped (and shifted) to where
  the field sits in the loaded big-endian word, so ``dpc`` is a masked 16-bit load,
  ``opc`` (which straddles three bytes) a masked 32-bit one, ``sls`` the high nibble
  of a byte.  The ``h`` forms are 3 bytes further on.

Relations follow libpcap's grammar: ``=``/``>``/``>=`` jump as written, ``<=``/``<``/
``!=`` use ``jgt``/``jge``/``jeq`` with the exits swapped (libpcap master; 1.10.3
compiled ``!=`` as ``==`` here).  Out-of-range values and other link types are refused
with libpcap's messages, the link-type check first.
"""

from __future__ import annotations

from typing import Any

from bpfc import ast
from bpfc.cfg import Cond, and_
from bpfc.codegen.state import CodegenState, Rel
from bpfc.isa.insn import JmpOp
from bpfc.linktypes.row import SS7Offsets

#: relation as written -> (jump, whether the exits are swapped)
RELOP_JUMPS: dict[str, tuple[int, bool]] = {
    "=": (JmpOp.JEQ, False),
    "==": (JmpOp.JEQ, False),
    ">": (JmpOp.JGT, False),
    ">=": (JmpOp.JGE, False),
    "<=": (JmpOp.JGT, True),
    "<": (JmpOp.JGE, True),
    "!=": (JmpOp.JEQ, True),
}

HSL_SHIFT = 3  # the high-speed-link header is 3 bytes longer before the SIO
SIO_MAX, PC_MAX, SLS_MAX = 0xFF, 0x3FFF, 0xF
LI_MASK, LI_HSL_MASK = 0x3F, 0xFF80
NO_MASK = 0xFFFFFFFF


def relop_jump(state: CodegenState, op: str, node: Any) -> tuple[int, bool]:
    try:
        return RELOP_JUMPS[op]
    except KeyError:
        raise state.error(f"unknown relation '{op}'", node.error_span) from None


def require_ss7(state: CodegenState, word: str, node: Any) -> SS7Offsets:
    """The SS7 offsets of this link type, or libpcap's refusal."""
    offsets = state.link.ss7
    if offsets is None:
        raise state.error(f"'{word}' supported only on SS7", node.error_span)
    return offsets


def swap16(value: int) -> int:
    return int.from_bytes((value & 0xFFFF).to_bytes(2, "little"), "big")


def swap32(value: int) -> int:
    return int.from_bytes((value & 0xFFFFFFFF).to_bytes(4, "little"), "big")


def _li(state: CodegenState, offset: int, size: int, mask: int, op: int, rev: bool, v: int) -> Cond:
    return state.ncmp(Rel.PACKET, offset, size, mask, op, rev, v)


def gen_mtp2_type(state: CodegenState, node: ast.Mtp2Type) -> Cond:
    """``fisu``, ``lssu``, ``msu`` and their high-speed ``h`` forms."""
    offsets = require_ss7(state, node.name, node)
    high = node.name.startswith("h")
    kind = node.name[1:] if high else node.name
    if high:
        offset, size, mask, lssu_max = offsets.li_hsl, 2, LI_HSL_MASK, 0x0100
    else:
        offset, size, mask, lssu_max = offsets.li, 1, LI_MASK, 2
    if kind == "fisu":
        return _li(state, offset, size, mask, JmpOp.JEQ, False, 0)
    if kind == "msu":
        return _li(state, offset, size, mask, JmpOp.JGT, False, lssu_max)
    if kind == "lssu":  # 0 < li <= the LSSU maximum
        b0 = _li(state, offset, size, mask, JmpOp.JGT, True, lssu_max)
        b1 = _li(state, offset, size, mask, JmpOp.JGT, False, 0)
        return and_(b1, b0)
    raise state.error(f"unknown MTP2 signal unit type '{node.name}'", node.error_span)


def gen_mtp3_field(state: CodegenState, field: str, op: str, value: int, node: Any) -> Cond:
    """``sio``/``opc``/``dpc``/``sls`` (or ``hsio``...) ``op value``."""
    offsets = require_ss7(state, field, node)
    jump, reverse = relop_jump(state, op, node)
    high = field.startswith("h")
    base = field[1:] if high else field
    shift = HSL_SHIFT if high else 0
    limit = {"sio": SIO_MAX, "opc": PC_MAX, "dpc": PC_MAX, "sls": SLS_MAX}.get(base)
    if limit is None:
        raise state.error(f"unknown MTP3 field '{field}'", node.error_span)
    if value > limit:
        raise state.error(f"{field} {value} greater than maximum {limit}", node.error_span)
    if base == "sio":
        return state.ncmp(Rel.PACKET, offsets.sio + shift, 1, NO_MASK, jump, reverse, value)
    if base == "opc":  # bits 14..27 of the little-endian label
        mask, value = swap32(PC_MAX << 14), swap32(value << 14)
        return state.ncmp(Rel.PACKET, offsets.opc + shift, 4, mask, jump, reverse, value)
    if base == "dpc":  # bits 0..13
        mask, value = swap16(PC_MAX), swap16(value)
        return state.ncmp(Rel.PACKET, offsets.dpc + shift, 2, mask, jump, reverse, value)
    # sls: bits 28..31, the high nibble of the label's last byte
    return state.ncmp(Rel.PACKET, offsets.sls + shift, 1, SLS_MAX << 4, jump, reverse, value << 4)


def gen_mtp3(state: CodegenState, node: ast.Mtp3Field) -> Cond:
    return gen_mtp3_field(state, node.field, node.op, node.value, node)
