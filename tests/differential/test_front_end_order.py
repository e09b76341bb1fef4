"""libpcap's *first* error (issue 17, part 2): it generates code as its parser reduces, left
to right, so a semantic error in a primitive it has reduced wins over a later syntax or
scanner error; bison's default reductions decide what "reduced" means at the bad token.

The cases carry master's message (checked against master itself where it is present),
the property tests need no oracle: a semantically wrong primitive keeps its error, and
its caret, whatever syntax error follows it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.oracles import master_library

import bpfc
from bpfc import libpcap
from bpfc.errors import CompileError
from bpfc.syntax.lexer import KEYWORDS, PUNCT

PUNCTUATION = sorted(PUNCT)

SYNTAX = "can't parse filter expression: syntax error"
RA = "'ra' is valid for 802.11 syntax only"

# (expression, master's message, the text the caret covers or None)
CASES: list[tuple[str, str, str | None]] = [
    # reduced before the syntax error: its semantic error wins
    ("ra host 1.2.3.4 and (", RA, "ra host 1.2.3.4"),
    ("ra host 1.2.3.4 )", RA, "ra host 1.2.3.4"),
    ("ra host 1.2.3.4 5", RA, "ra host 1.2.3.4"),
    ("(ra host 1.2.3.4", RA, "ra host 1.2.3.4"),
    ("tcp port 80 and ra host 1.2.3.4 tcp", RA, "ra host 1.2.3.4"),
    ("host 1.2.3.4 and ra 5.6.7.8 and", RA, "ra 5.6.7.8"),
    ("ta portrange 1-2 and and", "'ta' is not a valid qualifier for 'portrange'", None),
    ("link host 10.0.0.1 or", "illegal link-layer address '10.0.0.1'", "link host 10.0.0.1"),
    ("link host (1.2.3.4 or", "illegal link-layer address '1.2.3.4'", None),
    ("vlan 5000 and (", "VLAN tag 5000 greater than maximum 4095", "vlan 5000"),
    ("tcp port 99999 host", "port number 99999 greater than maximum 65535", None),
    ("portrange domain )", "port range 'domain' contains no hyphen", "portrange domain"),
    ("ip[1/0] > 1 )", "division by zero", None),
    ("ether )", "'link' cannot be used as an abbreviation", "ether"),
    ("radio and", "'radio' cannot be used as an abbreviation", "radio"),
    # not reduced when the parser stops: the syntax error stands
    ("link host 10.0.0.1 /", SYNTAX, None),
    ("link host 10.0.0.1 mask", SYNTAX, None),
    ("host (1.2.3.4 or ra", SYNTAX, None),
    ("ip[1] + )", SYNTAX, None),
    ("radio not", SYNTAX, None),  # after a pname, bison's default is the qualifier
    # scanner errors: code generation's errors replace them, the grammar's checks only
    # when they were made before the scanner got there
    ("port foo 08", "unknown port 'foo'", "port foo"),
    ("tcp port 80 08", "number 08 contains non-octal digit", "08"),
    ("port 1.2.3.4 08", "number 08 contains non-octal digit", "08"),
    ("port 1.2.3.4 and 08", "'port' qualifier applied to IPv4 address", None),
    ("llc bogus 08", 'unknown LLC type name "bogus"', None),
    ("wlan[40:8] < 99999999999", "data size must be 1, 2, or 4", None),
    ("host 1.2.3.4 and ra host 1.2.3.4 and 1::2::", RA, "ra host 1.2.3.4"),
    # so is a list of ids, from its first number on
    ("esp portrange (0 || 0x100000000)", "'esp' is not a valid qualifier for 'portrange'", None),
    ("ra port (0 || 1::2::3/129)", "'ra' is not a valid qualifier for 'port'", None),
    ("ip port (2/31 or 3)", "'ip' is not a valid qualifier for 'port'", None),
    # ... also behind a negation: the ids of ``not id`` take the head's qualifiers
    ("tcp port not (99999 mask 1.1)", "port number 99999 greater than maximum 65535", None),
    ("tcp port ! not (99999 /", "port number 99999 greater than maximum 65535", None),
    ("tcp port not ((99999 mask 1.1))", SYNTAX, None),  # a second paren: no default
    # the type of 'type T subtype' is judged when 'subtype' is read
    ("type bogus subtype 99999999999", 'unknown 802.11 type name "bogus"', None),
    ("type 0x1 subtype )", "invalid 802.11 type value 0x01", None),
    ("type mgt subtype )", SYNTAX, None),
    # a value list is tested value by value as it is read
    ("vpi (1 or 99999999999)", "'vpi' supported only on SUNATM", None),
    ("vpi (99999999999 or 1)", "decimal number 99999999999 overflows 32 bits", None),
    ("sio (1 or 2 or", "'sio' supported only on SS7", None),
]


# (link type, expression, master's message): the first error off Ethernet
LINK_CASES: list[tuple[str, str, str]] = [
    # arithmetic reduced before the error is generated with the link type's own modules
    ("ARCNET", "ip[1] & clnp[", SYNTAX),
    ("ARCNET", "ip[1] & clnp[0xFFFFFFFFF]", "hexadecimal number 0xFFFFFFFFF overflows 32 bits"),
    ("JUNIPER_ETHER", "not vpi (0xffff or 99999999999 or 01)", "'vpi' supported only on SUNATM"),
    ("PPP", "clnp or hsio (16 or 0 or 0789)", "'hsio' supported only on SS7"),
    # seed 17's one message difference: a negated list of ids is reduced like a plain one
    (
        "MTP2",
        "not udp port not (192 mask 255.255 || 020000000000 || 2001:db8::2) || rarp",
        "link-layer type filtering not implemented for DLT_MTP2 (SS7 MTP2)",
    ),
    (
        "IEEE802_11",
        "src or dst host ff:ff:ff:ff:ff:ff",
        "Ethernet address used in non-ether expression",
    ),
]


def _error(expr: str, linktype: str = "EN10MB") -> CompileError:
    with pytest.raises(CompileError) as info:
        bpfc.compile(expr, linktype=linktype)
    return info.value


@pytest.mark.parametrize(("expr", "message", "caret"), CASES)
def test_first_error(expr: str, message: str, caret: str | None) -> None:
    err = _error(expr)
    assert err.message == message
    if caret is not None:
        assert err.span is not None
        assert expr[err.span[0] : err.span[1]] == caret


@pytest.fixture(scope="module")
def master() -> libpcap.Libpcap:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    return libpcap.library(path)


@pytest.mark.parametrize(("expr", "message", "caret"), CASES)
def test_message_is_masters(
    master: libpcap.Libpcap, expr: str, message: str, caret: str | None
) -> None:
    with pytest.raises(libpcap.LibpcapError) as info:
        master.compile(expr, "EN10MB")
    assert info.value.message == message == _error(expr).message


@pytest.mark.parametrize(("linktype", "expr", "message"), LINK_CASES)
def test_first_error_off_ethernet(linktype: str, expr: str, message: str) -> None:
    assert _error(expr, linktype).message == message


@pytest.mark.parametrize(("linktype", "expr", "message"), LINK_CASES)
def test_message_off_ethernet_is_masters(
    master: libpcap.Libpcap, linktype: str, expr: str, message: str
) -> None:
    with pytest.raises(libpcap.LibpcapError) as info:
        master.compile(expr, linktype)
    assert info.value.message == message


# ------------------------------------------------------------------ properties

WRONG_PRIMITIVES = [
    "ra host 1.2.3.4",
    "ta net 10.0.0.0/8",
    "link host 10.0.0.1",
    "portrange domain",
    "tcp port 70000",
    "ah addr4 portrange domain",
    "iso addr2 net 10.1.2.3/24",
    "vlan 5000",
    "ip host 00:11:22:33:44:55",
    "udp portrange ftp-http",
    "llc bogus",
    "tcp broadcast",
]
# text no complete primitive can be followed by
TRAILERS = [")", "and", "and (", "or )", "not", "[", "5", "tcp", "and and", "(("]
BEFORE = ["", "ip and ", "not ", "(tcp or ", "udp port 53 and "]


@given(
    st.sampled_from(WRONG_PRIMITIVES),
    st.sampled_from(TRAILERS),
    st.sampled_from(BEFORE),
)
def test_wrong_primitive_keeps_its_error_before_any_syntax_error(
    primitive: str, trailer: str, before: str
) -> None:
    alone = _error(before + primitive + (")" if before.startswith("(") else ""))
    broken = _error(f"{before}{primitive} {trailer}")
    assert broken.message == alone.message != SYNTAX
    assert broken.span is not None and alone.span is not None
    assert broken.span == alone.span


SOUP = [
    *sorted(KEYWORDS), *PUNCTUATION, "0", "1", "08", "70000", "99999999999", "1.2.3.4",
    "10.0.0.0/8", "::1", "aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:", "$1f", "foo", "1-2", "ftp-data",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(SOUP), min_size=1, max_size=9).map(" ".join),
    st.sampled_from(["EN10MB", "IEEE802_11_RADIO", "LINUX_SLL2", "ARCNET", "SUNATM", "PPP"]),
)
def test_compile_refuses_only_with_compile_errors(expr: str, linktype: str) -> None:
    """Whatever was reduced before an error, checking it raises nothing but CompileError."""
    try:
        bpfc.compile(expr, linktype=linktype)
    except CompileError as err:
        assert err.message and "\n" not in err.message


@given(st.sampled_from(TRAILERS), st.sampled_from(["ip", "tcp port 80", "host 1.2.3.4"]))
def test_correct_primitive_leaves_the_syntax_error(trailer: str, primitive: str) -> None:
    err = _error(f"{primitive} {trailer}")
    assert err.message == SYNTAX


def test_grid_is_masters(master: libpcap.Libpcap) -> None:
    """Every wrong primitive, after every prefix, before every trailer: master's message."""
    differ = []
    for before in BEFORE:
        for primitive in [*WRONG_PRIMITIVES, "radio", "ip", "host 1.2.3.4"]:
            for trailer in TRAILERS:
                expr = f"{before}{primitive} {trailer}"
                try:
                    master.compile(expr, "EN10MB")
                    theirs = "compiles"
                except libpcap.LibpcapError as err:
                    theirs = err.message
                try:
                    bpfc.compile(expr)
                    ours = "compiles"
                except CompileError as err:
                    ours = err.message
                if ours != theirs:
                    differ.append(f"{expr!r}: bpfc {ours!r}, master {theirs!r}")
    assert not differ, "\n".join(differ[:10])
