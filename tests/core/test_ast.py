"""The AST the parser builds: node shapes, qualifier inheritance, spans, deep inputs."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from bpfc import ast
from bpfc.errors import CompileError
from bpfc.syntax import parse


def Q(proto=None, dir=None, kind=None, *, inherited=False):  # noqa: A002, N802 - test helper
    return ast.Qualifiers(proto, dir, kind, inherited=inherited)


UNDEF = ast.Qualifiers(undefined=True)


def P(qual, ident):  # noqa: N802 - test helper
    return ast.Primitive(qual, ident)


def name(text):
    return ast.NameId(text)


def num(value):
    return ast.NumberId(value)


# ------------------------------------------------------------------ qualifier inheritance

HOST = Q(kind="host")
HOST_I = Q(kind="host", inherited=True)


@pytest.mark.parametrize(
    ("expr", "tree"),
    [
        ("host a or b", ast.Or((P(HOST, name("a")), P(HOST_I, name("b"))))),
        (
            "port 1 or 2",
            ast.Or((P(Q(kind="port"), num(1)), P(Q(kind="port", inherited=True), num(2)))),
        ),
        (
            "tcp port 1 or 2 and 3",
            ast.And(
                (
                    ast.Or(
                        (
                            P(Q("tcp", kind="port"), num(1)),
                            P(Q("tcp", kind="port", inherited=True), num(2)),
                        )
                    ),
                    P(Q("tcp", kind="port", inherited=True), num(3)),
                )
            ),
        ),
        ("not host a and b", ast.And((ast.Not(P(HOST, name("a"))), P(HOST_I, name("b"))))),
        (
            "src host a or b",
            ast.Or(
                (
                    P(Q(dir="src", kind="host"), name("a")),
                    P(Q(dir="src", kind="host", inherited=True), name("b")),
                )
            ),
        ),
        ("host a and not b", ast.And((P(HOST, name("a")), ast.Not(P(HOST_I, name("b")))))),
        (
            "host a and (b or c)",
            ast.And((P(HOST, name("a")), ast.Or((P(HOST_I, name("b")), P(HOST_I, name("c")))))),
        ),
        (
            "host (a or b)",
            ast.Or((P(HOST, name("a")), P(HOST_I, name("b")))),
        ),
        (
            # after ')' the qualifiers in force before '(' come back
            "host a and (tcp) or b",
            ast.Or((ast.And((P(HOST, name("a")), ast.ProtoAbbrev("tcp"))), P(HOST_I, name("b")))),
        ),
        (
            "host a and (tcp or host c) or b",
            ast.Or(
                (
                    ast.And(
                        (P(HOST, name("a")), ast.Or((ast.ProtoAbbrev("tcp"), P(HOST, name("c")))))
                    ),
                    P(HOST_I, name("b")),
                )
            ),
        ),
        ("(host a) or b", ast.Or((P(HOST, name("a")), P(UNDEF, name("b"))))),
        ("tcp or 1", ast.Or((ast.ProtoAbbrev("tcp"), P(UNDEF, num(1))))),
        ("len > 1 or 2", ast.Or((ast.Relation(">", ast.Len(), ast.Const(1)), P(UNDEF, num(2))))),
        ("vlan 1 and 2", ast.And((ast.Vlan(1), P(UNDEF, num(2))))),
        (
            "port (80 or (81 and 82))",
            ast.Or(
                (
                    P(Q(kind="port"), num(80)),
                    ast.And(
                        (
                            P(Q(kind="port", inherited=True), num(81)),
                            P(Q(kind="port", inherited=True), num(82)),
                        )
                    ),
                )
            ),
        ),
        ("port ((80))", P(Q(kind="port"), num(80))),
        (
            "ip host a or ether host b or c",
            ast.Or(
                (
                    P(Q("ip", kind="host"), name("a")),
                    P(Q("link", kind="host"), name("b")),
                    P(Q("link", kind="host", inherited=True), name("c")),
                )
            ),
        ),
    ],
)
def test_qualifier_inheritance(expr: str, tree: ast.Node) -> None:
    assert parse(expr) == tree


def test_inherited_and_explicit_flags() -> None:
    tree = parse("ether src host a or b")
    assert isinstance(tree, ast.Or)
    first, second = tree.terms
    assert first.qual.explicit and not first.qual.inherited
    assert second.qual.inherited and not second.qual.explicit
    assert second.qual.proto_text == "ether"
    assert parse("(tcp) or a").terms[1].qual.undefined


# ------------------------------------------------------------------ node shapes


@pytest.mark.parametrize(
    ("expr", "tree"),
    [
        ("", ast.Empty()),
        ("  \t ", ast.Empty()),
        ("tcp", ast.ProtoAbbrev("tcp")),
        ("ether", ast.ProtoAbbrev("link")),
        ("ip6 and icmp6", ast.And((ast.ProtoAbbrev("ip6"), ast.ProtoAbbrev("icmp6")))),
        ("es-is or is-is", ast.Or((ast.ProtoAbbrev("esis"), ast.ProtoAbbrev("isis")))),
        (
            "! tcp && udp || l1",
            ast.Or(
                (
                    ast.And((ast.Not(ast.ProtoAbbrev("tcp")), ast.ProtoAbbrev("udp"))),
                    ast.ProtoAbbrev("l1"),
                )
            ),
        ),
        (
            "tcp and (udp and sctp)",
            ast.And(
                (ast.ProtoAbbrev("tcp"), ast.And((ast.ProtoAbbrev("udp"), ast.ProtoAbbrev("sctp"))))
            ),
        ),
        (
            "(tcp and udp) and sctp",
            ast.And((ast.ProtoAbbrev("tcp"), ast.ProtoAbbrev("udp"), ast.ProtoAbbrev("sctp"))),
        ),
        ("host 10.1", P(HOST, ast.IPv4Id("10.1"))),
        ("net 10.0.0.0/8", P(Q(kind="net"), ast.IPv4NetId(ast.IPv4Id("10.0.0.0"), 8))),
        (
            "net 10.0.0.0 mask 255.0.0.0",
            P(Q(kind="net"), ast.IPv4MaskId(ast.IPv4Id("10.0.0.0"), ast.IPv4Id("255.0.0.0"))),
        ),
        ("ip6 host ::1", P(Q("ip6", kind="host"), ast.IPv6Id("::1", bytes(15) + b"\x01"))),
        (
            "ip6 net fe80::/10",
            P(
                Q("ip6", kind="net"),
                ast.IPv6NetId(ast.IPv6Id("fe80::", b"\xfe\x80" + bytes(14)), 10),
            ),
        ),
        (
            "ether host 1:2:3:4:5:6",
            P(Q("link", kind="host"), ast.EtherId("1:2:3:4:5:6", bytes([1, 2, 3, 4, 5, 6]))),
        ),
        (
            "ether src 0102.0304.0506",
            P(Q("link", "src"), ast.EtherId("0102.0304.0506", bytes([1, 2, 3, 4, 5, 6]))),
        ),
        ("link host $1f", P(Q("link", kind="host"), ast.ArcnetId("$1f", 0x1F))),
        ("decnet src 10.20", P(Q("decnet", "src"), ast.IPv4Id("10.20"))),
        ("tcp portrange 1-1024", P(Q("tcp", kind="portrange"), name("1-1024"))),
        ("ip proto \\tcp", P(Q("ip", kind="proto"), name("tcp"))),
        ("ip6 protochain 6", P(Q("ip6", kind="protochain"), num(6))),
        ("gateway snoopy", P(Q(kind="gateway"), name("snoopy"))),
        ("src or dst port 53", P(Q(dir="src or dst", kind="port"), num(53))),
        ("dst and src host a", P(Q(dir="src and dst", kind="host"), name("a"))),
        ("address1 a", P(Q(dir="addr1"), name("a"))),
        ("wlan ra a", P(Q("link", "ra"), name("a"))),
        ("broadcast", ast.Broadcast()),
        ("ip multicast", ast.Multicast("ip")),
        ("less 100", ast.Less(100)),
        ("greater 0x10", ast.Greater(16)),
        ("byte 3 & 4", ast.ByteOp(3, "&", 4)),
        ("inbound or outbound", ast.Or((ast.Inbound(), ast.Outbound()))),
        ("ifindex 4", ast.IfIndex(4)),
        ("vlan", ast.Vlan()),
        ("vlan (100)", ast.Vlan(100)),
        ("mpls 7 and pppoed and pppoes 3", ast.And((ast.Mpls(7), ast.Pppoed(), ast.Pppoes(3)))),
        ("geneve or vxlan 5", ast.Or((ast.Geneve(), ast.Vxlan(5)))),
        ("on eth0 and ruleset x", ast.And((ast.PfIfname("eth0"), ast.PfRuleset("x")))),
        ("rnr 1 or srnr 2", ast.Or((ast.PfRnr(1), ast.PfSrnr(2)))),
        ("reason match or reason 3", ast.Or((ast.PfReason("match"), ast.PfReason(3)))),
        ("action pass", ast.PfAction("pass")),
        ("type mgt", ast.WlanType("mgt")),
        ("wlan type data subtype 0x80", ast.WlanType("data", 0x80, "link")),
        ("subtype beacon", ast.WlanSubtype("beacon")),
        ("dir tods", ast.WlanDir("tods")),
        ("wlan dir 3", ast.WlanDir(3, "link")),
        ("llc", ast.Llc()),
        (
            "llc ui or llc rnr or llc rulenum",
            ast.Or((ast.Llc("ui"), ast.Llc("rnr"), ast.Llc("rnr"))),
        ),
        (
            "lane or metac or oamf4",
            ast.Or((ast.AtmType("lane"), ast.AtmType("metac"), ast.AtmMultiType("oamf4"))),
        ),
        ("vpi 1", ast.AtmField("vpi", "=", 1)),
        ("vci >= 32", ast.AtmField("vci", ">=", 32)),
        (
            "vpi (1 or 2 or 3)",
            ast.Or(
                (
                    ast.AtmField("vpi", "=", 1),
                    ast.AtmField("vpi", "=", 2),
                    ast.AtmField("vpi", "=", 3),
                )
            ),
        ),
        (
            "fisu or lsu or hmsu",
            ast.Or((ast.Mtp2Type("fisu"), ast.Mtp2Type("lssu"), ast.Mtp2Type("hmsu"))),
        ),
        ("dpc != 7", ast.Mtp3Field("dpc", "!=", 7)),
        ("hsls (1 or 2)", ast.Or((ast.Mtp3Field("hsls", "=", 1), ast.Mtp3Field("hsls", "=", 2)))),
    ],
)
def test_node_shapes(expr: str, tree: ast.Node) -> None:
    assert parse(expr) == tree


C = ast.Const


@pytest.mark.parametrize(
    ("expr", "lhs"),
    [
        ("len", ast.Len()),
        ("length", ast.Len()),
        ("(1)", C(1)),
        ("ether[0]", ast.Load("link", C(0), 1)),
        ("ip[2:2]", ast.Load("ip", C(2), 2)),
        ("tcp[tcpflags]", ast.Load("tcp", C(13), 1)),
        ("ip6[len - 1:4]", ast.Load("ip6", ast.BinOp("-", ast.Len(), C(1)), 4)),
        ("1 + 2 * 3", ast.BinOp("+", C(1), ast.BinOp("*", C(2), C(3)))),
        ("1 - 2 - 3", ast.BinOp("-", ast.BinOp("-", C(1), C(2)), C(3))),
        ("1 | 2 & 3", ast.BinOp("|", C(1), ast.BinOp("&", C(2), C(3)))),
        ("1 << 2 + 3", ast.BinOp("<<", C(1), ast.BinOp("+", C(2), C(3)))),
        ("(1 | 2) & 3", ast.BinOp("&", ast.BinOp("|", C(1), C(2)), C(3))),
        ("-1 * 2", ast.BinOp("*", ast.Neg(C(1)), C(2))),
        ("- -len", ast.Neg(ast.Neg(ast.Len()))),
        # '%' and '^' have no precedence in libpcap's grammar: bison always shifts them
        ("len % 3 + 1", ast.BinOp("%", ast.Len(), ast.BinOp("+", C(3), C(1)))),
        ("len + 1 % 3", ast.BinOp("+", ast.Len(), ast.BinOp("%", C(1), C(3)))),
        ("2 * 3 ^ 4 | 5", ast.BinOp("*", C(2), ast.BinOp("^", C(3), ast.BinOp("|", C(4), C(5))))),
        ("-len % 3", ast.Neg(ast.BinOp("%", ast.Len(), C(3)))),
        ("1 % 2 % 3", ast.BinOp("%", C(1), ast.BinOp("%", C(2), C(3)))),
    ],
)
def test_arithmetic_shapes(expr: str, lhs: ast.Node) -> None:
    tree = parse(f"{expr} = 0")
    assert tree == ast.Relation("=", lhs, C(0))


@pytest.mark.parametrize(
    ("op", "canonical"),
    [(">", ">"), (">=", ">="), ("=", "="), ("==", "="), ("<=", "<="), ("<", "<"), ("!=", "!=")],
)
def test_relational_operators(op: str, canonical: str) -> None:
    assert parse(f"len {op} 1") == ast.Relation(canonical, ast.Len(), C(1))


# ------------------------------------------------------------------ spans and equality


def test_equality_and_hash_ignore_spans() -> None:
    a, b = parse("host a or b"), parse("  host   a  or    b ")
    assert a == b and hash(a) == hash(b)
    assert a.span != b.span


def test_spans_cover_the_source_text() -> None:
    expr = "tcp port 80 and (host a or not b)"
    tree = parse(expr)
    assert tree.span == (0, len(expr))
    spans = {type(n).__name__ + ":" + expr[n.span[0] : n.span[1]] for n in ast.walk(tree)}
    assert "Primitive:tcp port 80" in spans
    assert "NumberId:80" in spans
    assert "Qualifiers:tcp port" in spans
    assert "Or:(host a or not b)" in spans
    assert "Not:not b" in spans
    assert "NameId:b" in spans


def test_nodes_are_frozen() -> None:
    node = parse("less 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.value = 2  # type: ignore[misc]


def test_nodes_behave_as_dataclasses() -> None:
    node = parse("tcp port 80")
    assert isinstance(node, ast.Primitive) and dataclasses.is_dataclass(node)
    assert node.field_names() == ("qual", "id", "span")
    moved = dataclasses.replace(node, id=ast.NumberId(81))
    assert moved.id == ast.NumberId(81) and moved.qual == node.qual and moved.span == node.span
    assert pickle.loads(pickle.dumps(node)) == node
    assert copy.deepcopy(node) == node
    match node:
        case ast.Primitive(ast.Qualifiers(proto="tcp"), ast.NumberId(value)):
            assert value == 80
        case _:
            pytest.fail("match pattern did not match")
    with pytest.raises(TypeError):
        ast.Less()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ast.Less(1, (0, 1), 3)  # type: ignore[call-arg]
    assert ast.Less(1) != ast.Greater(1) and hash(ast.Less(1)) != hash(ast.Greater(1))


def test_walk_is_preorder() -> None:
    tree = parse("tcp and not udp")
    assert [type(n).__name__ for n in ast.walk(tree)] == [
        "And",
        "ProtoAbbrev",
        "Not",
        "ProtoAbbrev",
    ]


# ------------------------------------------------------------------ deep and long inputs


def test_hundred_thousand_terms() -> None:
    expr = " or ".join(["host a"] + ["b"] * 99_999)
    tree = parse(expr)
    assert isinstance(tree, ast.Or) and len(tree.terms) == 100_000
    assert tree.terms[-1].qual.inherited


def test_ten_thousand_nested_parentheses() -> None:
    assert parse("(" * 10_000 + "tcp" + ")" * 10_000) == ast.ProtoAbbrev("tcp")
    assert parse("port " + "(" * 10_000 + "1" + ")" * 10_000) == P(Q(kind="port"), num(1))
    rel = parse("len = " + "(" * 10_000 + "len" + ")" * 10_000)
    assert rel == ast.Relation("=", ast.Len(), ast.Len())


def test_deep_nots_and_negations_and_alternations() -> None:
    tree = parse("not " * 10_000 + "tcp")
    depth = sum(1 for n in ast.walk(tree) if isinstance(n, ast.Not))
    assert depth == 10_000
    assert isinstance(parse("len = " + "-" * 10_000 + "1"), ast.Relation)
    alternating = " ".join(f"{'and' if i % 2 else 'or'} tcp" for i in range(20_000))
    assert isinstance(parse("tcp " + alternating), ast.And)


def test_unbalanced_deep_parentheses_are_a_syntax_error() -> None:
    with pytest.raises(CompileError):
        parse("(" * 10_000 + "tcp" + ")" * 9_999)
