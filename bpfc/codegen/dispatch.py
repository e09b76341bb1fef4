"""The AST walk: turn each node into a sub-graph, in source order.

:func:`gen_expr` looks up a handler by node type in :data:`HANDLERS`; modules that
teach bpfc new primitives (encapsulations, 802.11, pflog, ATM, MTP...) add theirs
with :func:`handler`.  Source order matters: ``vlan``/``mpls``/``pppoes`` change the
offsets (in the :class:`CodegenState`) of everything generated after them, and the
round-robin scratch registers are handed out in generation order, exactly as in
libpcap's parser-driven code generation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bpfc import ast
from bpfc.cfg import Cond, and_, not_, or_
from bpfc.codegen import arith, idents, legacy, link, messages, meta, net
from bpfc.codegen.state import CodegenState, Rel, ld
from bpfc.errors import CompileError
from bpfc.isa.insn import AluOp, Class, JmpOp

N = TypeVar("N")
Handler = Callable[[CodegenState, Any], Cond]

#: AST node type -> generator
HANDLERS: dict[type, Handler] = {}


def handler(node_type: type) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the generator for ``node_type`` nodes."""

    def deco(fn: Handler) -> Handler:
        HANDLERS[node_type] = fn
        return fn

    return deco


def gen_expr(state: CodegenState, node: Any) -> Cond:
    """The sub-graph for a boolean AST node."""
    _load_default_handlers()
    fn = HANDLERS.get(type(node))
    if fn is None:
        name = type(node).__name__.lower()
        raise state.error(f"'{name}' is not supported by bpfc yet", _span(node))
    return fn(state, node)


_DEFAULTS_LOADED: list[bool] = []


def _load_default_handlers() -> None:
    """Register the fallbacks for link-specific primitives (once, never overriding)."""
    if _DEFAULTS_LOADED:
        return
    _DEFAULTS_LOADED.append(True)
    import bpfc.codegen.encap_more  # noqa: F401 - pppoe, geneve/vxlan, Linux vlan
    import bpfc.codegen.otherlinks  # noqa: F401 - ARCnet, DSA, Juniper, Frame Relay...
    from bpfc.codegen import atm, mtp, pflog  # noqa: F401 - SunATM, SS7, pflog primitives

    before = dict(HANDLERS)
    import bpfc.codegen.unsupported  # noqa: F401 - registers handlers

    HANDLERS.update(before)  # handlers registered by real implementations win
    from bpfc.codegen import wlan

    wlan.register()  # 802.11 type/subtype/dir: value checks on every link type


def _span(node: Any) -> tuple[int, int] | None:
    span = getattr(node, "span", None)
    return None if span is None or span == ast.NO_SPAN else span


def check_reduced(state: CodegenState, error: CompileError) -> None:
    """Generate code for what libpcap's parser had reduced (``error.reduced``: tests and
    arithmetic, in source order) before it met the syntax or scanner ``error``, and throw
    it away: the first semantic error among them is what libpcap reports instead.  An
    error of the grammar's own checks does not replace one the scanner recorded first
    (the scanner's ``early_end`` says how far libpcap had reduced before it scanned)."""
    _load_default_handlers()  # (arithmetic alone would not: loads need the link modules)
    try:
        for node in getattr(error, "reduced", ()):
            if isinstance(node, ast.Arith):  # type: ignore[arg-type]
                gen_arith(state, node)
            else:
                gen_expr(state, node)
    except CompileError as found:
        from bpfc.syntax.parse import FilterSyntaxError

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


@handler(ast.And)
def _and(state: CodegenState, node: ast.And) -> Cond:
    return _balanced(and_, [gen_expr(state, term) for term in node.terms])


@handler(ast.Or)
def _or(state: CodegenState, node: ast.Or) -> Cond:
    return _balanced(or_, [gen_expr(state, term) for term in node.terms])


@handler(ast.Not)
def _not(state: CodegenState, node: ast.Not) -> Cond:
    return not_(gen_expr(state, node.operand))


@handler(ast.Primitive)
def _primitive(state: CodegenState, node: ast.Primitive) -> Cond:
    return idents.gen_primitive(state, node)


@handler(ast.ProtoAbbrev)
def _abbrev(state: CodegenState, node: ast.ProtoAbbrev) -> Cond:
    return idents.gen_proto_abbrev(state, node.proto, _span(node))


@handler(ast.Broadcast)
def _broadcast(state: CodegenState, node: ast.Broadcast) -> Cond:
    if node.proto in (None, "link"):
        return link.gen_link_broadcast(state)
    if node.proto == "ip":
        return net.gen_ip_broadcast(state)
    raise state.error(messages.invalid_qual(node.proto, "broadcast"), _span(node))


@handler(ast.Multicast)
def _multicast(state: CodegenState, node: ast.Multicast) -> Cond:
    if node.proto in (None, "link"):
        return link.gen_link_multicast(state)
    if node.proto == "ip":
        return net.gen_ip_multicast(state)
    if node.proto == "ip6":
        return net.gen_ip6_multicast(state)
    raise state.error(messages.invalid_qual(node.proto, "multicast"), _span(node))


@handler(ast.Llc)
def _llc(state: CodegenState, node: ast.Llc) -> Cond:
    return legacy.gen_llc(state, node.kind, _span(node))


@handler(ast.Inbound)
def _inbound(state: CodegenState, node: ast.Inbound) -> Cond:
    return meta.gen_direction(state, outbound=False)


@handler(ast.Outbound)
def _outbound(state: CodegenState, node: ast.Outbound) -> Cond:
    return meta.gen_direction(state, outbound=True)


@handler(ast.IfIndex)
def _ifindex(state: CodegenState, node: ast.IfIndex) -> Cond:
    return meta.gen_ifindex(state, node.value)


@handler(ast.Less)
def _less(state: CodegenState, node: ast.Less) -> Cond:
    return arith.gen_less(state, node.value)


@handler(ast.Greater)
def _greater(state: CodegenState, node: ast.Greater) -> Cond:
    return arith.gen_greater(state, node.value)


@handler(ast.ByteOp)
def _byteop(state: CodegenState, node: ast.ByteOp) -> Cond:
    # ``byte N`` counts N from the start of the link-layer header, as libpcap's gen_byteop
    # does (OR_LINKHDR), not from the network layer
    if node.value > 255:
        raise state.error(f"byte argument {node.value} greater than maximum 255", _span(node))
    if node.op in ("=", "=="):
        return state.cmp(Rel.LINKHDR, node.index, 1, node.value)
    if node.op == "<":
        return state.cmp_lt(Rel.LINKHDR, node.index, 1, node.value)
    if node.op == ">":
        return state.cmp_gt(Rel.LINKHDR, node.index, 1, node.value)
    alu = AluOp.OR if node.op == "|" else AluOp.AND
    stmts = state.load(Rel.LINKHDR, node.index, 1) + [ld(Class.ALU | alu, node.value)]
    from bpfc.cfg import jmp_block

    return not_(jmp_block(stmts, JmpOp.JEQ, 0))


@handler(ast.Relation)
def _relation(state: CodegenState, node: ast.Relation) -> Cond:
    a0 = gen_arith(state, node.lhs)
    a1 = gen_arith(state, node.rhs)
    return arith.gen_relation(state, node.op, a0, a1)


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
    raise state.error(f"'{type(node).__name__.lower()}' is not an arithmetic value", _span(node))


def _add_span(err: Exception, node: Any) -> None:
    if getattr(err, "span", "missing") is None:
        err.span = _span(node)  # type: ignore[attr-defined]
