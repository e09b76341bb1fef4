"""SunATM: the ATM pseudo-header, its primitives, and LAN emulation.

A ``DLT_SUNATM`` frame is a 4-byte pseudo-header (flags whose low nibble is the payload
type: 1 LANE, 2 LLC; the VPI; the 16-bit VCI) followed by an AAL5 PDU.  Without further
qualification the PDU is taken as LLC-encapsulated, so "network protocol is X" is
"payload type LLC and the LLC/SNAP header says X" (framing ``sunatm``).

* ``vpi``/``vci`` compare the header fields with any relation, ``metac``/``bcc``/
  ``oamf4sc``/``oamf4ec``/``sc``/``ilmic`` are VPI 0 with a well-known VCI, ``oam``/
  ``oamf4`` VPI 0 and VCI 3 or 4, ``connectmsg``/``metaconnect`` Q.2931 call set-up and
  teardown messages (the message type byte of the PDU) on the signalling circuits.
* ``lane`` tests for a LANE payload and, like libpcap, switches everything generated
  after it to Ethernet behind the 2-byte LE header (row :data:`LANE`): protocol and MAC
  tests then also check that the frame is not an LE control frame (``ldh [4] != 0xff00``).
  As in libpcap master the link type is then Ethernet, so ATM primitives after ``lane``
  are refused (1.10.3 compiled them, against the shifted header).
* ``llc`` is "payload type LLC" (Ethernet's 802.3 test after ``lane``).

Elsewhere these primitives are refused with libpcap's messages.
"""

from __future__ import annotations

from typing import Any

from bpfc import ast
from bpfc.cfg import Cond, and_, not_, or_
from bpfc.codegen import decnet_osi_llc, link
from bpfc.codegen.mtp import relop_jump
from bpfc.codegen.state import CodegenState, Offset, Rel
from bpfc.isa.insn import JmpOp
from bpfc.linktypes.pflog_atm_ss7 import (
    LANE,
    SUNATM_PAYLOAD,
    SUNATM_PROTO,
    SUNATM_VCI,
    SUNATM_VPI,
)

PT_LANE, PT_LLC = 0x01, 0x02  # payload types (low nibble of the flags byte)
PT_MASK = 0x0F
LE_CONTROL = 0xFF00  # first 16 bits of an LE control frame

#: well-known VCIs on VPI 0
VCI_METAC, VCI_BCC, VCI_OAMF4SC, VCI_OAMF4EC, VCI_SC, VCI_ILMIC = 1, 2, 3, 4, 5, 16
CIRCUITS = {
    "metac": VCI_METAC, "bcc": VCI_BCC, "oamf4sc": VCI_OAMF4SC, "oamf4ec": VCI_OAMF4EC,
    "sc": VCI_SC, "ilmic": VCI_ILMIC,
}  # fmt: skip

#: Q.2931 message types, and where the type byte is in the PDU
SETUP, CALL_PROCEED, CONNECT, CONNECT_ACK, RELEASE, RELEASE_DONE = 5, 2, 7, 15, 0x4D, 0x5A
MSG_TYPE_POS = 5
CONNECT_MSGS = (SETUP, CALL_PROCEED, CONNECT, CONNECT_ACK, RELEASE, RELEASE_DONE)
METACONNECT_MSGS = (SETUP, CALL_PROCEED, CONNECT, RELEASE, RELEASE_DONE)

#: field -> (name in range errors, offset, size, maximum)
FIELDS = {"vpi": ("VPI", SUNATM_VPI, 1, 0xFF), "vci": ("VCI", SUNATM_VCI, 2, 0xFFFF)}

NO_MASK = 0xFFFFFFFF
ETHER_SRC, ETHER_DST = 6, 0


def require_atm(state: CodegenState, word: str, node: Any) -> None:
    """libpcap's refusal of an ATM primitive off SunATM (and after ``lane``)."""
    if state.link.framing != "sunatm":
        raise state.error(f"'{word}' supported only on SUNATM", node.error_span)


def gen_prototype(state: CodegenState, payload_type: int) -> Cond:
    return state.mcmp(Rel.LINKHDR, SUNATM_PROTO, 1, payload_type, PT_MASK)


def gen_field(state: CodegenState, field: str, op: str, value: int, node: Any = None) -> Cond:
    """``vpi``/``vci`` ``op value``."""
    require_atm(state, field, node)
    jump, reverse = relop_jump(state, op, node)
    name, offset, size, limit = FIELDS[field]
    if value > limit:
        raise state.error(f"{name} {value} greater than maximum {limit}", node.error_span)
    return state.ncmp(Rel.LINKHDR, offset, size, NO_MASK, jump, reverse, value)


def _circuit(state: CodegenState, vci: int) -> Cond:
    """VPI 0, VCI ``vci``."""
    b0 = gen_field(state, "vpi", "=", 0)
    return and_(b0, gen_field(state, "vci", "=", vci))


def _messages(state: CodegenState, types: tuple[int, ...]) -> Cond:
    """The PDU is one of these Q.2931 messages (the last one is tested first)."""

    def is_msg(msg: int) -> Cond:
        return state.cmp(Rel.LINKHDR, SUNATM_PAYLOAD + MSG_TYPE_POS, 1, msg)

    result = or_(is_msg(types[0]), is_msg(types[1]))
    for msg in types[2:]:
        result = or_(is_msg(msg), result)
    return result


