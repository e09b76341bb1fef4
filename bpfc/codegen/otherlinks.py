"""Code generation for the less common link types of :mod:`bpfc.linktypes_more`.

* Framings: ``ethertype`` (IP over FireWire, Symantec firewall: a plain ethertype),
  ``frelay`` (Q.933 NLPIDs: IPv4 ``0x03cc``, IPv6 ``0x038e``, OSI ``0x0381``-``0x0383``),
  ``juniper`` (libpcap only checks the "MGC" magic, for every protocol), ``ltalk``
  (AppleTalk and nothing else), and ARCnet's (in :mod:`bpfc.codegen.arcnet`).
* ``iso proto N`` on Frame Relay: the NLPID sits in the Q.933 header itself.
* ``inbound``/``outbound`` read masked bits of a header field on DSA tags (Broadcom
  opcode, Marvell To_CPU/From_CPU) and Juniper (the flags byte after the magic).
* ``llc`` always holds on LLC-encapsulated ATM.
* ``vlan``/``mpls`` (:mod:`bpfc.codegen.encap`) on a link type where libpcap master
  refuses them get its message.

Handlers wrap the ones already registered and fall back to them for other link types.
"""

from __future__ import annotations

from typing import Any

from bpfc import ast
from bpfc.cfg import Cond, false_cond, or_, true_cond

# arcnet and encap register their handlers on import (encap before the refusals below)
from bpfc.codegen import arcnet, encap, legacy, link, messages  # noqa: F401
from bpfc.codegen.dispatch import HANDLERS, Handler, handler
from bpfc.codegen.state import CodegenState, Rel
from bpfc.linktypes_more import DIRECTION_MASKS, MPLS_LINKTYPES, VLAN_LINKTYPES

JUNIPER_MAGIC = 0x4D474300  # "MGC" and a flags byte
JUNIPER_MAGIC_MASK = 0xFFFFFF00

#: Q.933 NLPIDs, after the UI control byte (0x03)
NLPID_IP, NLPID_IP6 = 0xCC, 0x8E
NLPID_CLNP, NLPID_ESIS, NLPID_ISIS = 0x81, 0x82, 0x83
FRELAY_NLPID_OFFSET = 2


def _frelay_nlpid(state: CodegenState, nlpid: int) -> Cond:
    return state.cmp(Rel.LINKHDR, FRELAY_NLPID_OFFSET, 2, 0x0300 | nlpid)


def _frelay(state: CodegenState, proto: int) -> Cond:
    if proto == link.ETHERTYPE_IP:
        return _frelay_nlpid(state, NLPID_IP)
    if proto == link.ETHERTYPE_IPV6:
        return _frelay_nlpid(state, NLPID_IP6)
    if proto == link.LLCSAP_ISONS:
        result = or_(_frelay_nlpid(state, NLPID_CLNP), _frelay_nlpid(state, NLPID_ESIS))
        return or_(result, _frelay_nlpid(state, NLPID_ISIS))
    return false_cond()


def _juniper(state: CodegenState, proto: int) -> Cond:
    return state.mcmp(Rel.LINKHDR, 0, 4, JUNIPER_MAGIC, JUNIPER_MAGIC_MASK)


def _ltalk(state: CodegenState, proto: int) -> Cond:
    return true_cond() if proto == link.ETHERTYPE_ATALK else false_cond()


link.LINKTYPE_GENERATORS.update({"frelay": _frelay, "juniper": _juniper, "ltalk": _ltalk})
legacy.ISO_PROTO_GENERATORS["frelay"] = _frelay_nlpid


def _span(node: Any) -> Any:
    span = getattr(node, "span", None)
    return None if span == ast.NO_SPAN else span


def _wrap(node_type: type, fn: Any) -> None:
    """Register ``fn(state, node, previous)`` in front of the current handler."""
    previous: Handler | None = HANDLERS.get(node_type)

    def wrapped(state: CodegenState, node: Any) -> Cond:
        return fn(state, node, previous)

    handler(node_type)(wrapped)


def _direction(outbound: bool) -> Any:
    def gen(state: CodegenState, node: Any, previous: Handler) -> Cond:
        spec = DIRECTION_MASKS.get(state.link.name)
        if spec is None:
            return previous(state, node)
        offset, inbound_bits, outbound_bits = spec
        mask, value = outbound_bits if outbound else inbound_bits
        return state.mcmp(Rel.LINKHDR, offset, 1, value, mask)

    return gen


def _encapsulation(word: str, supported: frozenset[str], first: Any = None) -> Any:
    """libpcap's refusal of ``vlan``/``mpls`` on link types without them (after the
    ``first`` check, which libpcap makes before); elsewhere the handler registered before
    (none yet: "not supported by bpfc yet")."""

    def gen(state: CodegenState, node: Any, previous: Handler | None) -> Cond:
        if first is not None:
            first(state, _span(node))
        if state.link.name not in supported:
            raise state.error(messages.not_supported_on(word, state.link), _span(node))
        if previous is None:
            raise state.error(f"'{word}' is not supported by bpfc yet", _span(node))
        return previous(state, node)

    return gen


_wrap(ast.Inbound, _direction(outbound=False))
_wrap(ast.Outbound, _direction(outbound=True))
_wrap(ast.Vlan, _encapsulation("vlan", VLAN_LINKTYPES, encap.check_vlan_after_mpls))
_wrap(ast.Mpls, _encapsulation("mpls", MPLS_LINKTYPES))
