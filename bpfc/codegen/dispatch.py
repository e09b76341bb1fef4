"""The AST walk: turn each node into a sub-graph, in source order.

:data:`GENERATORS` is the one table from AST node type to the function that generates
it.  Where a primitive means different code on different link types (``$xx`` ids and
``broadcast`` on one-byte-address links, ``inbound`` from DSA/Juniper header bits,
``vlan`` on a live Linux socket, ``llc`` on ATM), that function chooses by the
link-type row in :class:`CodegenState` -- never by which modules were imported.
Source order matters: ``vlan``/``mpls``/``pppoes`` change the offsets (in the state) of
everything generated after them, and the round-robin scratch registers are handed out
in generation order, exactly as in libpcap's parser-driven code generation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bpfc import ast
from bpfc.cfg import Cond, and_, jmp_block, not_, or_
from bpfc.codegen import (
    arcnet,
    arith,
    atm,
    decnet_osi_llc,
    encap,
    idents,
    juniper_fr_dsa,
    link,
    messages,
    meta,
    mtp,
    net,
    pflog,
    pppoe,
    tunnel,
    vlan_live,
    wlan,
)
from bpfc.codegen.state import CodegenState, Rel, ld
from bpfc.errors import CompileError
from bpfc.isa.insn import AluOp, Class, JmpOp
from bpfc.syntax.parse import FilterSyntaxError

Generator = Callable[[CodegenState, Any], Cond]


def gen_expr(state: CodegenState, node: Any) -> Cond:
    """The sub-graph for a boolean AST node."""
    fn = GENERATORS.get(type(node))
    if fn is None:
        name = type(node).__name__.lower()
        raise state.error(f"'{name}' is not supported by bpfc yet", node.error_span)
    return fn(state, node)


def check_reduced(state: CodegenState, error: CompileError) -> None:
    """Generate code for what libpcap's parser had reduced (``error.reduced``: tests and
    arithmetic, in source order) before it met the syntax or scanner ``error``, and throw
    it away: the first semantic error among them is what libpcap reports instead.  An
    error of the grammar's own checks does not replace one the scanner recorded first
    (the scanner's ``early_end`` says how far libpcap had reduced before it scanned)."""
    try:
        for node in getattr(error, "reduced", ()):
            if isinstance(node, ast.Arith):  # type: ignore[arg-type]
                gen_arith(state, node)
            else:
                gen_expr(state, node)
    except CompileError as found:
        late = found.span is None or found.span[1] > getattr(error, "early_end", -1)
        if getattr(found, "from_grammar", False) and late:
            if not isinstance(error, FilterSyntaxError):
                return
        raise


def _balanced(join: Any, conds: list[Cond]) -> Cond:
    """``join`` over ``conds`` in pairs, not left to right: the same graph (and_/or_ are
    associative, patches and exit order included) without re-copying the growing exit
    tuples at every term, which made 100,000-term chains quadratic."""
    while len(conds) > 1:
        pairs = [join(conds[i], conds[i + 1]) for i in range(0, len(conds) - 1, 2)]
        conds = pairs + conds[len(conds) - len(conds) % 2 :]
    return conds[0]


def _and(state: CodegenState, node: ast.And) -> Cond:
    return _balanced(and_, [gen_expr(state, term) for term in node.terms])


def _or(state: CodegenState, node: ast.Or) -> Cond:
    return _balanced(or_, [gen_expr(state, term) for term in node.terms])


def _not(state: CodegenState, node: ast.Not) -> Cond:
    return not_(gen_expr(state, node.operand))


def _primitive(state: CodegenState, node: ast.Primitive) -> Cond:
    if arcnet.claims(node):
        return arcnet.gen_arcnet_id(state, node)
    return idents.gen_primitive(state, node)


def _abbrev(state: CodegenState, node: ast.ProtoAbbrev) -> Cond:
    return idents.gen_proto_abbrev(state, node.proto, node.error_span)


def _broadcast(state: CodegenState, node: ast.Broadcast) -> Cond:
    if node.proto in (None, "link"):
        return arcnet.gen_mac8_broadcast(state, False) or link.gen_link_broadcast(state)
    if node.proto == "ip":
        return net.gen_ip_broadcast(state)
    raise state.error(messages.invalid_qual(node.proto, "broadcast"), node.error_span)


def _multicast(state: CodegenState, node: ast.Multicast) -> Cond:
    if node.proto in (None, "link"):
        return arcnet.gen_mac8_broadcast(state, True) or link.gen_link_multicast(state)
    if node.proto == "ip":
        return net.gen_ip_multicast(state)
    if node.proto == "ip6":
        return net.gen_ip6_multicast(state)
    raise state.error(messages.invalid_qual(node.proto, "multicast"), node.error_span)


def _llc(state: CodegenState, node: ast.Llc) -> Cond:
    if state.link.framing in ("sunatm", "lane"):
        return atm.gen_llc(state, node)
    return decnet_osi_llc.gen_llc(state, node.kind, node.error_span)


def _inbound(state: CodegenState, node: ast.Inbound) -> Cond:
    header = juniper_fr_dsa.gen_header_direction(state, outbound=False)
    return header or meta.gen_direction(state, outbound=False)


def _outbound(state: CodegenState, node: ast.Outbound) -> Cond:
    header = juniper_fr_dsa.gen_header_direction(state, outbound=True)
    return header or meta.gen_direction(state, outbound=True)


def _ifindex(state: CodegenState, node: ast.IfIndex) -> Cond:
    return meta.gen_ifindex(state, node.value)


def _less(state: CodegenState, node: ast.Less) -> Cond:
    return arith.gen_less(state, node.value)


def _greater(state: CodegenState, node: ast.Greater) -> Cond:
    return arith.gen_greater(state, node.value)


def _byteop(state: CodegenState, node: ast.ByteOp) -> Cond:
    # ``byte N`` counts N from the start of the link-layer header, as libpcap's gen_byteop
    # does (OR_LINKHDR), not from the network layer
    if node.value > 255:
        raise state.error(f"byte argument {node.value} greater than maximum 255", node.error_span)
    if node.op in ("=", "=="):
        return state.cmp(Rel.LINKHDR, node.index, 1, node.value)
    if node.op == "<":
        return state.cmp_lt(Rel.LINKHDR, node.index, 1, node.value)
    if node.op == ">":
        return state.cmp_gt(Rel.LINKHDR, node.index, 1, node.value)
    alu = AluOp.OR if node.op == "|" else AluOp.AND
    stmts = state.load(Rel.LINKHDR, node.index, 1) + [ld(Class.ALU | alu, node.value)]
    return not_(jmp_block(stmts, JmpOp.JEQ, 0))


def _relation(state: CodegenState, node: ast.Relation) -> Cond:
    a0 = gen_arith(state, node.lhs)
    a1 = gen_arith(state, node.rhs)
    return arith.gen_relation(state, node.op, a0, a1)


def _vlan(state: CodegenState, node: ast.Vlan) -> Cond:
    """``vlan [ID]``: libpcap's checks in its order, then the live-socket form (ancillary
    loads) for the first tag on Linux, else the tag in the packet."""
    encap.check_vlan_after_mpls(state, node.error_span)
    juniper_fr_dsa.check_encapsulation(state, "vlan", node)
    if vlan_live.uses_extensions(state):
        return vlan_live.gen_vlan_live(state, node.vid, node.error_span)
    return encap.gen_vlan(state, node.vid, node.error_span)


def _mpls(state: CodegenState, node: ast.Mpls) -> Cond:
    juniper_fr_dsa.check_encapsulation(state, "mpls", node)
    return encap.gen_mpls(state, node.label, node.error_span)


def _pppoed(state: CodegenState, node: ast.Pppoed) -> Cond:
    return pppoe.gen_pppoed(state)


def _pppoes(state: CodegenState, node: ast.Pppoes) -> Cond:
    return pppoe.gen_pppoes(state, node.session, node.error_span)


def _geneve(state: CodegenState, node: ast.Geneve) -> Cond:
    return tunnel.gen_tunnel(state, True, node.vni, node.error_span)


def _vxlan(state: CodegenState, node: ast.Vxlan) -> Cond:
    return tunnel.gen_tunnel(state, False, node.vni, node.error_span)


def gen_arith(state: CodegenState, node: Any) -> arith.Arth:
    """The value of an arithmetic AST node."""
    if isinstance(node, ast.Const):
        return arith.gen_loadi(state, node.value)
    if isinstance(node, ast.Len):
        return arith.gen_loadlen(state)
    if isinstance(node, ast.Load):
        index = gen_arith(state, node.index)
        try:
            return arith.gen_load(state, node.proto, index, node.size)
        except Exception as err:
            _add_span(err, node)
            raise
    if isinstance(node, ast.BinOp):
        a0 = gen_arith(state, node.lhs)
        a1 = gen_arith(state, node.rhs)
        try:
            return arith.gen_arth(state, node.op, a0, a1)
        except Exception as err:
            _add_span(err, node)
            raise
    if isinstance(node, ast.Neg):
        return arith.gen_neg(state, gen_arith(state, node.operand))
    raise state.error(
        f"'{type(node).__name__.lower()}' is not an arithmetic value", node.error_span
    )


def _add_span(err: Exception, node: Any) -> None:
    if getattr(err, "span", "missing") is None:
        err.span = node.error_span  # type: ignore[attr-defined]


#: framing name (a row's ``framing``) -> "network protocol is X": the common framings
#: of :mod:`~bpfc.codegen.link` and the family modules' own, listed here rather than
#: registered by the family modules when imported (the compiler hands this table to
#: the state, so import order cannot change it)
FRAMINGS: dict[str, Callable[[CodegenState, int], Cond]] = {
    **link.LINKTYPE_GENERATORS,
    **juniper_fr_dsa.FRAMINGS,
    "pflog": pflog.gen_pflog_linktype,
    "arcnet": arcnet.gen_arcnet_linktype,
    "sunatm": atm.gen_sunatm_linktype,
    "lane": atm.gen_lane_linktype,
    "wlan": wlan.gen_wlan_linktype,
}

#: MAC layouts whose addresses depend on the frame -> (host, broadcast, multicast)
MAC_HOSTS: dict[str, tuple[Callable[..., Cond], ...]] = {
    "wlan": (wlan.gen_wlan_host, wlan.gen_wlan_broadcast, wlan.gen_wlan_multicast),
    "lane": (atm.gen_lane_host, atm.gen_lane_broadcast, atm.gen_lane_multicast),
    "encap": tunnel.ENCAP_MAC_HOSTS,
}


def new_state(link_row: Any, **options: Any) -> CodegenState:
    """A :class:`CodegenState` for ``link_row`` with this module's generator tables."""
    return CodegenState.for_link(link_row, framings=FRAMINGS, mac_hosts=MAC_HOSTS, **options)


#: AST node type -> its generator: the one code-generation table
GENERATORS: dict[type, Generator] = {
    ast.And: _and,
    ast.Or: _or,
    ast.Not: _not,
    ast.Primitive: _primitive,
    ast.ProtoAbbrev: _abbrev,
    ast.Broadcast: _broadcast,
    ast.Multicast: _multicast,
    ast.Llc: _llc,
    ast.Inbound: _inbound,
    ast.Outbound: _outbound,
    ast.IfIndex: _ifindex,
    ast.Less: _less,
    ast.Greater: _greater,
    ast.ByteOp: _byteop,
    ast.Relation: _relation,
    ast.Vlan: _vlan,
    ast.Mpls: _mpls,
    ast.Pppoed: _pppoed,
    ast.Pppoes: _pppoes,
    ast.Geneve: _geneve,
    ast.Vxlan: _vxlan,
    ast.WlanType: wlan.gen_type,
    ast.WlanSubtype: wlan.gen_subtype,
    ast.WlanTypeRead: wlan.check_type_read,
    ast.WlanDir: wlan.gen_dir,
    ast.Mtp2Type: mtp.gen_mtp2_type,
    ast.Mtp3Field: mtp.gen_mtp3,
    ast.AtmField: atm.gen_atm_field,
    ast.AtmType: atm.gen_atm_type,
    ast.AtmMultiType: atm.gen_atm_multi_type,
    ast.PfIfname: pflog.gen_ifname,
    ast.PfRuleset: pflog.gen_ruleset,
    ast.PfRnr: pflog.gen_rnr,
    ast.PfSrnr: pflog.gen_srnr,
    ast.PfReason: pflog.gen_reason,
    ast.PfAction: pflog.gen_action,
}