def _lane(state: CodegenState) -> Cond:
    """A LANE payload; from here on the frame is Ethernet behind the LE header."""
    b = gen_prototype(state, PT_LANE)
    state.link = LANE
    state.off_linkhdr = Offset(LANE.off_linkhdr)
    state.off_linktype = Offset(LANE.off_linktype or 0)
    state.off_linkpl = Offset(LANE.off_linkpl)
    state.off_nl, state.off_nl_nosnap = LANE.off_nl, LANE.off_nl_nosnap
    return b


def gen_atm_field(state: CodegenState, node: ast.AtmField) -> Cond:
    return gen_field(state, node.field, node.op, node.value, node)


def gen_atm_type(state: CodegenState, node: ast.AtmType) -> Cond:
    """``lane`` and the signalling/OAM circuits."""
    require_atm(state, node.name, node)
    if node.name == "lane":
        return _lane(state)
    vci = CIRCUITS.get(node.name)
    if vci is None:
        raise state.error(f"unknown ATM type '{node.name}'", node.error_span)
    return _circuit(state, vci)


def gen_atm_multi_type(state: CodegenState, node: ast.AtmMultiType) -> Cond:
    """``oam``/``oamf4``, ``connectmsg``, ``metaconnect``."""
    require_atm(state, node.name, node)
    if node.name in ("oam", "oamf4"):
        b0 = gen_field(state, "vci", "=", VCI_OAMF4SC)
        b1 = or_(b0, gen_field(state, "vci", "=", VCI_OAMF4EC))
        return and_(gen_field(state, "vpi", "=", 0), b1)
    if node.name == "connectmsg":
        b1 = _messages(state, CONNECT_MSGS)
        return and_(_circuit(state, VCI_SC), b1)
    if node.name == "metaconnect":
        b1 = _messages(state, METACONNECT_MSGS)
        return and_(_circuit(state, VCI_METAC), b1)
    raise state.error(f"unknown ATM type '{node.name}'", node.error_span)


# -- framings: LLC-encapsulated SunATM, and LANE Ethernet -----------------------------------


def _check_sap(state: CodegenState, proto: int) -> None:
    if 255 < proto <= link.ETHERMTU:
        raise state.error(f"LLC DSAP {proto} greater than maximum 255")


def gen_sunatm_linktype(state: CodegenState, proto: int) -> Cond:
    """Payload type LLC and the LLC (+SNAP) header announces ``proto``."""
    _check_sap(state, proto)
    b0 = gen_prototype(state, PT_LLC)
    return and_(b0, link.LINKTYPE_GENERATORS["llc"](state, proto))


def gen_not_le_control(state: CodegenState) -> Cond:
    """The LANE frame is data, not an LE control frame."""
    return not_(state.cmp(Rel.PACKET, SUNATM_PAYLOAD, 2, LE_CONTROL))


def gen_lane_linktype(state: CodegenState, proto: int) -> Cond:
    _check_sap(state, proto)
    b0 = gen_not_le_control(state)
    return and_(b0, link.LINKTYPE_GENERATORS["ether"](state, proto))


def _ether_addr(state: CodegenState, offset: int, mac: bytes) -> Cond:
    return state.bcmp(Rel.LINKHDR, offset, mac)


def gen_lane_host(state: CodegenState, mac: bytes, direction: str) -> Cond:
    b1 = gen_not_le_control(state)
    if direction == link.DIR_SRC:
        b0 = _ether_addr(state, ETHER_SRC, mac)
    elif direction == link.DIR_DST:
        b0 = _ether_addr(state, ETHER_DST, mac)
    elif direction == link.DIR_AND:
        b0 = and_(_ether_addr(state, ETHER_SRC, mac), _ether_addr(state, ETHER_DST, mac))
    elif direction == link.DIR_OR:
        b0 = or_(_ether_addr(state, ETHER_SRC, mac), _ether_addr(state, ETHER_DST, mac))
    else:
        raise state.error(f"'{direction}' is not a valid qualifier for 'ether host'")
    return and_(b1, b0)


def gen_lane_broadcast(state: CodegenState) -> Cond:
    b1 = gen_not_le_control(state)
    return and_(b1, _ether_addr(state, ETHER_DST, b"\xff" * 6))


def gen_lane_multicast(state: CodegenState) -> Cond:
    b1 = gen_not_le_control(state)
    b0 = state.ncmp(Rel.LINKHDR, ETHER_DST, 1, NO_MASK, JmpOp.JSET, False, 1)
    return and_(b1, b0)


# -- llc -----------------------------------------------------------------------------------


def gen_llc(state: CodegenState, node: ast.Llc) -> Cond:
    """``llc [kind]``: payload type LLC on SunATM, an 802.3 frame after ``lane``."""
    framing = state.link.framing
    word = decnet_osi_llc.check_llc_kind(state, node.kind, node.error_span)
    if framing == "sunatm":
        b0 = gen_prototype(state, PT_LLC)
    elif framing == "lane":
        b0 = not_(state.cmp_gt(Rel.LINKTYPE, 0, 2, link.ETHERMTU))
        b0 = and_(b0, not_(state.cmp(Rel.LLC, 0, 2, 0xFFFF)))
    else:  # pragma: no cover - dispatch calls this for these two framings only
        raise state.error("'llc' is not supported by bpfc yet", node.error_span)
    return b0 if word is None else and_(b0, decnet_osi_llc.gen_llc_kind(state, word))
