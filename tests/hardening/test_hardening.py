"""Hardening: nothing but CompileError escapes the compiler, whatever the input.

* a grammar-driven expression generator (every production of grammar/pcap_filter.lark:
  qualified ids in every spelling, keyword primitives, ATM/MTP/pflog/802.11 fields,
  arithmetic with every operator, negation, parentheses, id lists) over every link type,
  optimized and not: parser, codegen, optimizer and emit end to end;
* random text built from filter tokens and from arbitrary characters;
* huge inputs: 10,000 nested parentheses or ``not``s and very long and/or chains;
* random bytecode: the validator raises only ValidationError, and a program it accepts
  runs on any packet without raising.
"""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpfc
from bpfc.emit import BpfcWarning
from bpfc.errors import CompileError, ValidationError
from bpfc.isa.validation import validate
from bpfc.linktypes import filterable
from bpfc.vm import make_filter

LINKTYPES = sorted({row.name for row in filterable()})

# ------------------------------------------------------------------ the generator

PNAMES = ("link ip arp rarp sctp tcp udp icmp igmp igrp pim vrrp carp atalk aarp decnet lat "
          "sca mopdl moprc ip6 icmp6 ah esp iso esis isis l1 l2 iih lsp snp psnp csnp clnp "
          "stp ipx netbeui radio ether fddi tr wlan ppp slip").split()  # fmt: skip
DIRS = ("src", "dst", "src or dst", "dst or src", "src and dst", "dst and src", "addr1",
        "addr2", "addr3", "addr4", "ra", "ta", "inbound", "outbound")  # fmt: skip
TYPES = ("host", "net", "port", "portrange", "proto", "protochain", "gateway")
IDS = (
    "10.0.0.1", "10", "10.1", "10.1.2", "192.168.0.0/16", "10.0.0.0 mask 255.0.0.0", "1.2.3.4/33",
    "fe80::1", "2001:db8::/32", "::", "::ffff:1.2.3.4", "02:00:00:00:00:01", "0200.0000.0001",
    "02-00-00-00-00-01", "$01", "$ff", "0", "80", "65535", "65536", "1-1023", "80-79",
    "0xffffffff", "4294967296", "http", "domain", "tcp", "udp", "icmp", "nosuchname",
    "10.23", "1.1", "\\tcp", "(1 or 2)", "(10.0.0.1 or 10.0.0.2)", "-1",
)  # fmt: skip
KEYWORD_PRIMS = (
    "broadcast", "multicast", "ip broadcast", "ether multicast", "ip6 multicast",
    "less 60", "greater 100", "byte 1 & 2", "byte 3 < 4", "byte 0 = 0", "ifindex 1",
    "inbound", "outbound", "vlan", "vlan 100", "vlan 5000", "mpls", "mpls 16", "mpls 1048576",
    "pppoed", "pppoes", "pppoes 1", "geneve", "geneve 5", "vxlan", "vxlan 1", "on em0",
    "ifname lo", "rset r", "ruleset r", "rnr 1",
    "rulenum 2", "srnr 3", "reason match", "reason 1", "action pass", "action nope",
    "type mgt", "type ctl subtype rts", "type data subtype qos-data", "subtype beacon",
    "type 3", "dir tods", "dir 1", "wlan dir fromds", "llc", "llc i", "llc s", "llc u",
    "llc ui", "llc rnr", "lane", "metac", "bcc", "oamf4ec", "oamf4sc", "sc", "ilmic", "oam",
    "oamf4", "connectmsg", "metaconnect", "vpi 1", "vci > 2", "vpi (1 or 2)", "fisu", "lssu",
    "msu", "hfisu", "hlssu", "hmsu", "sio 3", "opc != 1", "dpc >= 2", "sls (1 or 2)",
    "hsio 1", "hopc 2", "hdpc 3", "hsls < 4", "len", "iso", "stp", "ip", "ip6", "arp",
)  # fmt: skip
ARITH_OPS = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>")
RELOPS = (">", ">=", "=", "==", "<=", "<", "!=")
CONSTS = ("tcpflags", "tcp-syn", "tcp-ack", "icmptype", "icmp-echo", "icmp6type",
          "icmp6-echo", "0", "1", "14", "0xff", "4294967295", "255")  # fmt: skip

qualified = st.builds(
    lambda p, d, t, i: " ".join(x for x in (p, d, t, i) if x),
    st.sampled_from(("", *PNAMES)),
    st.sampled_from(("", *DIRS)),
    st.sampled_from(("", *TYPES)),
    st.sampled_from(IDS),
)


