"""Property tests for the front end: any input gives an AST or a CompileError, never
anything else; respacing never changes the AST; and the syntax verdict on random token
soup is the system libpcap's."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bpfc import ast
from bpfc.errors import CompileError
from bpfc.syntax import SYNTAX_ERROR, parse
from bpfc.syntax.lexer import KEYWORDS, NAMED_NUMBERS

# Words libpcap 1.10.3 (the oracle) does not know as keywords but master (our reference) does.
NEWER_KEYWORDS = {"vxlan"}

PUNCTUATION = "( ) [ ] : + - * / % & | ^ << >> < > <= >= = == != ! && ||".split()
ATOMS = [
    "0", "1", "2", "80", "0x10", "010", "255", "4294967295", "1.2.3.4", "10.0", "10.1.2",
    "::1", "fe80::", "::ffff:1.2.3.4", "aa:bb:cc:dd:ee:ff", "0102.0304.0506", "$1f",
    "foo", "a-b", "1-1024", "\\ip", "\\tcp", "ftp-data", "mgt", "beacon", "tods", "ui",
]  # fmt: skip
WORDS = sorted(set(KEYWORDS) - NEWER_KEYWORDS) + sorted(NAMED_NUMBERS)[:8] + ATOMS + PUNCTUATION

token_soup = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
glued_soup = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map("".join)


def _parse_or_error(expr: str) -> ast.Node | CompileError:
    try:
        return parse(expr)
    except CompileError as err:
        assert err.expr == expr
        assert err.span is None or 0 <= err.span[0] <= err.span[1] <= len(expr)
        assert err.message and "\n" not in err.message
        return err


@given(st.text(max_size=60))
def test_random_text_gives_an_ast_or_a_compile_error(expr: str) -> None:
    result = _parse_or_error(expr)
    assert isinstance(result, (ast.Node, CompileError))


@given(st.one_of(token_soup, glued_soup))
def test_token_soup_gives_an_ast_or_a_compile_error(expr: str) -> None:
    result = _parse_or_error(expr)
    if isinstance(result, ast.Node):
        for node in ast.walk(result):
            start, end = node.span
            assert 0 <= start <= end <= len(expr)


@pytest.fixture(scope="module")
def libpcap_compile():
    from bpfc import libpcap

    if not libpcap.available():
        pytest.skip("system libpcap not available")
    return libpcap


@given(st.one_of(token_soup, glued_soup))
def test_syntax_verdict_matches_libpcap(libpcap_compile, expr: str) -> None:
    """libpcap runs code generation while it parses, so a semantic error can come first:
    we only require that a syntax error on one side is an error on the other, and that
    libpcap's syntax errors are ours too."""
    ours = _parse_or_error(expr)
    try:
        libpcap_compile.compile(expr, "EN10MB", optimize=False)
        theirs = None
    except libpcap_compile.LibpcapError as err:
        theirs = str(err)
    if theirs == SYNTAX_ERROR:
        assert isinstance(ours, CompileError), expr
    if isinstance(ours, CompileError) and ours.message == SYNTAX_ERROR:
        assert theirs is not None, expr


# ------------------------------------------------------------------ generated valid input

PRIMITIVES = [
    "tcp", "ip6", "ether broadcast", "host a", "src net 10.0.0.0/8", "tcp port 80", "b",
    "portrange 1-1024", "ip proto \\udp", "len > 10", "ip[0] & 0xf != 5", "vlan 10",
    "ether host aa:bb:cc:dd:ee:ff", "ip6 net fe80::/10", "icmp[icmptype] == icmp-echo",
    "not c", "less 100", "wlan type mgt subtype beacon", "(d or e)", "llc ui",
]  # fmt: skip


