"""The suite format: filters, names, sections and settings; every mistake names file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.golden.suite import DEFAULT_SNAPLEN, SuiteError, load_suite, parse_suite

EXAMPLE = """\
# sensors' capture filters
@linktype EN10MB
web: tcp port 80 or tcp port 443   # the proxies
udp port 53 @linktype=LINUX_SLL,RAW @snaplen=96
host fe80::1
ether host 00:11:22:33:44:55

[edge]
@linux on
@netmask 255.255.255.0
ssh: tcp port 22
icmp
"""


def test_the_documented_example() -> None:
    got = {f.id: f for f in parse_suite(EXAMPLE, "f.suite")}
    assert list(got) == [
        "web", "001@LINUX_SLL", "001@RAW", "002", "003", "edge/ssh", "edge/001",
    ]  # fmt: skip
    assert got["web"].expr == "tcp port 80 or tcp port 443"
    assert (got["001@RAW"].linktype, got["001@RAW"].snaplen) == ("RAW", 96)
    assert got["002"].expr == "host fe80::1" and got["002"].snaplen == DEFAULT_SNAPLEN
    assert got["003"].expr == "ether host 00:11:22:33:44:55"  # colons are not a name
    ssh = got["edge/ssh"]
    assert (ssh.linux, ssh.netmask, ssh.linktype, ssh.line) == (True, "255.255.255.0", "EN10MB", 11)
    assert got["web"].linux is False  # settings of a section stay in it


def test_settings_before_the_first_section_are_every_section_s_start() -> None:
    text = "@snaplen 100\n[a]\n@snaplen 200\nx: tcp\n[b]\ny: udp\n"
    got = {f.id: f.snaplen for f in parse_suite(text)}
    assert got == {"a/x": 200, "b/y": 100}


def test_link_type_names_are_canonical_and_numbers_allowed() -> None:
    (f,) = parse_suite("@linktype dlt_linux_sll\ntcp\n")
    (g,) = parse_suite("tcp @linktype=1\n")
    assert (f.linktype, g.linktype) == ("LINUX_SLL", "EN10MB")


def test_column_points_at_the_expression() -> None:
    (f,) = parse_suite("   web:   tcp port 80\n", "s")
    assert f.column == 11 and f.at(4) == "s:1:15"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("tcp @snaplen=x\n", "1:5", "bad snaplen 'x'"),
        ("tcp\n  udp @colour=red\n", "2:7", "unknown setting '@colour'"),
        ("@linktype NOPE\n", "1:1", "unknown link type 'NOPE'"),
        ("@netmask 300.0.0.0\n", "1:1", "bad netmask"),
        ("@linux perhaps\n", "1:1", "bad linux setting"),
        ("[not closed\n", "1:1", "bad section header"),
        ("  web:\n", "1:7", "no filter expression after the name"),  # where it should be
        ("a: tcp\n\na: udp\n", "3:1", "duplicate filter id 'a' (first on line 1)"),
        ("tcp @snaplen=1 @linux=maybe\n", "1:16", "bad linux setting 'maybe'"),
        ("@\n", "1:1", "bad setting"),
    ],
)
def test_errors_name_file_line_and_column(text: str, where: str, words: str) -> None:
    with pytest.raises(SuiteError) as info:
        parse_suite(text, "my.suite")
    assert str(info.value).startswith(f"my.suite:{where}: ") and words in str(info.value)


def test_load_names_the_file_of_a_non_utf8_suite(tmp_path: Path) -> None:
    path = tmp_path / "x.suite"
    path.write_bytes(b"tcp port \xff\n")
    with pytest.raises(SuiteError, match=r"x\.suite:1:1: not UTF-8"):
        load_suite(path)


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)
EXPRS = st.sampled_from(["tcp", "udp port 53", "host 10.0.0.1", "ip6 and tcp[13] & 2 != 0"])
SNAPS = st.integers(1, 2**31 - 1)


@given(
    st.lists(st.tuples(NAMES, EXPRS, SNAPS, st.booleans()), max_size=8, unique_by=lambda t: t[0])
)
def test_named_lines_parse_to_what_was_written(rows: list[tuple[str, str, int, bool]]) -> None:
    text = "".join(
        f"{name}: {expr} @snaplen={snap} @linux={'on' if linux else 'off'}\n"
        for name, expr, snap, linux in rows
    )
    got = parse_suite(text)
    assert [(f.id, f.expr, f.snaplen, f.linux) for f in got] == rows
    assert [f.line for f in got] == list(range(1, len(rows) + 1))


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_any_text_parses_or_fails_with_a_located_error(text: str) -> None:
    try:
        filters = parse_suite(text, "t")
    except SuiteError as err:
        line, col = err.line, err.column
        assert 1 <= line <= max(1, len(text.splitlines())) and col >= 1
        return
    assert len({f.id for f in filters}) == len(filters)
    assert all(f.expr and f.expr == f.expr.strip() for f in filters)
