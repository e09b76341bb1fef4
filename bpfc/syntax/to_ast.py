"""Parse tree to AST, including libpcap's qualifier inheritance.

libpcap's grammar passes qualifiers along the parser stack (``$<blk>0``): an id with no
qualifiers of its own takes those of whatever stands to its left.  In source order that is
a simple state machine, which this module runs while it walks the tree left to right:

* a ``head`` (``tcp src port``) sets the qualifiers in force;
* a term that has no qualifiers (``tcp`` alone, a relation, ``vlan``, ``less 10``...) sets
  them to *undefined* (libpcap's ``qerr``);
* a parenthesised expression restores, after its ``)``, the qualifiers in force before its
  ``(`` (so ``host a and (tcp) or b`` gives ``b`` the ``host`` qualifiers);
* every id takes the qualifiers in force; the first id after a head counts as explicit,
  later ones as inherited.

The walk is iterative (an explicit stack), so 100,000-term expressions and 10,000 nested
parentheses are fine: Lark's own ``Transformer`` would recurse.  It accepts the trees of
:mod:`bpfc.syntax.lalr` and Lark's own trees alike (both have ``data`` and ``children``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

from bpfc import ast
from bpfc.syntax.lalr import Token, Tree
from bpfc.syntax.lexer import NAMED_NUMBERS, ether_octets, number_value

_PNAME: dict[str, str] = {"LINK": "link", "IPV6": "ip6", "ICMPV6": "icmp6"}
_RELOP: dict[str, str] = {"GT": ">", "GEQ": ">=", "EQ": "=", "LEQ": "<=", "LT": "<", "NEQ": "!="}
_DQUAL: dict[tuple[str, ...], str] = {
    ("SRC",): "src", ("DST",): "dst",
    ("SRC", "OR", "DST"): "src or dst", ("DST", "OR", "SRC"): "src or dst",
    ("SRC", "AND", "DST"): "src and dst", ("DST", "AND", "SRC"): "src and dst",
    ("ADDR1",): "addr1", ("ADDR2",): "addr2", ("ADDR3",): "addr3", ("ADDR4",): "addr4",
    ("RA",): "ra", ("TA",): "ta",
}  # fmt: skip
_UNDEFINED = ast.Qualifiers(undefined=True)
# Terms after which libpcap's qualifiers are undefined (their $$.q is qerr).
_RESETS = frozenset(
    "proto_abbrev relation broadcast multicast less greater byte_op inbound outbound ifindex "
    "vlan mpls pppoed pppoes geneve vxlan pf_ifname pf_ruleset pf_rnr pf_srnr "
    "pf_reason pf_action wlan_type wlan_subtype wlan_dir llc atm_type atm_multitype "
    "atm_field mtp2_type mtp3_field".split()
)


class Part(NamedTuple):
    """An intermediate value (a qualifier word, a number, an operator) with its span."""

    value: Any
    span: ast.Span
    name: str | None = None


def _span_of(item: Any) -> ast.Span:
    if isinstance(item, Token):
        return (item.start_pos or 0, item.end_pos or 0)
    return item.span  # type: ignore[no-any-return]


def _cover(items: list[Any]) -> ast.Span:
    if not items:
        return ast.NO_SPAN
    return (_span_of(items[0])[0], _span_of(items[-1])[1])


def _num(tok: Token) -> int:
    return number_value(str(tok))


def _num_or_name(tok: Token) -> int | str:
    return _num(tok) if tok.type == "NUM" else str(tok)


def _arith(item: Any) -> ast.Arith:
    """A pnum ``Part`` becomes a ``Const``; arithmetic nodes pass through."""
    if isinstance(item, Part):
        return ast.Const(item.value, item.name, span=item.span)
    return item  # type: ignore[no-any-return]


def _fold(items: list[Any]) -> Any:
    """``t0 op t1 op t2 ...`` as a left fold; an accumulated And/Or absorbs the next term."""
    start = _span_of(items[0])[0]
    run: list[Any] = [items[0]]  # the terms of the And/Or being accumulated
    run_cls: type | None = None
    for i in range(1, len(items), 2):
        cls = ast.And if items[i].value == "and" else ast.Or
        if cls is not run_cls:
            if run_cls is not None:
                run = [run_cls(tuple(run), span=(start, _span_of(run[-1])[1]))]
            if isinstance(run[0], cls):
                run = list(run[0].terms)
            run_cls = cls
        run.append(items[i + 1])
    if run_cls is None:
        return run[0]
    return run_cls(tuple(run), span=(start, _span_of(run[-1])[1]))


class Builder:
    """Walks one parse tree; holds the qualifier state machine described above."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.q: ast.Qualifiers = _UNDEFINED
        self.q_inherited: ast.Qualifiers = _UNDEFINED  # self.q as later ids receive it
        self.fresh = False
        self.saved: list[ast.Qualifiers] = []

    def build(self, root: Tree) -> ast.Expr:
        # frames: [tree, role, index of the next child, results of the children so far]
        stack: list[list[Any]] = [[root, "", 0, []]]
        if root.data == "paren_expr":  # (children are saved for on the way down, below)
            self.saved.append(self.q)
        while True:
            frame = stack[-1]
            node, role, index, results = frame
            children = node.children
            while index < len(children):
                child = children[index]
                index += 1
                if isinstance(child, Token):
                    results.append(child)
                    continue
                frame[2] = index
                if child.data == "paren_expr":
                    self.saved.append(self.q)
                child_role = "id" if index == 1 and node.data == "pid" else ""
                stack.append([child, child_role, 0, []])
                break
            else:
                stack.pop()
                value = self.exit(node, role, results)
                if not stack:
                    return value  # type: ignore[no-any-return]
                stack[-1][3].append(value)

    # ------------------------------------------------------------ dispatch
    def exit(self, node: Tree, role: str, args: list[Any]) -> Any:
        data = str(node.data)
        handler: Callable[[list[Any]], Any] = getattr(self, "t_" + data)
        if data == "pnum" and role == "id":
            return self.primitive(ast.NumberId(handler(args).value, span=_cover(args)), args)
        result = handler(args)
        if data in _RESETS:
            self.set_q(_UNDEFINED, fresh=False)
        elif data == "paren_expr":
            self.set_q(self.saved.pop(), fresh=False)
        return result

    def set_q(self, q: ast.Qualifiers, fresh: bool) -> None:
        self.q, self.fresh = q, fresh
        self.q_inherited = (
            q if q.undefined or q.inherited else dataclasses.replace(q, inherited=True)
        )

    def take_q(self) -> ast.Qualifiers:
        if self.fresh:
            self.fresh = False
            return self.q
        return self.q_inherited

    def primitive(self, ident: ast.Id, args: list[Any]) -> ast.Primitive:
        return ast.Primitive(self.take_q(), ident, span=_cover(args))

    # ------------------------------------------------------------ boolean structure
    def t_start(self, a: list[Any]) -> ast.Expr:
        return a[0] if a else ast.Empty(span=(0, len(self.expr)))

    def t_expr(self, a: list[Any]) -> ast.Expr:
        return _fold(a)  # type: ignore[no-any-return]

    t_pid = t_expr

    def t_boolop(self, a: list[Any]) -> Part:
        return Part(a[0].type.lower(), _cover(a))

    def t_not_term(self, a: list[Any]) -> ast.Not:
        return ast.Not(a[1], span=_cover(a))

    t_not_id = t_not_term

    def t_paren_expr(self, a: list[Any]) -> Any:
        """Grouping leaves no node: the inner node's span grows to take in the parens."""
        return dataclasses.replace(a[1], span=_cover(a))

    t_paren_id = t_paren_expr
    t_a_prim_n = t_paren_expr

    def t_qualified(self, a: list[Any]) -> Any:
        ident = a[1]
        if isinstance(ident, ast.Primitive):  # the primitive's text starts at its qualifiers
            return dataclasses.replace(ident, span=_cover(a))
        return ident

    # ------------------------------------------------------------ qualifiers
    def t_head(self, a: list[Any]) -> ast.Qualifiers:
        proto = proto_text = dqual = kind = None
        for item in a:
            if isinstance(item, Token):
                kind = item.type.lower()
            elif item.name == "pname":
                proto, proto_text = item.value
            elif item.name == "dqual":
                dqual = item.value
            else:
                kind = item.value
        q = ast.Qualifiers(proto, dqual, kind, proto_text=proto_text, span=_cover(a))
        self.set_q(q, fresh=True)
        return q

    def t_dqual(self, a: list[Any]) -> Part:
        return Part(_DQUAL[tuple(t.type for t in a)], _cover(a), "dqual")

    def t_aqual(self, a: list[Any]) -> Part:
        return Part(str(a[0]), _cover(a), "aqual")

    def t_pname(self, a: list[Any]) -> Part:
        tok = a[0]
        return Part((_PNAME.get(tok.type, tok.type.lower()), str(tok)), _cover(a), "pname")

    # ------------------------------------------------------------ ids
    def t_name_id(self, a: list[Any]) -> ast.Primitive:
        tok = a[0]
        escaped = self.expr[tok.start_pos] == "\\"
        return self.primitive(ast.NameId(str(tok), escaped, span=_cover(a)), a)

    def t_number_id(self, a: list[Any]) -> ast.Primitive:
        return self.primitive(ast.NumberId(a[0].value, span=_cover(a)), a)

    def t_ipv4_id(self, a: list[Any]) -> ast.Primitive:
        return self.primitive(ast.IPv4Id(str(a[0]), span=_cover(a)), a)

    def t_ipv4_net(self, a: list[Any]) -> ast.Primitive:
        addr = ast.IPv4Id(str(a[0]), span=_span_of(a[0]))
        return self.primitive(ast.IPv4NetId(addr, _num(a[2]), span=_cover(a)), a)

    def t_ipv4_mask(self, a: list[Any]) -> ast.Primitive:
        addr = ast.IPv4Id(str(a[0]), span=_span_of(a[0]))
        mask = ast.IPv4Id(str(a[2]), span=_span_of(a[2]))
        return self.primitive(ast.IPv4MaskId(addr, mask, span=_cover(a)), a)

    def _ipv6(self, tok: Token) -> ast.IPv6Id:
        import ipaddress

        packed = ipaddress.IPv6Address(str(tok)).packed
        return ast.IPv6Id(str(tok), packed, span=_span_of(tok))

    def t_ipv6_id(self, a: list[Any]) -> ast.Primitive:
        return self.primitive(self._ipv6(a[0]), a)

    def t_ipv6_net(self, a: list[Any]) -> ast.Primitive:
        return self.primitive(ast.IPv6NetId(self._ipv6(a[0]), _num(a[2]), span=_cover(a)), a)

    def t_ether_id(self, a: list[Any]) -> ast.Primitive:
        text = str(a[0])
        return self.primitive(ast.EtherId(text, ether_octets(text), span=_cover(a)), a)

    def t_arcnet_id(self, a: list[Any]) -> ast.Primitive:
        text = str(a[0])
        return self.primitive(ast.ArcnetId(text, int(text[1:], 16), span=_cover(a)), a)

    def t_pnum(self, a: list[Any]) -> Part:
        if len(a) == 1:
            text = str(a[0])
            return Part(_num(a[0]), _cover(a), text if text in NAMED_NUMBERS else None)
        return Part(a[1].value, _cover(a), a[1].name)

    # ------------------------------------------------------------ protocol-only terms
    def t_proto_abbrev(self, a: list[Any]) -> ast.ProtoAbbrev:
        proto, text = a[0].value
        return ast.ProtoAbbrev(proto, text, span=_cover(a))

    def _opt_proto(self, a: list[Any]) -> str | None:
        return a[0].value[0] if isinstance(a[0], Part) and a[0].name == "pname" else None

    def t_broadcast(self, a: list[Any]) -> ast.Broadcast:
        return ast.Broadcast(self._opt_proto(a), span=_cover(a))

    def t_multicast(self, a: list[Any]) -> ast.Multicast:
        return ast.Multicast(self._opt_proto(a), span=_cover(a))

    # ------------------------------------------------------------ keyword terms
    def t_less(self, a: list[Any]) -> ast.Less:
        return ast.Less(_num(a[1]), span=_cover(a))

    def t_greater(self, a: list[Any]) -> ast.Greater:
        return ast.Greater(_num(a[1]), span=_cover(a))

    def t_byte_op(self, a: list[Any]) -> ast.ByteOp:
        return ast.ByteOp(_num(a[1]), a[2].value, _num(a[3]), span=_cover(a))

    def t_byteop(self, a: list[Any]) -> Part:
        return Part(str(a[0]), _cover(a))

    def t_inbound(self, a: list[Any]) -> ast.Inbound:
        return ast.Inbound(span=_cover(a))

    def t_outbound(self, a: list[Any]) -> ast.Outbound:
        return ast.Outbound(span=_cover(a))

    def t_ifindex(self, a: list[Any]) -> ast.IfIndex:
        return ast.IfIndex(_num(a[1]), span=_cover(a))

    def _opt_num(self, a: list[Any]) -> int | None:
        return a[1].value if len(a) > 1 else None

    def t_vlan(self, a: list[Any]) -> ast.Vlan:
        return ast.Vlan(self._opt_num(a), span=_cover(a))

    def t_mpls(self, a: list[Any]) -> ast.Mpls:
        return ast.Mpls(self._opt_num(a), span=_cover(a))

    def t_pppoed(self, a: list[Any]) -> ast.Pppoed:
        return ast.Pppoed(span=_cover(a))

    def t_pppoes(self, a: list[Any]) -> ast.Pppoes:
        return ast.Pppoes(self._opt_num(a), span=_cover(a))

    def t_geneve(self, a: list[Any]) -> ast.Geneve:
        return ast.Geneve(self._opt_num(a), span=_cover(a))

    def t_vxlan(self, a: list[Any]) -> ast.Vxlan:
        return ast.Vxlan(self._opt_num(a), span=_cover(a))

    def t_pf_ifname(self, a: list[Any]) -> ast.PfIfname:
        return ast.PfIfname(str(a[1]), span=_cover(a))

    def t_pf_ruleset(self, a: list[Any]) -> ast.PfRuleset:
        return ast.PfRuleset(str(a[1]), span=_cover(a))

    def t_pf_rnr(self, a: list[Any]) -> ast.PfRnr:
        return ast.PfRnr(_num(a[1]), span=_cover(a))

    def t_pf_srnr(self, a: list[Any]) -> ast.PfSrnr:
        return ast.PfSrnr(_num(a[1]), span=_cover(a))

    def t_pf_reason(self, a: list[Any]) -> ast.PfReason:
        return ast.PfReason(_num_or_name(a[1]), span=_cover(a))

    def t_pf_action(self, a: list[Any]) -> ast.PfAction:
        return ast.PfAction(str(a[1]), span=_cover(a))

    def t_wlan_type(self, a: list[Any]) -> ast.WlanType:
        rest = a[1:] if isinstance(a[0], Part) else a  # TYPE t [SUBTYPE s]
        subtype = _num_or_name(rest[3]) if len(rest) > 2 else None
        return ast.WlanType(_num_or_name(rest[1]), subtype, self._opt_proto(a), span=_cover(a))

    def t_wlan_type_read(self, a: list[Any]) -> ast.WlanTypeRead:
        return ast.WlanTypeRead(_num_or_name(a[1]), span=_cover(a))

    def t_wlan_subtype(self, a: list[Any]) -> ast.WlanSubtype:
        return ast.WlanSubtype(str(a[-1]), self._opt_proto(a), span=_cover(a))

    def t_wlan_dir(self, a: list[Any]) -> ast.WlanDir:
        return ast.WlanDir(_num_or_name(a[-1]), self._opt_proto(a), span=_cover(a))

    def t_llc(self, a: list[Any]) -> ast.Llc:
        kind = None
        if len(a) > 1:
            kind = "rnr" if a[1].type == "PF_RNR" else str(a[1])
        return ast.Llc(kind, span=_cover(a))

    # ------------------------------------------------------------ ATM and MTP
    def t_atm_type(self, a: list[Any]) -> ast.AtmType:
        return ast.AtmType(a[0].value, span=_cover(a))

    def t_atm_multitype(self, a: list[Any]) -> ast.AtmMultiType:
        return ast.AtmMultiType(a[0].value, span=_cover(a))

    def t_mtp2_type(self, a: list[Any]) -> ast.Mtp2Type:
        return ast.Mtp2Type(a[0].value, span=_cover(a))

    def _word(self, a: list[Any]) -> Part:
        return Part(str(a[0]), _cover(a))

    t_atmtype = t_atmmultitype = t_atmfield = t_mtp3field = _word

    def t_mtp2type(self, a: list[Any]) -> Part:
        return Part("lssu" if str(a[0]) == "lsu" else str(a[0]), _cover(a))

    def _field(self, cls: type, a: list[Any]) -> Any:
        name = a[0].value
        tests = [cls(name, op, value, span=span) for op, value, span in a[1].value]
        if len(tests) == 1:
            return tests[0]
        return ast.Or(tuple(tests), span=_cover(a))

    def t_atm_field(self, a: list[Any]) -> Any:
        return self._field(ast.AtmField, a)

    def t_mtp3_field(self, a: list[Any]) -> Any:
        return self._field(ast.Mtp3Field, a)

    def t_value_eq(self, a: list[Any]) -> Part:
        return Part([("=", _num(a[0]), _cover(a))], _cover(a))

    def t_value_rel(self, a: list[Any]) -> Part:
        return Part([(a[0].value, _num(a[1]), _cover(a))], _cover(a))

    def t_value_list(self, a: list[Any]) -> Part:
        nums = [t for t in a if t.type == "NUM"]
        return Part([("=", _num(t), _span_of(t)) for t in nums], _cover(a))

    # ------------------------------------------------------------ arithmetic
    def t_relop(self, a: list[Any]) -> Part:
        return Part(_RELOP[a[0].type], _cover(a))

    def t_relation(self, a: list[Any]) -> ast.Relation:
        return ast.Relation(a[1].value, _arith(a[0]), _arith(a[2]), span=_cover(a))

    def t_binop(self, a: list[Any]) -> ast.BinOp:
        return ast.BinOp(str(a[1]), _arith(a[0]), _arith(a[2]), span=_cover(a))

    def t_neg(self, a: list[Any]) -> ast.Neg:
        return ast.Neg(_arith(a[1]), span=_cover(a))

    def t_length(self, a: list[Any]) -> ast.Len:
        return ast.Len(span=_cover(a))

    def t_load(self, a: list[Any]) -> ast.Load:
        proto, text = a[0].value
        size = _num(a[4]) if len(a) > 4 else 1
        return ast.Load(proto, _arith(a[2]), size, text, span=_cover(a))


