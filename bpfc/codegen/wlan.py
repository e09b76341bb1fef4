"""802.11 primitives: data-frame framing, ``wlan`` addresses, ``type``/``subtype``/``dir``.

Where an 802.11 address is depends on the frame: control frames have no source
address, management frames have SA/DA in fixed slots, and data frames move them
between the four address slots according to the To DS / From DS bits.  A
``wlan src host`` test is therefore a little decision tree over the frame control
field (libpcap's ``gen_wlanhostop``), built here with the same blocks in the same
shape so that unoptimized listings are master's.  All loads are relative to the
802.11 header (``Rel.LINKHDR``), whose offset is variable behind a radio header
(see :mod:`bpfc.codegen.vlhdr`).

The module fills the ``wlan`` entries of :mod:`bpfc.codegen.link`'s framing and
MAC-address tables (a data frame whose LLC/SNAP header says X is "network protocol is
X") and gives :mod:`bpfc.codegen.dispatch` the generators of the
``type``/``subtype``/``dir`` nodes (which give libpcap's refusal on other link types).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bpfc import ast
from bpfc.cfg import Cond, and_, not_, or_, true_cond
from bpfc.codegen import link, messages
from bpfc.codegen.state import CodegenState, Rel
from bpfc.isa.insn import JmpOp

# frame control byte 0: type (mask 0x0c) and subtype (mask 0xf0); byte 1: DS bits
TYPE_MASK, SUBTYPE_MASK, DIR_MASK = 0x0C, 0xF0, 0x03
TYPE_DATA, TYPE_CTL = 0x08, 0x04
SUBTYPE_CTS, SUBTYPE_ACK = 0xC0, 0xD0
TO_DS, FROM_DS = 0x01, 0x02

AddrTest = Callable[[int], Cond]


def _jset(state: CodegenState, offset: int, bits: int) -> Cond:
    return state.ncmp(Rel.LINKHDR, offset, 1, 0xFFFFFFFF, JmpOp.JSET, False, bits)


def gen_data_frame(state: CodegenState) -> Cond:
    """The frame is a data frame (type bits 10)."""
    return state.mcmp(Rel.LINKHDR, 0, 1, TYPE_DATA, TYPE_MASK)


def gen_wlan_linktype(state: CodegenState, proto: int) -> Cond:
    """``wlan`` framing: a data frame whose 802.2 LLC (+SNAP) header announces ``proto``."""
    b0 = gen_data_frame(state)
    return and_(b0, link.LINKTYPE_GENERATORS["llc"](state, proto))


# -- addresses ---------------------------------------------------------------------------


def _src(state: CodegenState, test: AddrTest) -> Cond:
    """SA: none in control frames; slot 2 (offset 10) in management frames; in data
    frames slot 2, 3 (16) or 4 (24) by the From DS / To DS bits."""
    four = and_(_jset(state, 1, TO_DS), test(24))
    three = and_(not_(_jset(state, 1, TO_DS)), test(16))
    b = and_(_jset(state, 1, FROM_DS), or_(three, four))
    b = or_(and_(not_(_jset(state, 1, FROM_DS)), test(10)), b)
    b = and_(_jset(state, 0, TYPE_DATA), b)
    b = or_(and_(not_(_jset(state, 0, TYPE_DATA)), test(10)), b)
    return and_(not_(_jset(state, 0, TYPE_CTL)), b)


def _dst(state: CodegenState, test: AddrTest) -> Cond:
    """DA: none in control frames; slot 1 (offset 4) in management frames; in data
    frames slot 1, or slot 3 (16) when To DS is set."""
    three = and_(_jset(state, 1, TO_DS), test(16))
    one = and_(not_(_jset(state, 1, TO_DS)), test(4))
    b = and_(_jset(state, 0, TYPE_DATA), or_(one, three))
    b = or_(and_(not_(_jset(state, 0, TYPE_DATA)), test(4)), b)
    return and_(not_(_jset(state, 0, TYPE_CTL)), b)


def _not_cts_ack(state: CodegenState) -> Cond:
    """Not a CTS or ACK control frame (those have a single address)."""
    ctl = state.mcmp(Rel.LINKHDR, 0, 1, TYPE_CTL, TYPE_MASK)
    cts = state.mcmp(Rel.LINKHDR, 0, 1, SUBTYPE_CTS, SUBTYPE_MASK)
    ack = state.mcmp(Rel.LINKHDR, 0, 1, SUBTYPE_ACK, SUBTYPE_MASK)
    return not_(and_(ctl, or_(cts, ack)))


def _addr(state: CodegenState, direction: str, test: AddrTest) -> Cond:
    if direction == link.DIR_SRC:
        return _src(state, test)
    if direction == link.DIR_DST:
        return _dst(state, test)
    if direction == link.DIR_OR:
        return or_(_src(state, test), _dst(state, test))
    if direction == link.DIR_AND:
        return and_(_src(state, test), _dst(state, test))
    if direction == "addr1":
        return test(4)
    if direction == "addr2":
        return and_(_not_cts_ack(state), test(10))
    if direction == "addr3":
        return and_(not_(state.mcmp(Rel.LINKHDR, 0, 1, TYPE_CTL, TYPE_MASK)), test(16))
    if direction == "addr4":
        return and_(state.mcmp(Rel.LINKHDR, 1, 1, DIR_MASK, DIR_MASK), test(24))
    if direction == "ra":  # addr1, in frames other than management ones
        return and_(_jset(state, 0, TYPE_DATA), test(4))
    if direction == "ta":  # addr2, in frames other than management, CTS and ACK
        b0 = _jset(state, 0, TYPE_DATA)
        return and_(b0, and_(_not_cts_ack(state), test(10)))
    raise state.error(f"'{direction}' is not a valid qualifier for 'wlan host'")


def gen_wlan_host(state: CodegenState, mac: bytes, direction: str) -> Cond:
    """``wlan [dir] host MAC`` (also ``ether host``/``gateway`` on 802.11 links)."""
    return _addr(state, direction, lambda off: state.bcmp(Rel.LINKHDR, off, mac))


def gen_wlan_broadcast(state: CodegenState) -> Cond:
    return gen_wlan_host(state, b"\xff" * 6, link.DIR_DST)


def gen_wlan_multicast(state: CodegenState) -> Cond:
    return _dst(state, lambda off: _jset(state, off, 0x01))


# -- type / subtype / dir ------------------------------------------------------------------


def _type_value(state: CodegenState, value: int | str, span: Any) -> int:
    from bpfc.names import lookup

    if isinstance(value, int):
        if value & ~TYPE_MASK:
            raise state.error(f"invalid 802.11 type value 0x{value:02x}", span)
        return value
    found = lookup.wlan_type(value)
    if found is None:
        raise state.error(f'unknown 802.11 type name "{value}"', span)
    return found


def _subtype_value(state: CodegenState, type_: int, value: int | str, span: Any) -> int:
    from bpfc.names import lookup, tables

    if isinstance(value, int):
        if value & ~SUBTYPE_MASK:
            raise state.error(f"invalid 802.11 subtype value 0x{value:02x}", span)
        return value
    if type_ not in tables.WLAN_SUBTYPES:
        raise state.error("unknown 802.11 type", span)
    found = lookup.wlan_subtype(value, type_)
    if found is None:
        raise state.error(f'unknown 802.11 subtype name "{value}"', span)
    return found


def _require_wlan(state: CodegenState, what: str, span: Any) -> None:
    if state.link.framing != "wlan":
        raise state.error(messages.not_supported_on(what, state.link), span)


def gen_type(state: CodegenState, node: ast.WlanType) -> Cond:
    span = node.error_span
    value = _type_value(state, node.type, span)
    mask = TYPE_MASK
    if node.subtype is not None:
        value |= _subtype_value(state, value, node.subtype, span)
        mask |= SUBTYPE_MASK
    _require_wlan(state, "type/subtype", span)
    return state.mcmp(Rel.LINKHDR, 0, 1, value, mask)


def check_type_read(state: CodegenState, node: ast.WlanTypeRead) -> Cond:
    """The type of an unfinished ``type T subtype``: only its value is judged."""
    _type_value(state, node.type, node.error_span)
    return true_cond()


def gen_subtype(state: CodegenState, node: ast.WlanSubtype) -> Cond:
    from bpfc.names import lookup

    span = node.error_span
    value = lookup.wlan_subtype(node.subtype)
    if value is None:
        raise state.error("unknown 802.11 type name", span)
    _require_wlan(state, "type/subtype", span)
    return state.mcmp(Rel.LINKHDR, 0, 1, value, TYPE_MASK | SUBTYPE_MASK)


def gen_dir(state: CodegenState, node: ast.WlanDir) -> Cond:
    from bpfc.names import lookup

    span = node.error_span
    if isinstance(node.dir, int):
        if node.dir > DIR_MASK:
            raise state.error(f"invalid 802.11 direction value {node.dir:#x}", span)
        value = node.dir
    else:
        found = lookup.wlan_dir(node.dir)
        if found is None:
            raise state.error("unknown 802.11 direction", span)
        value = found
    _require_wlan(state, "dir", span)
    return state.mcmp(Rel.LINKHDR, 1, 1, value, DIR_MASK)