def _arith(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    load = st.builds(
        lambda p, e, s: f"{p}[{e}{s}]",
        st.sampled_from(PNAMES),
        children,
        st.sampled_from(("", ":1", ":2", ":4", ":3")),
    )
    return (
        st.builds(lambda a, op, b: f"{a} {op} {b}", children, st.sampled_from(ARITH_OPS), children)
        | st.builds(lambda a: f"-{a}", children)
        | st.builds(lambda a: f"({a})", children)
        | load
    )


arith = st.recursive(st.sampled_from(("len", *CONSTS)), _arith, max_leaves=6)
relation = st.builds(lambda a, r, b: f"{a} {r} {b}", arith, st.sampled_from(RELOPS), arith)
primitive = qualified | st.sampled_from(KEYWORD_PRIMS) | relation


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    joins = st.sampled_from((" and ", " or ", " && ", " || "))
    return (
        st.builds(lambda a, j, b: f"{a}{j}{b}", children, joins, children)
        | st.builds(lambda n, a: f"{n}{a}", st.sampled_from(("not ", "!", "! ")), children)
        | st.builds(lambda a: f"({a})", children)
        | st.builds(lambda a, i: f"{a} or {i}", children, st.sampled_from(IDS))  # bare id
    )


expressions = st.recursive(primitive, _combine, max_leaves=8)

TOKENS = (*PNAMES, *DIRS, *TYPES, *IDS, *ARITH_OPS, *RELOPS, *CONSTS, "and", "or", "not",
          "(", ")", "[", "]", ":", "!", "&&", "||", "\\", "$", "/", "mask")  # fmt: skip
token_soup = st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)
raw_text = st.text(st.characters(codec="utf-8"), max_size=40)


def _compile_or_compile_error(expr: str, linktype: str, optimize: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BpfcWarning)
        try:
            program = bpfc.compile(expr, linktype, optimize=optimize)
        except CompileError as err:
            assert str(err), "a CompileError names what is wrong"
            return
    validate(program)  # whatever compiles is a valid program
    assert program[-1].code & 0x07 == 0x06


@settings(max_examples=150)
@given(expressions, st.sampled_from(LINKTYPES), st.booleans())
def test_generated_expressions_raise_only_compile_error(expr: str, lt: str, opt: bool) -> None:
    _compile_or_compile_error(expr, lt, opt)


@settings(max_examples=100)
@given(token_soup | raw_text, st.sampled_from(LINKTYPES), st.booleans())
def test_random_text_raises_only_compile_error(text: str, lt: str, opt: bool) -> None:
    _compile_or_compile_error(text, lt, opt)


# ------------------------------------------------------------------ huge inputs


def _chain(n: int, term, sep: str) -> str:
    return sep.join(term(i) for i in range(n))


HUGE = {
    "parens-10000": lambda: "(" * 10_000 + "tcp" + ")" * 10_000,
    "not-10000": lambda: "not " * 10_000 + "tcp",
    "bang-10000": lambda: "!" * 10_000 + "udp",
    "arith-2000": lambda: "len = " + "+".join(["1"] * 2_000),
    "host-or-3000": lambda: _chain(3_000, lambda i: f"host 10.0.{i >> 8}.{i & 255}", " or "),
    "port-or-3000": lambda: _chain(3_000, lambda i: f"port {i + 1}", " or "),
    "tcp-and-3000": lambda: _chain(3_000, lambda i: "tcp", " and "),
    "host-or-1000": lambda: _chain(1_000, lambda i: f"host 10.0.{i >> 8}.{i & 255}", " or "),
    "port-or-1000": lambda: _chain(1_000, lambda i: f"port {i + 1}", " or "),
}


#: the 100,000-term forms take 1.5-3 minutes each (2.4 million instructions): run them with
#: BPFC_HYPOTHESIS_PROFILE=thorough
FULL = {
    "host-or-100000": lambda: _chain(
        100_000, lambda i: f"host 10.{i >> 16}.{i >> 8 & 255}.{i & 255}", " or "
    ),
    "port-or-100000": lambda: _chain(100_000, lambda i: f"port {i % 65535 + 1}", " or "),
    "tcp-and-100000": lambda: _chain(100_000, lambda i: "tcp", " and "),
}
THOROUGH = os.environ.get("BPFC_HYPOTHESIS_PROFILE") == "thorough"


@pytest.mark.parametrize("name", sorted(HUGE) + sorted(FULL))
def test_huge_expressions_compile_or_fail_cleanly(name: str) -> None:
    if name in FULL and not THOROUGH:
        pytest.skip("100,000-term expressions run in the thorough profile only")
    expr = (HUGE.get(name) or FULL[name])()
    for optimize in (False, True) if "3000" not in name and name in HUGE else (False,):
        _compile_or_compile_error(expr, "EN10MB", optimize)


def test_deep_nesting_keeps_meaning() -> None:
    prog = bpfc.compile("(" * 10_000 + "tcp" + ")" * 10_000)
    assert prog == bpfc.compile("tcp")
    assert bpfc.compile("not " * 10_000 + "tcp") == bpfc.compile("tcp")


# ------------------------------------------------------------------ random bytecode

insn = st.tuples(
    st.integers(0, 0xFFFF) | st.sampled_from((0x00, 0x06, 0x15, 0x20, 0x28, 0x30, 0x45, 0x61)),
    st.integers(0, 0xFF),
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFFFFFF) | st.integers(0, 64),
)
packets = st.binary(max_size=80)


@given(st.lists(insn, max_size=12), packets, st.integers(0, 200), st.booleans())
def test_random_bytecode_validates_or_raises_validation_error(prog, pkt, extra, linux) -> None:
    try:
        validate(prog)
    except ValidationError:
        return
    run = make_filter(prog, linux=linux)
    value = run(pkt, len(pkt) + extra)
    assert 0 <= value <= 0xFFFFFFFF
