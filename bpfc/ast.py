"""The abstract syntax tree of a pcap-filter(7) expression, as bpfc's parser builds it.

The parser (:mod:`bpfc.syntax`) turns text into these nodes; the code generator turns them
into a control-flow graph.  Nodes are frozen and slotted and behave as dataclasses (see
:class:`Node`): they are hashable, cheap, and can be shared.  Every node has a ``span``
— the ``(start, end)`` character offsets of the text it came from — declared with
``compare=False``, so two trees built from differently spaced text compare equal.

The parser does *lexical* and *syntactic* work only.  Everything that depends on the link
type, on name lookups or on value ranges (unknown host names, ``'port' qualifier applied to
IPv4 address``, ``invalid 802.11 type value``, a load size other than 1/2/4, ...) is left to
the code generator, which raises :class:`bpfc.errors.CompileError` with the node's span.

How the language maps to nodes
==============================

=========================================  ==============================================
source                                     nodes
=========================================  ==============================================
(empty expression)                         ``Empty()`` — accepts every packet
``a and b and c`` / ``&&``                 ``And((a, b, c))`` — n-ary, means ``(a and b)
                                           and c``; ``a and (b and c)`` stays nested
``a or b`` / ``||``                        ``Or((a, b))``
``not a`` / ``! a``                        ``Not(a)``
``( expr )``                               the inner node (grouping leaves no node)
``tcp``, ``ip6``, ``ether``, ``l1``        ``ProtoAbbrev("tcp")`` (a bare protocol word;
                                           ``\\ip`` is a *name*, never a protocol word)
``[proto] [dir] [kind] ID``                ``Primitive(Qualifiers(...), <id>)``
``host a or b``                            ``Or((Primitive(Q(host), a), Primitive(Q(host,
                                           inherited=True), b)))``
``[proto] broadcast`` / ``multicast``      ``Broadcast(proto)`` / ``Multicast(proto)``
``less N`` / ``greater N``                 ``Less(N)`` / ``Greater(N)``
``byte N op M``                            ``ByteOp(N, op, M)``, op in ``& | < > =``
``inbound`` / ``outbound``                 ``Inbound()`` / ``Outbound()``
``ifindex N``                              ``IfIndex(N)``
``vlan [N]`` ``mpls [N]`` ``pppoes [N]``   ``Vlan(N|None)`` ``Mpls(..)`` ``Pppoes(..)``
``geneve [N]`` ``vxlan [N]`` ``pppoed``    ``Geneve(..)`` ``Vxlan(..)`` ``Pppoed()``
``on/ifname X`` ``rset/ruleset X``         ``PfIfname("X")`` ``PfRuleset("X")``
``rnr/rulenum N`` ``srnr/subrulenum N``    ``PfRnr(N)`` ``PfSrnr(N)``
``reason R`` ``action A``                  ``PfReason(int|str)`` ``PfAction(str)``
``[p] type T [subtype S]``                 ``WlanType(T, S|None, proto=p)`` (int or name)
``[p] subtype S``                          ``WlanSubtype(S, proto=p)`` (name only)
``[p] dir D``                              ``WlanDir(D, proto=p)`` (int or name)
``llc [kind]``                             ``Llc(None|"i"|"s"|"u"|"rr"|"rnr"|...)``
``lane`` ``metac`` ``bcc`` ``oamf4ec``...  ``AtmType("lane")`` ...
``oam`` ``oamf4`` ``connectmsg``...        ``AtmMultiType("oam")`` ...
``vpi N`` ``vci > N`` ``vpi (1 or 2)``     ``AtmField("vpi", "=", N)``; a list becomes
                                           ``Or`` of ``AtmField(..., "=", n)``
``fisu lssu/lsu msu hfisu hlssu hmsu``     ``Mtp2Type("fisu")`` ... (``lsu`` -> ``"lssu"``)
``sio opc dpc sls hsio hopc hdpc hsls``    ``Mtp3Field("sio", op, N)``, lists as for ATM
``arith relop arith``                      ``Relation(op, lhs, rhs)``, op in
                                           ``> >= = <= < !=`` (``==`` -> ``=``)
``N`` (numbers, named constants)           ``Const(value, name)`` (``tcpflags`` ->
                                           ``Const(13, "tcpflags")``)
``proto[e]`` / ``proto[e:size]``           ``Load(proto, e, size)`` (size 1 when absent)
``a + b`` ... ``a >> b``                   ``BinOp(op, a, b)``
``-a``                                     ``Neg(a)``
``len`` / ``length``                       ``Len()``
=========================================  ==============================================

Qualifiers and inheritance
--------------------------

``Primitive.qual`` holds the *resolved* qualifiers: ``proto`` (canonical protocol word, see
:data:`PROTOS`; ``ether``, ``ppp``, ``slip``, ``fddi``, ``tr`` and ``wlan`` are all
``"link"``, the word actually written is kept in ``proto_text``), ``dir`` (see :data:`DIRS`)
and ``kind`` (see :data:`KINDS`), each ``None`` when not given (libpcap's ``Q_DEFAULT``).

An id with no qualifiers of its own takes *all* the qualifiers of the primitive before it,
exactly as libpcap does (``host a or b``, ``tcp port 1 or 2``, ``not host a and b``,
``host a and (b or c)``, ``host a and (tcp) or b``: after ``(`` the inherited set is the one
in force before the parenthesis).  Such a primitive has ``qual.inherited == True``.  When
the previous term has no qualifiers to pass on (a bare protocol word, a relation, one of
the keyword primitives) libpcap marks the id's qualifiers *undefined*: then
``qual.undefined == True`` and ``proto``/``dir``/``kind`` are ``None``; libpcap rejects
such ids with ``syntax error in filter expression`` during code generation
(``tcp or 1``, ``len > 1 or 2``).

Ids
---

Ids are typed by their *lexical* form (what the scanner saw); what they mean depends on the
resolved qualifiers and the link type, which only the code generator knows:

* ``NameId(text)`` — a name: a host, network, port, service or protocol name, a port
  range ``1-1024`` or ``ftp-telnet``, a ``\\``-escaped word (backslash removed);
* ``NumberId(value)`` — a number (decimal, ``0x`` hex, ``0`` octal, or named constant);
* ``IPv4Id(text)`` — 2 to 4 dot-separated numbers (``10.1``, ``1.2.3.4``); also how a DECnet
  ``area.node`` address arrives; :func:`bpfc.names.addr.parse_ipv4` gives its value;
* ``IPv4NetId(addr, prefix)`` — ``a.b.c.d/len``;
* ``IPv4MaskId(addr, mask)`` — ``a.b.c.d mask e.f.g.h``;
* ``IPv6Id(text, packed)`` / ``IPv6NetId(addr, prefix)`` — IPv6, incl. embedded IPv4;
* ``EtherId(text, octets)`` — a MAC address in any of the accepted spellings;
* ``ArcnetId(text, value)`` — ``$xx``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, field
from typing import Any, ClassVar, TypeVar

Span = tuple[int, int]
"""``(start, end)`` character offsets into the expression text, end exclusive."""

NO_SPAN: Span = (0, 0)

PROTOS: tuple[str, ...] = (
    "link", "ip", "arp", "rarp", "sctp", "tcp", "udp", "icmp", "igmp", "igrp", "pim", "vrrp",
    "carp", "atalk", "aarp", "decnet", "lat", "sca", "mopdl", "moprc", "ip6", "icmp6", "ah",
    "esp", "iso", "esis", "isis", "l1", "l2", "iih", "lsp", "snp", "psnp", "csnp", "clnp",
    "stp", "ipx", "netbeui", "radio",
)  # fmt: skip
"""Canonical protocol qualifiers (libpcap's ``pname``), in grammar order."""

LINK_WORDS: tuple[str, ...] = ("link", "ether", "ppp", "slip", "fddi", "tr", "wlan")
"""Words that all mean the ``link`` protocol qualifier."""

DIRS: tuple[str, ...] = (
    "src", "dst", "src or dst", "src and dst", "addr1", "addr2", "addr3", "addr4", "ra", "ta",
)  # fmt: skip
"""Canonical direction qualifiers (``address1`` is ``addr1`` etc.; ``dst or src`` is
``src or dst``)."""

KINDS: tuple[str, ...] = ("host", "net", "port", "portrange", "gateway", "proto", "protochain")
"""Canonical type qualifiers."""

RELOPS: tuple[str, ...] = (">", ">=", "=", "<=", "<", "!=")
ARITH_OPS: tuple[str, ...] = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>")
BYTE_OPS: tuple[str, ...] = ("&", "|", "<", ">", "=")


class Node:
    """Base class of every AST node: frozen, slotted, compared and hashed by value.

    Nodes behave as ``@dataclass(frozen=True, slots=True)`` classes do —
    :func:`dataclasses.replace`, :func:`dataclasses.is_dataclass`, ``match`` patterns,
    :class:`~dataclasses.FrozenInstanceError` — but are declared with :func:`_node`, which
    builds them without generating code: creating ~45 dataclasses costs more start-up time
    than the rest of the parser.  :meth:`field_names` lists the fields
    (:func:`dataclasses.fields` would need the dataclasses module's private field marker).
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _compare: ClassVar[tuple[str, ...]] = ()
    _repr: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._fields
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments")
        setter = object.__setattr__
        for name, value in zip(names, args, strict=False):
            setter(self, name, value)
        for name in names[len(args) :]:
            if name in kwargs:
                setter(self, name, kwargs.pop(name))
            elif name in self._defaults:
                setter(self, name, self._defaults[name])
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected {sorted(kwargs)}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _key(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._compare])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._key()))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr)
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(getattr(self, name) for name in self._fields))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The node's fields, in declaration order (``span`` last)."""
        return cls._fields

    @property
    def error_span(self) -> Span | None:
        """Where to point an error about this node: its ``span``, or ``None`` for a node
        built without one (``NO_SPAN``), which messages then print without a caret."""
        span = getattr(self, "span", None)
        return None if span is None or span == NO_SPAN else span

    def children(self) -> tuple[Node, ...]:
        """The direct child nodes, in source order."""
        out: list[Node] = []
        for name in self._fields:
            value = getattr(self, name)
            if isinstance(value, Node):
                out.append(value)
            elif isinstance(value, tuple):
                out.extend(v for v in value if isinstance(v, Node))
        return tuple(out)


_N = TypeVar("_N", bound=type)


def _node(cls: _N) -> _N:
    """Turn an annotated class body into a slotted :class:`Node` subclass (see there)."""
    annotations = cls.__dict__.get("__annotations__", {})
    namespace = {
        k: v
        for k, v in cls.__dict__.items()
        if k not in annotations and k not in ("__dict__", "__weakref__")
    }
    specs: dict[str, dataclasses.Field[Any]] = {}
    defaults: dict[str, Any] = {}
    for name, hint in annotations.items():
        default = cls.__dict__.get(name, dataclasses.MISSING)
        spec = default if isinstance(default, dataclasses.Field) else field(default=default)
        spec.name, spec.type = name, hint
        if spec.default is not dataclasses.MISSING:
            defaults[name] = spec.default
        specs[name] = spec
    names = tuple(annotations)
    namespace.update(
        __slots__=names,
        __match_args__=names,
        __dataclass_fields__=specs,
        _fields=names,
        _defaults=defaults,
        _compare=tuple(n for n in names if specs[n].compare),
        _repr=tuple(n for n in names if specs[n].repr),
    )
    return type(cls)(cls.__name__, cls.__bases__, namespace)  # type: ignore[return-value]


def walk(root: Node) -> Iterator[Node]:
    """All nodes of the tree, pre-order, without recursion (safe on very deep trees)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))


# ---------------------------------------------------------------- boolean structure


@_node
class Empty(Node):
    """The empty expression: matches every packet."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class And(Node):
    """Conjunction of two or more terms, evaluated left to right (``and``, ``&&``)."""

    terms: tuple[Expr, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Or(Node):
    """Disjunction of two or more terms, evaluated left to right (``or``, ``||``)."""

    terms: tuple[Expr, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Not(Node):
    """Negation (``not``, ``!``)."""

    operand: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- qualified primitives


@_node
class Qualifiers(Node):
    """The resolved qualifiers of a :class:`Primitive` (see the module docstring).

    ``proto``: one of :data:`PROTOS` or None; ``dir``: one of :data:`DIRS` or None;
    ``kind``: one of :data:`KINDS` or None.  ``inherited``: copied from the previous
    primitive (none written here).  ``undefined``: inherited from a term that has none
    (libpcap ``qerr``).  ``proto_text``: the protocol word as written (``ether``, ``wlan``).
    """

    proto: str | None = None
    dir: str | None = None
    kind: str | None = None
    inherited: bool = False
    undefined: bool = False
    proto_text: str | None = field(default=None, compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def explicit(self) -> bool:
        """True when these qualifiers were written in front of this id."""
        return not (self.inherited or self.undefined)


@_node
class NameId(Node):
    """A name id (host, net, port, service, protocol name, port range); escapes removed."""

    text: str
    escaped: bool = field(default=False, compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class NumberId(Node):
    """A numeric id (``port 80``, ``proto 6``, ``net 10``, ``host 167772161``)."""

    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class IPv4Id(Node):
    """2-4 dotted numbers as written (``10.1``, ``1.2.3.4``, DECnet ``1.2``)."""

    text: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def parts(self) -> int:
        """How many dot-separated numbers were written."""
        return self.text.count(".") + 1


@_node
class IPv4NetId(Node):
    """``addr/prefix`` for IPv4 (``prefix`` unchecked: the generator validates it)."""

    addr: IPv4Id
    prefix: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class IPv4MaskId(Node):
    """``addr mask mask``."""

    addr: IPv4Id
    mask: IPv4Id
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class IPv6Id(Node):
    """An IPv6 address; ``packed`` is its 16 bytes."""

    text: str
    packed: bytes
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class IPv6NetId(Node):
    """``addr/prefix`` for IPv6 (``prefix`` unchecked)."""

    addr: IPv6Id
    prefix: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class EtherId(Node):
    """A MAC address (``a:b:c:d:e:f``, ``a-b-..``, ``a.b.c.d.e.f``, ``xxxx.xxxx.xxxx``,
    ``xxxxxxxxxxxx``); ``octets`` is its 6 bytes."""

    text: str
    octets: bytes
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class ArcnetId(Node):
    """An ARCnet address ``$xx``; ``value`` is the byte."""

    text: str
    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


Id = NameId | NumberId | IPv4Id | IPv4NetId | IPv4MaskId | IPv6Id | IPv6NetId | EtherId | ArcnetId


@_node
class Primitive(Node):
    """``[proto] [dir] [kind] id`` with the qualifiers resolved (incl. inheritance)."""

    qual: Qualifiers
    id: Id
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class ProtoAbbrev(Node):
    """A protocol word on its own (``tcp``, ``ip6``, ``ether``, ``l1``...); ``proto`` is
    canonical (see :data:`PROTOS`), ``text`` the word as written."""

    proto: str
    text: str = field(default="", compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- keyword primitives


@_node
class Broadcast(Node):
    """``[proto] broadcast``; ``proto`` canonical or None."""

    proto: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Multicast(Node):
    """``[proto] multicast``; ``proto`` canonical or None."""

    proto: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Less(Node):
    """``less N``: wire length <= N."""

    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Greater(Node):
    """``greater N``: wire length >= N."""

    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class ByteOp(Node):
    """``byte INDEX OP VALUE`` (an IPv4-relative byte test); op in :data:`BYTE_OPS`."""

    index: int
    op: str
    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Inbound(Node):
    """``inbound``."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Outbound(Node):
    """``outbound``."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class IfIndex(Node):
    """``ifindex N``."""

    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Vlan(Node):
    """``vlan [N]`` (shifts the offsets of what follows)."""

    vid: int | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Mpls(Node):
    """``mpls [N]``."""

    label: int | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Pppoed(Node):
    """``pppoed``."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Pppoes(Node):
    """``pppoes [N]``."""

    session: int | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Geneve(Node):
    """``geneve [N]``."""

    vni: int | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Vxlan(Node):
    """``vxlan [N]``."""

    vni: int | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class PfIfname(Node):
    """pflog ``on NAME`` / ``ifname NAME``."""

    name: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class PfRuleset(Node):
    """pflog ``rset NAME`` / ``ruleset NAME``."""

    name: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class PfRnr(Node):
    """pflog ``rnr N`` / ``rulenum N``."""

    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class PfSrnr(Node):
    """pflog ``srnr N`` / ``subrulenum N``."""

    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class PfReason(Node):
    """pflog ``reason N|NAME`` (names via :mod:`bpfc.names`)."""

    value: int | str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class PfAction(Node):
    """pflog ``action NAME``."""

    name: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class WlanType(Node):
    """802.11 ``[proto] type T [subtype S]``; T and S numbers or names."""

    type: int | str
    subtype: int | str | None = None
    proto: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class WlanTypeRead(Node):
    """The ``T`` of ``[proto] type T subtype ...`` when the parser stopped before the
    subtype's value: libpcap has judged ``T`` already.  Only ever in the part of an
    expression reduced before a syntax error (:func:`bpfc.syntax.to_ast.reduced_prefix`)."""

    type: int | str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class WlanSubtype(Node):
    """802.11 ``[proto] subtype NAME`` (a name that also implies the type)."""

    subtype: str
    proto: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class WlanDir(Node):
    """802.11 ``[proto] dir D``; D a number or ``nods``/``tods``/``fromds``/``dstods``."""

    dir: int | str
    proto: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Llc(Node):
    """``llc [KIND]``; KIND as written (``i``, ``s``, ``u``, ``rr``, ``rnr``, ``ui``...)."""

    kind: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class AtmType(Node):
    """``lane``, ``metac``, ``bcc``, ``oamf4ec``, ``oamf4sc``, ``sc``, ``ilmic``."""

    name: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class AtmMultiType(Node):
    """``oam``, ``oamf4``, ``connectmsg``, ``metaconnect``."""

    name: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class AtmField(Node):
    """``vpi``/``vci`` compared with a number; op in :data:`RELOPS`."""

    field: str
    op: str
    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Mtp2Type(Node):
    """``fisu``, ``lssu`` (``lsu``), ``msu``, ``hfisu``, ``hlssu``, ``hmsu``."""

    name: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Mtp3Field(Node):
    """``sio opc dpc sls hsio hopc hdpc hsls`` compared with a number."""

    field: str
    op: str
    value: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- arithmetic


@_node
class Const(Node):
    """A number; ``name`` is the named constant written (``tcpflags``, ``icmp-echo``)."""

    value: int
    name: str | None = field(default=None, compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Len(Node):
    """``len`` / ``length``: the packet's wire length."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Load(Node):
    """``proto[index]`` / ``proto[index:size]``; ``proto`` canonical, ``size`` unchecked."""

    proto: str
    index: Arith
    size: int = 1
    proto_text: str | None = field(default=None, compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class BinOp(Node):
    """``lhs op rhs``; op in :data:`ARITH_OPS`."""

    op: str
    lhs: Arith
    rhs: Arith
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Neg(Node):
    """Unary minus."""

    operand: Arith
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_node
class Relation(Node):
    """``lhs op rhs`` over arithmetic; op in :data:`RELOPS`."""

    op: str
    lhs: Arith
    rhs: Arith
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


Arith = Const | Len | Load | BinOp | Neg

Expr = (
    Empty
    | And
    | Or
    | Not
    | Primitive
    | ProtoAbbrev
    | Broadcast
    | Multicast
    | Less
    | Greater
    | ByteOp
    | Inbound
    | Outbound
    | IfIndex
    | Vlan
    | Mpls
    | Pppoed
    | Pppoes
    | Geneve
    | Vxlan
    | PfIfname
    | PfRuleset
    | PfRnr
    | PfSrnr
    | PfReason
    | PfAction
    | WlanType
    | WlanSubtype
    | WlanDir
    | Llc
    | AtmType
    | AtmMultiType
    | AtmField
    | Mtp2Type
    | Mtp3Field
    | Relation
)
"""Any node that is a boolean filter term."""