#: field keywords whose parenthesised value lists libpcap reduces value by value
_LIST_FIELDS = {"atmfield": "atm_field", "mtp3field": "mtp3_field"}


def _flatten(values: list[Any]) -> list[Any]:
    """The stack's items left to right, the grammar's EBNF helper lists opened up."""
    items: list[Any] = []
    pending = list(reversed(values))
    while pending:
        item = pending.pop()
        if isinstance(item, Tree) and str(item.data).startswith("_"):
            pending.extend(reversed(item.children))
        else:
            items.append(item)
    return items


def reduced_prefix(values: list[Any], expr: str) -> list[Any]:
    """The tests and values libpcap had generated code for when its parser met a syntax
    error: the complete subtrees on the parse stack (``values``, left to right), as AST
    nodes in source order.  Qualifiers flow through them as in a full parse (a ``head``
    on the stack sets them for the ids after it).  Only terms and arithmetic count:
    qualifier words, operators and open parentheses generate nothing.  An open value
    list (``vpi (1 or 2``) counts with the values it has: libpcap tests each value of a
    list as it reads it; so does an open list of ids (``port (1 or``), whose first
    number is an id once the ``or`` follows it, and the type of an open ``type T
    subtype``."""
    builder = Builder(expr)
    found: list[Any] = []
    items = _flatten(values)
    index = 0
    while index < len(items):
        item = items[index]
        index += 1
        if isinstance(item, Token):
            # ``type T subtype``: libpcap judges T (a grammar check) once it reads SUBTYPE
            kinds = [getattr(t, "type", None) for t in items[index : index + 2]]
            if item.type == "TYPE" and kinds in (["NUM", "SUBTYPE"], ["ID", "SUBTYPE"]):
                item = Tree("wlan_type_read", [item, items[index]])
                index += 1
            else:
                continue
        after = getattr(items[index], "data", None) if index < len(items) else None
        # the first number of a list of ids (``port (1 or``) is an id once ``or`` follows,
        # or when the list stops after it (bison's default: ``port (2 /``); the list may
        # be negated first (``port not (2 mask``, ``port ! not (2 /``): the ids of
        # ``not id`` take the head's qualifiers the same way
        opens_list = index >= 3 and getattr(items[index - 2], "type", None) == "LPAR"
        before = index - 3
        while opens_list and before > 0 and getattr(items[before], "type", None) == "NOT":
            before -= 1
        opens_list = opens_list and getattr(items[before], "data", None) == "head"
        if item.data == "pnum" and (after == "boolop" or (opens_list and index == len(items))):
            item = Tree("number_id", [item])
        alias = _LIST_FIELDS.get(str(item.data))
        if alias and index < len(items) and getattr(items[index], "type", None) == "LPAR":
            end = index + 1
            while end < len(items) and getattr(items[end], "type", None) in ("NUM", "OR"):
                end += 1
            if any(getattr(t, "type", None) == "NUM" for t in items[index + 1 : end]):
                item = Tree(alias, [item, Tree("value_list", items[index:end])])
                index = end
        node = builder.build(item)
        if isinstance(node, ast.Node) and not isinstance(node, (ast.Qualifiers, ast.Empty)):
            found.append(node)
    return found


def to_ast(tree: Tree, expr: str) -> ast.Expr:
    """The AST of a parse tree produced by :func:`bpfc.syntax.parse.parse_tree`."""
    return Builder(expr).build(tree)
