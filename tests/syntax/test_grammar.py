"""The grammar and scanner: the upstream corpus, token rules, spans and error wording."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from bpfc import ast
from bpfc.errors import CompileError
from bpfc.syntax import SYNTAX_ERROR, parse
from bpfc.syntax.gen_tables import grammar_sha256
from bpfc.syntax.lexer import KEYWORDS, NAMED_NUMBERS, tokenize
from bpfc.syntax.parse import grammar_text, tables_are_fresh


def _is_lexical(errstr: str) -> bool:
    """Upstream error strings that libpcap's scanner (not gencode) produces."""
    return (
        errstr.startswith(("number ", "invalid IPv6 address "))
        or errstr.endswith(" overflows 32 bits")
        or errstr == "invalid Ethernet address"
    )


@cache
def _records(path: Path) -> tuple[dict, ...]:
    with open(path / "libpcap-filtertests.jsonl", encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f)


def _exprs(upstream: Path, kind: str) -> list[str]:
    seen: dict[str, None] = {}
    for rec in _records(upstream):
        if rec["kind"] == kind and rec["expr"] != "_enumerate_bpf_image":
            seen.setdefault(rec["expr"], None)
    return list(seen)


def _types(expr: str) -> list[str]:
    return [t.type for t in tokenize(expr)]


# ------------------------------------------------------------------ upstream corpus


def test_every_upstream_accept_expression_parses(upstream: Path) -> None:
    exprs = _exprs(upstream, "accept")
    assert len(exprs) > 1500
    failures = {}
    for expr in exprs:
        try:
            parse(expr)
        except CompileError as err:
            failures[expr] = str(err)
    assert failures == {}


def test_upstream_syntax_rejects_raise_the_syntax_error(upstream: Path) -> None:
    cases = [r for r in _records(upstream) if r["kind"] == "reject" and r["errstr"] == SYNTAX_ERROR]
    assert len(cases) >= 39
    for rec in cases:
        with pytest.raises(CompileError) as info:
            parse(rec["expr"])
        assert info.value.message == SYNTAX_ERROR, rec["expr"]
        assert info.value.expr == rec["expr"]
        assert info.value.span is not None


def test_upstream_lexical_rejects_have_libpcaps_wording(upstream: Path) -> None:
    cases = [
        r for r in _records(upstream) if r["kind"] == "reject" and _is_lexical(r["errstr"])
    ]  # fmt: skip
    assert len(cases) >= 15
    for rec in cases:
        with pytest.raises(CompileError) as info:
            parse(rec["expr"])
        # errstr is a prefix of master's message (which may go on: the bad token's text)
        assert info.value.message.startswith(rec["errstr"]), rec["expr"]


def test_bogus_ethernet_address_names_the_scanned_text() -> None:
    # libpcap's scanner matches "ab:cd:ef:" (hex pairs and colons) and quotes that much
    with pytest.raises(CompileError) as info:
        parse("ether ab:cd:ef:0g:00:00")
    assert info.value.message == "invalid Ethernet address ab:cd:ef:"


def test_upstream_reject_expressions_never_raise_anything_else(upstream: Path) -> None:
    for expr in _exprs(upstream, "reject"):
        try:
            parse(expr)
        except CompileError:
            pass


# ------------------------------------------------------------------ scanner rules


@pytest.mark.parametrize(
    ("text", "types"),
    [
        ("ip6", ["IPV6"]),
        ("ip6x", ["ID"]),
        ("ether", ["LINK"]),
        ("wlan", ["LINK"]),
        ("es-is is-is", ["ESIS", "ISIS"]),
        ("TCP", ["ID"]),  # keywords are case-sensitive
        ("10", ["NUM"]),
        ("0x1A", ["NUM"]),
        ("0x1g", ["ID"]),
        ("1e5", ["ID"]),
        ("10.1", ["HID"]),
        ("1.2.3.4", ["HID"]),
        ("1.2.3.4.5", ["ID"]),
        ("10.1.", ["ID"]),
        ("10.0.0.0/8", ["HID", "SLASH", "NUM"]),
        ("1-1024", ["ID"]),
        ("ftp-data", ["ID"]),
        ("23-", ["NUM", "MINUS"]),
        ("001122334455", ["EID"]),
        ("037777777777", ["EID"]),  # 12 hex digits: a MAC, even for libpcap
        ("aabbccddeeff", ["EID"]),
        ("aa:bb:cc:dd:ee:ff", ["EID"]),
        ("a-b-c-d-e-f", ["EID"]),
        ("aabb.ccdd.eeff", ["EID"]),
        ("1.2.3.4.5.6", ["EID"]),
        ("::", ["HID6"]),
        ("::1", ["HID6"]),
        ("fe80::1/64", ["HID6", "SLASH", "NUM"]),
        ("::ffff:1.2.3.4", ["HID6"]),
        ("1:2:3:4:5:6:7:8", ["HID6"]),
        ("fe80:0:0:0:0:0:0:0:0", ["HID6", "COLON", "NUM"]),
        ("$1f", ["AID"]),
        ("$123", ["AID", "NUM"]),
        ("$x", ["LEX_ERROR", "ID"]),
        ("\\tcp", ["ID"]),
        ("tcp-syn", ["NUM"]),
        ("icmp6-echoreply", ["NUM"]),
        ("icmp-echox", ["ID"]),
        (">= <= != == << >> && ||", ["GEQ", "LEQ", "NEQ", "EQ", "LSH", "RSH", "AND", "OR"]),
        ("! not", ["NOT", "NOT"]),
        ("a#b", ["ID", "LEX_ERROR", "ID"]),
        ("\t\r\n tcp", ["TCP"]),
        ("é", ["LEX_ERROR"]),
    ],
)
def test_token_types_follow_flex_longest_match(text: str, types: list[str]) -> None:
    assert _types(text) == types


