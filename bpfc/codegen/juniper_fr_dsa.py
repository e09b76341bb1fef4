"""Code generation for the less common link types of :mod:`bpfc.linktypes.uncommon`.

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

:mod:`bpfc.codegen.dispatch` calls these before the generic code, by link-type row.
"""

from __future__ import annotations

from typing import Any

from bpfc.cfg import Cond, false_cond, or_, true_cond
from bpfc.codegen import link, messages
from bpfc.codegen.state import CodegenState, Rel

JUNIPER_MAGIC = 0x4D474300  # "MGC" and a flags byte
JUNIPER_MAGIC_MASK = 0xFFFFFF00

#: Q.933 NLPIDs, after the UI control byte (0x03)
NLPID_IP, NLPID_IP6 = 0xCC, 0x8E
NLPID_CLNP, NLPID_ESIS, NLPID_ISIS = 0x81, 0x82, 0x83
FRELAY_NLPID_OFFSET = 2


def gen_frelay_nlpid(state: CodegenState, nlpid: int) -> Cond:
    return state.cmp(Rel.LINKHDR, FRELAY_NLPID_OFFSET, 2, 0x0300 | nlpid)


def _frelay(state: CodegenState, proto: int) -> Cond:
    if proto == link.ETHERTYPE_IP:
        return gen_frelay_nlpid(state, NLPID_IP)
    if proto == link.ETHERTYPE_IPV6:
        return gen_frelay_nlpid(state, NLPID_IP6)
    if proto == link.LLCSAP_ISONS:
        result = or_(gen_frelay_nlpid(state, NLPID_CLNP), gen_frelay_nlpid(state, NLPID_ESIS))
        return or_(result, gen_frelay_nlpid(state, NLPID_ISIS))
    return false_cond()


def _juniper(state: CodegenState, proto: int) -> Cond:
    return state.mcmp(Rel.LINKHDR, 0, 4, JUNIPER_MAGIC, JUNIPER_MAGIC_MASK)


def _ltalk(state: CodegenState, proto: int) -> Cond:
    return true_cond() if proto == link.ETHERTYPE_ATALK else false_cond()


#: this module's framings, for ``dispatch.FRAMINGS``
FRAMINGS = {"frelay": _frelay, "juniper": _juniper, "ltalk": _ltalk}


def gen_header_direction(state: CodegenState, outbound: bool) -> Cond | None:
    """``inbound``/``outbound`` from masked bits of the link header (DSA tags, Juniper);
    ``None`` where the row has no such bits, for the metadata test."""
    spec = state.link.dir_bits
    if spec is None:
        return None
    offset, inbound_bits, outbound_bits = spec
    mask, value = outbound_bits if outbound else inbound_bits
    return state.mcmp(Rel.LINKHDR, offset, 1, value, mask)


def check_encapsulation(state: CodegenState, word: str, node: Any) -> None:
    """libpcap's refusal of ``vlan``/``mpls`` (``word``) on link types without them."""
    if word not in state.link.encaps:  # the row says which it takes
        raise state.error(messages.not_supported_on(word, state.link), node.error_span)
