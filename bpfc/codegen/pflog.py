"""OpenBSD pflog: the variable-length pflog header and its primitives.

A pflog record starts with its own header, whose first byte is the header length; the
logged packet starts at that length rounded up to a multiple of 4.  So, as for 802.11,
the link-layer payload offset lives in a scratch register, taken the first time a load
needs it (:class:`~bpfc.codegen.vlhdr.VarOffset`) and computed by a prologue at the start
of the program (libpcap's ``gen_load_pflog_llprefixlen``): ``ldb [0]; add #3;
and #0xfffffffc; st M[r]; tax``.  Header fields are at fixed offsets.

* framing ``pflog``: "network protocol is X" reads the address family byte (``AF_INET``,
  or Linux's ``AF_INET6``, as libpcap built on Linux does; for a savefile any BSD's
  ``AF_INET6``, see :mod:`bpfc.savefile`); anything else is false;
* ``ifname``/``on`` and ``ruleset``/``rset`` compare the name's bytes (at most 15);
* ``rnr``/``rulenum``, ``srnr``/``subrulenum``: 32-bit rule numbers;
* ``reason`` (number or name) and ``action`` (name) compare one byte.

On other link types every one of these is refused with libpcap's message.  Names that
do not exist are refused first (libpcap resolves them while parsing).
"""

from __future__ import annotations

from typing import Any

from bpfc import ast
from bpfc.cfg import Cond, false_cond, prepend
from bpfc.codegen import link
from bpfc.codegen.pushlink import allocated
from bpfc.codegen.state import CodegenState, Rel, ld
from bpfc.codegen.vlhdr import VarOffset
from bpfc.isa.insn import AluOp, Class, Mode, Size
from bpfc.linktypes.pflog_atm_ss7 import (
    PFLOG_ACTION,
    PFLOG_AF,
    PFLOG_IFNAME,
    PFLOG_NAME_SIZE,
    PFLOG_REASON,
    PFLOG_RULENR,
    PFLOG_RULESET,
    PFLOG_SUBRULENR,
)

TAX = Class.MISC | 0x00


def is_pflog(state: CodegenState) -> bool:
    return state.link.framing == "pflog"


def require_pflog(state: CodegenState, word: str, node: Any) -> None:
    """libpcap's refusal of a pflog primitive on another link type."""
    if not is_pflog(state):
        raise state.error(f"'{word}' supported only on PFLOG linktype", node.error_span)


# -- the variable-length header ------------------------------------------------------------


def setup(state: CodegenState) -> None:
    """Make the payload offset variable and install the prologue that computes it."""
    state.off_linkpl = VarOffset(state, 0)
    state.extra["prologue"] = prologue


def prologue_stmts(state: CodegenState) -> list[Any]:
    """``M[r] = X = (header length + 3) & ~3`` if some load used the payload offset.

    ``r`` is the payload offset's register at the end of the filter, as in master:
    after ``pppoes`` that offset is shifted (same register), after ``geneve``/``vxlan``
    it is the tunnel's register (master's listing then reads the outer one unwritten)."""
    reg = allocated(state.off_linkpl)
    if reg is None:
        return []
    return [
        ld(Class.LD | Mode.ABS | Size.B, 0),
        ld(Class.ALU | AluOp.ADD, 3),
        ld(Class.ALU | AluOp.AND, 0xFFFFFFFC),
        ld(Class.ST, reg),
        ld(TAX),
    ]


def prologue(state: CodegenState, cond: Cond) -> Cond:
    """``cond`` with the header-length computation in front of its first block."""
    prepend(cond.entry, prologue_stmts(state))
    return cond


# -- framing -------------------------------------------------------------------------------


def gen_pflog_linktype(state: CodegenState, proto: int) -> Cond:
    """The address family byte says IPv4 or IPv6; other protocols never match.

    For a savefile, IPv6 is any of the BSDs' AF_INET6 values (pf runs on all of them)."""
    if state.savefile is not None:
        return link.bsd_af_offline(state, Rel.LINKHDR, PFLOG_AF, 1, proto, False)
    family = {link.ETHERTYPE_IP: link.AF_INET, link.ETHERTYPE_IPV6: link.AF_INET6_LINUX}
    af = family.get(proto)
    if af is None:
        return false_cond()
    return state.cmp(Rel.LINKHDR, PFLOG_AF, 1, af)


# -- primitives ----------------------------------------------------------------------------


def _name(state: CodegenState, node: Any, word: str, offset: int, what: str) -> Cond:
    require_pflog(state, word, node)
    data = node.name.encode()
    if len(data) >= PFLOG_NAME_SIZE:
        raise state.error(f"{what} can only be {PFLOG_NAME_SIZE - 1} characters", node.error_span)
    return state.bcmp(Rel.LINKHDR, offset, data)


def gen_ifname(state: CodegenState, node: ast.PfIfname) -> Cond:
    """``ifname NAME`` / ``on NAME``: the interface the packet was logged on."""
    return _name(state, node, "ifname", PFLOG_IFNAME, "ifname interface names")


def gen_ruleset(state: CodegenState, node: ast.PfRuleset) -> Cond:
    """``ruleset NAME`` / ``rset NAME``: the anchor of the matching rule."""
    return _name(state, node, "ruleset", PFLOG_RULESET, "ruleset names")


def gen_rnr(state: CodegenState, node: ast.PfRnr) -> Cond:
    """``rnr N`` / ``rulenum N``."""
    require_pflog(state, "rnr", node)
    return state.cmp(Rel.LINKHDR, PFLOG_RULENR, 4, node.value)


def gen_srnr(state: CodegenState, node: ast.PfSrnr) -> Cond:
    """``srnr N`` / ``subrulenum N``."""
    require_pflog(state, "srnr", node)
    return state.cmp(Rel.LINKHDR, PFLOG_SUBRULENR, 4, node.value)


def gen_reason(state: CodegenState, node: ast.PfReason) -> Cond:
    """``reason N`` / ``reason NAME`` (``match``, ``bad-offset``, ...)."""
    value = node.value
    if isinstance(value, str):
        from bpfc.names import pf_reason  # lazy: the name tables cost start-up time

        found = pf_reason(value)
        if found is None:
            raise state.error(f'unknown PF reason "{value}"', node.error_span)
        value = found
    require_pflog(state, "reason", node)
    return state.cmp(Rel.LINKHDR, PFLOG_REASON, 1, value)


def gen_action(state: CodegenState, node: ast.PfAction) -> Cond:
    """``action NAME`` (``pass``/``accept``, ``block``/``drop``, ``nat``, ...)."""
    from bpfc.names import pf_action  # lazy: the name tables cost start-up time

    value = pf_action(node.name)
    if value is None:
        raise state.error(f'unknown PF action "{node.name}"', node.error_span)
    require_pflog(state, "action", node)
    return state.cmp(Rel.LINKHDR, PFLOG_ACTION, 1, value)