@st.composite
def expressions(draw, depth: int = 0) -> str:
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(PRIMITIVES))
    kind = draw(st.sampled_from(["and", "or", "&&", "||", "not", "paren"]))
    if kind == "not":
        return "not " + draw(expressions(depth + 1))
    if kind == "paren":
        return "(" + draw(expressions(depth + 1)) + ")"
    return f"{draw(expressions(depth + 1))} {kind} {draw(expressions(depth + 1))}"


def _respace(expr: str, spaces: list[str]) -> str:
    """Put extra whitespace around every parenthesis and operator word."""
    parts = re.split(r"(\s+|\(|\))", expr)
    out = []
    for i, part in enumerate(p for p in parts if p and not p.isspace()):
        out.append(part)
        out.append(spaces[i % len(spaces)])
    return "".join(out)


@given(expressions(), st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \r\n "]), min_size=1))
def test_generated_expressions_parse_and_ignore_spacing(expr: str, spaces: list[str]) -> None:
    tree = _parse_or_error(expr)
    assume(not isinstance(tree, CompileError) or tree.message != SYNTAX_ERROR)
    assert isinstance(tree, ast.Node), (expr, tree)
    assert parse(_respace(expr, spaces)) == tree


@given(expressions())
def test_and_or_are_flat_on_the_left(expr: str) -> None:
    tree = _parse_or_error(expr)
    assume(isinstance(tree, ast.Node))  # e.g. "(d or e)" first: a bare name starts no term
    for node in ast.walk(tree):
        if isinstance(node, (ast.And, ast.Or)):
            assert len(node.terms) >= 2
            assert type(node.terms[0]) is not type(node) or node.terms[0].span[0] < node.span[0]


# ------------------------------------------------------------------ arithmetic shape vs libpcap

U32 = 0xFFFFFFFF


class _Undefined(Exception):
    """Division by zero or an oversized shift: libpcap would not fold it."""


def _evaluate(node: ast.Node) -> int:
    if isinstance(node, ast.Const):
        return node.value
    if isinstance(node, ast.Neg):
        return -_evaluate(node.operand) & U32
    assert isinstance(node, ast.BinOp)
    a, b = _evaluate(node.lhs), _evaluate(node.rhs)
    if node.op in "/%" and b == 0 or node.op in ("<<", ">>") and b >= 32:
        raise _Undefined
    ops = {
        "+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b,
        "/": a // b if b else 0, "%": a % b if b else 0, "<<": a << b, ">>": a >> b,
    }  # fmt: skip
    return ops[node.op] & U32


@st.composite
def arithmetic(draw, depth: int = 0) -> str:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return str(draw(st.integers(0, 9)))
    kind = draw(st.sampled_from(["binary", "binary", "binary", "neg", "paren"]))
    if kind == "neg":
        return "- " + draw(arithmetic(depth + 1))
    if kind == "paren":
        return "(" + draw(arithmetic(depth + 1)) + ")"
    op = draw(st.sampled_from(ast.ARITH_OPS))
    return f"{draw(arithmetic(depth + 1))} {op} {draw(arithmetic(depth + 1))}"


@settings(max_examples=60)  # later examples are big; libpcap's optimizer then takes ~0.1 s
@given(arithmetic())
def test_arithmetic_grouping_matches_libpcap(libpcap_compile, expr: str) -> None:
    """Constant arithmetic: libpcap's optimizer folds ``EXPR = V`` to "accept all" exactly
    when V is EXPR's value, so our tree's value proves our grouping is libpcap's."""
    tree = parse(f"{expr} = 0")
    assert isinstance(tree, ast.Relation)
    try:
        value = _evaluate(tree.lhs)
    except _Undefined:
        assume(False)
        return
    try:
        program = libpcap_compile.compile(f"{expr} = {value}", "EN10MB", optimize=True)
    except libpcap_compile.LibpcapError as err:
        # libpcap rejects a divisor whose code *starts* with "ld #0" ("0 % 0 + 1")
        assume("by zero" not in str(err))
        raise
    assert [tuple(i) for i in program] == [(0x06, 0, 0, 262144)], expr
