"""One-byte link addresses: ARCnet (BSD and Linux headers) and BACnet MS/TP.

These link types address stations with a single byte, written ``$xx`` in filters
(``link host $0e``, ``link src $8c``).  Their MAC layouts are
:data:`MAC8_LAYOUTS`, keyed by the row's ``mac`` (source and destination offsets, the
broadcast address, whether ``multicast`` exists); ARCnet broadcast is destination 0,
BACnet MS/TP broadcast is 0xff, and ARCnet has no multicast of its own, so
``multicast`` means broadcast there, as in libpcap.

ARCnet's protocol id byte follows RFC 1201 only: libpcap master stopped matching the
RFC 1051 ids because the rest of its code reads RFC 1201 offsets.

The checks on ``$xx`` ids come in libpcap's order: 802.11 directions, then the type
qualifier (only ``host``), then the protocol qualifier (only ``link``), then the link
type.  :mod:`bpfc.codegen.dispatch` asks :func:`claims` and :func:`gen_mac8_broadcast`
first for primitives, ``broadcast`` and ``multicast``.
"""

from __future__ import annotations

from bpfc import ast
from bpfc.cfg import Cond, and_, false_cond, or_
from bpfc.codegen import link, messages
from bpfc.codegen.state import CodegenState, Rel

#: MAC layouts (a row's ``mac``) with one-byte addresses: layout -> (source offset,
#: destination offset, broadcast address, whether ``multicast`` is supported); the
#: one-byte counterpart of :data:`bpfc.codegen.link.MAC_LAYOUTS`
MAC8_LAYOUTS: dict[str, tuple[int, int, int, bool]] = {
    "arcnet": (0, 1, 0x00, True),
    "bacnet": (4, 3, 0xFF, False),
}

#: ethertype -> RFC 1201 ARCnet protocol id
ARCNET_TYPES = {
    link.ETHERTYPE_IP: 0xD4,
    link.ETHERTYPE_ARP: 0xD5,
    link.ETHERTYPE_REVARP: 0xD6,
    link.ETHERTYPE_ATALK: 0xDD,
    link.ETHERTYPE_IPV6: 0xC4,
}


def gen_arcnet_linktype(state: CodegenState, proto: int) -> Cond:
    """The "network protocol is ``proto``" test on ARCnet: its one-byte protocol id."""
    arctype = ARCNET_TYPES.get(proto)
    if arctype is None:
        return false_cond()
    return state.cmp(Rel.LINKTYPE, 0, 1, arctype)


def gen_mac8_host(state: CodegenState, addr: int, direction: str) -> Cond:
    """``link [dir] host $xx`` on a link type with one-byte addresses."""
    src, dst, _, _ = MAC8_LAYOUTS[state.link.mac or ""]

    def at(offset: int) -> Cond:
        return state.cmp(Rel.LINKHDR, offset, 1, addr)

    if direction == link.DIR_SRC:
        return at(src)
    if direction == link.DIR_DST:
        return at(dst)
    if direction == link.DIR_AND:
        return and_(at(src), at(dst))
    return or_(at(src), at(dst))


def gen_arcnet_id(state: CodegenState, node: ast.Primitive) -> Cond:
    """A ``$xx`` primitive: qualifier checks, then the host test where addresses are 8-bit."""
    q = node.qual
    span = node.error_span
    if q.kind not in (None, "host"):
        raise state.error(messages.invalid_qual(q.kind, "$XX"), span)
    if q.proto != "link":  # libpcap master: "host $XX" alone is refused too
        raise state.error("'link' is the only valid proto qualifier for 'host $XX'", span)
    if state.link.mac not in MAC8_LAYOUTS:
        raise state.error(messages.not_supported_on("link host $XX", state.link), span)
    assert isinstance(node.id, ast.ArcnetId)
    return gen_mac8_host(state, node.id.value, q.dir or link.DIR_OR)


def claims(node: ast.Primitive) -> bool:
    """Whether ``node`` is a ``$xx`` id this module generates: one with qualifiers in
    force and no 802.11 direction (those the identifier code refuses first, as libpcap)."""
    q = node.qual
    return isinstance(node.id, ast.ArcnetId) and not q.undefined and q.dir not in link.WLAN_DIRS


def gen_mac8_broadcast(state: CodegenState, multicast: bool) -> Cond | None:
    """``broadcast`` (or ``multicast``) on a link type with one-byte addresses: the
    destination is the broadcast address; ``None`` where the row's MAC layout is not
    one-byte (or has no multicast), for the generic link-layer code."""
    layout = MAC8_LAYOUTS.get(state.link.mac or "")
    if layout is None or (multicast and not layout[3]):
        return None
    return state.cmp(Rel.LINKHDR, layout[1], 1, layout[2])