def test_escaped_name_drops_the_backslash_and_stops_at_parenthesis() -> None:
    toks = list(tokenize("\\ip)"))
    assert [(t.type, str(t)) for t in toks] == [("ID", "ip"), ("RPAR", ")")]
    assert (toks[0].start_pos, toks[0].end_pos) == (0, 3)


@pytest.mark.parametrize("word", sorted(KEYWORDS))
def test_every_keyword_is_its_own_token(word: str) -> None:
    assert _types(word) == [KEYWORDS[word]]
    assert _types(word + "q") == ["ID"]  # a longer word is a name


@pytest.mark.parametrize("word", sorted(NAMED_NUMBERS))
def test_named_constants_are_numbers(word: str) -> None:
    assert _types(word) == ["NUM"]
    tree = parse(f"len = {word}")
    assert isinstance(tree, ast.Relation)
    assert tree.rhs == ast.Const(NAMED_NUMBERS[word])
    assert tree.rhs.name == word


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("010", 8), ("0x10", 16), ("0XfF", 255), ("4294967295", 0xFFFFFFFF),
     ("0377", 255), ("03777777777", 0o3777777777), ("0xffffffff", 0xFFFFFFFF)],
)  # fmt: skip
def test_numbers_in_decimal_octal_hex(text: str, value: int) -> None:
    assert parse(f"less {text}") == ast.Less(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08", "number 08 contains non-octal digit"),
        ("4294967296", "decimal number 4294967296 overflows 32 bits"),
        ("0x100000000", "hexadecimal number 0x100000000 overflows 32 bits"),
        ("0400000000000", "octal number 0400000000000 overflows 32 bits"),
        ("ip6 host ::1.2.3.256", "invalid IPv6 address ::1.2.3.256"),
        ("ether host 1:2:3", "invalid Ethernet address 1:2:"),
    ],
)
def test_lexical_errors(text: str, message: str) -> None:
    with pytest.raises(CompileError) as info:
        parse(text)
    assert info.value.message == message


# ------------------------------------------------------------------ errors and spans


@pytest.mark.parametrize(
    ("expr", "span"),
    [
        ("tcp port", (8, 8)),  # end of input: empty span at the end
        ("host a b", (7, 8)),
        ("tcp and and udp", (8, 11)),
        ("(tcp", (4, 4)),
        ("tcp)", (3, 4)),
        ("lldp", (0, 4)),
        ("TCP", (0, 3)),
        ("ip and $x", (7, 8)),
        ("port 80 # comment", (8, 9)),
        ("src proto 1", (4, 9)),
        ("byte 1 != 2", (7, 9)),
        ("link[0:-1] != 0", (7, 8)),
    ],
)
def test_syntax_error_span_points_at_the_offending_token(expr: str, span: tuple) -> None:
    with pytest.raises(CompileError) as info:
        parse(expr)
    err = info.value
    assert (err.message, err.expr, err.span) == (SYNTAX_ERROR, expr, span)
    assert err.position == span[0]


def test_format_context_draws_a_caret_under_the_token() -> None:
    with pytest.raises(CompileError) as info:
        parse("tcp port 80 and and")
    lines = info.value.format_context().splitlines()
    assert lines[0] == SYNTAX_ERROR
    assert lines[1] == "  tcp port 80 and and"
    assert lines[2] == "  " + " " * 16 + "^~~"


def test_lexical_error_span_is_the_number() -> None:
    with pytest.raises(CompileError) as info:
        parse("tcp[08] = 1")
    assert info.value.span == (4, 6)


def test_grammar_file_is_the_packaged_one() -> None:
    text = grammar_text()
    assert "start: expr?" in text
    assert "%declare" in text


# ------------------------------------------------------------------ the two engines


def test_generated_tables_match_the_grammar() -> None:
    """If this fails, run ``python -m bpfc.syntax.gen_tables`` and commit _tables.py."""
    from bpfc.syntax import _tables

    assert _tables.GRAMMAR_SHA256 == grammar_sha256(grammar_text())
    assert tables_are_fresh()


def test_tables_engine_and_lark_agree_on_the_corpus(upstream: Path) -> None:
    exprs = _exprs(upstream, "accept")[::3] + _exprs(upstream, "reject")[::7]
    for expr in exprs:
        results = []
        for engine in ("tables", "lark"):
            try:
                results.append(parse(expr, engine))
            except CompileError as err:
                results.append((err.message, err.span))
        assert results[0] == results[1], expr


def test_parsing_does_not_import_lark() -> None:
    code = "import sys; from bpfc.syntax import parse; parse('tcp'); print('lark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
