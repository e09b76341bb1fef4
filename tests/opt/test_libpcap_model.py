"""``bpfc.opt.libpcap_model``: what libpcap master's optimizer refuses.

The cases carry master's answers (checked against master itself where it is built); the
properties need no oracle: the model leaves the graph as it is, refuses every filter the
code generator already knows to be false unless master skips its optimizer, and
``worth_asking`` flags every filter the model refuses where bpfc's own optimizer does not.
A sample of generated expressions is compared with master directly at the end.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.grammar_gen import COMMON_LINKTYPES, Generator
from support.oracles import master_library

from bpfc import libpcap, linktypes
from bpfc.cfg import walk
from bpfc.compiler import build_cfg
from bpfc.emit import linearize
from bpfc.errors import CompileError
from bpfc.opt import optimize, rejects_all
from bpfc.opt.libpcap_model import (
    MAX_BLOCKS,
    REJECTS_ALL,
    Undecided,
    master_refusal,
    worth_asking,
)

SHIFT = "shift by more than 31 bits"

# (link type, expression, master's refusal or None where master compiles)
CASES: list[tuple[str, str, str | None]] = [
    ("EN10MB", "tcp port 80", None),
    ("EN10MB", "ip and not ip", REJECTS_ALL),
    ("IPV4", "ip6", REJECTS_ALL),  # the code generator's constant false: ld #1; jeq #0
    # master skips its optimizer: no refusal even for a constant false
    ("PRISM_HEADER", "ip and not ip", None),
    ("IPV4", "ip6 protochain 7", None),
    ("LOOP", "is-is and geneve 3", None),
    ("IEEE802_11", "ip and not ip", None),  # the 802.11 header-length prologue
    # master's optimizer proves what bpfc's does not
    ("JUNIPER_ETHER", "outbound && outbound and outbound", REJECTS_ALL),  # stale dominators
    (
        "LINUX_SLL",
        "(tcp-cwr <= --0 / (ip[12]) && byte 07 < 254) and src and dst port ntp",
        REJECTS_ALL,
    ),
    ("SLIP_BSDOS", "13 <= (13 ^ ppp[40:4]) & 255 & 256 << -01", REJECTS_ALL),  # 256 << 2**32-1
    # ... and refuses what it folds
    ("EN10MB", "ip[0] >> (ip[1] * 0 + 33) = 0", SHIFT),
    ("EN10MB", "ip[0] % (ip[1] * 0) = 0", "modulus by zero"),
    ("EN10MB", "ip[0] / (ip[1] & 0) = 0", "division by zero"),
    ("EN10MB", "ip[0] << (ip[1] * 0 + 31) = 0", None),
    # bpfc's optimizer proves it false, master's does not
    ("IEEE802", "src portrange 20-ftp and proto 0", None),
]


def _refusal(linktype: str, expr: str) -> str | None:
    root, state = build_cfg(expr, linktype)
    return master_refusal(
        root, linktypes.lookup(linktype).dlt, bool(state.extra.get("no_optimize"))
    )


@pytest.mark.parametrize(("linktype", "expr", "refusal"), CASES)
def test_refusal(linktype: str, expr: str, refusal: str | None) -> None:
    assert _refusal(linktype, expr) == refusal


@pytest.fixture(scope="module")
def master() -> libpcap.Libpcap:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    return libpcap.library(path)


@pytest.mark.parametrize(("linktype", "expr", "refusal"), CASES)
def test_refusal_is_masters(
    master: libpcap.Libpcap, linktype: str, expr: str, refusal: str | None
) -> None:
    try:
        master.compile(expr, linktype)
    except libpcap.LibpcapError as err:
        assert err.message == refusal
    else:
        assert refusal is None


def _listing(expr: str, linktype: str) -> list:
    root, _ = build_cfg(expr, linktype)
    return [tuple(i) for i in linearize(root, warn=False)]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_model_leaves_the_graph_alone(seed: int) -> None:
    for case in Generator(seed, COMMON_LINKTYPES).cases(15):
        try:
            root, state = build_cfg(case.expr, case.linktype)
        except CompileError:
            continue
        before = [tuple(i) for i in linearize(root, warn=False)]
        master_refusal(root, linktypes.lookup(case.linktype).dlt)
        assert [tuple(i) for i in linearize(root, warn=False)] == before, case


FALSE_ON = {"IPV4": "ip6", "IPV6": "arp", "LOOP": "is-is", "RAW": "rarp"}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(FALSE_ON)), st.integers(0, 2**32 - 1))
def test_a_constant_false_filter_is_refused(linktype: str, seed: int) -> None:
    # master's peephole decides ``ld #1; jeq #0`` at the root whatever follows (first: a
    # tunnel before it would change the link type it is false on)
    exprs = (f"{FALSE_ON[linktype]} and ({c.expr})" for c in Generator(seed, [linktype]).cases(50))
    expr = next((e for e in exprs if _compiles(e, linktype)), FALSE_ON[linktype])
    root, state = build_cfg(expr, linktype)
    assert state.extra.get("const") is False
    expected = None if state.extra.get("no_optimize") else REJECTS_ALL
    assert master_refusal(root, None, bool(state.extra.get("no_optimize"))) == expected


def _compiles(expr: str, linktype: str) -> bool:
    try:
        build_cfg(expr, linktype)
    except CompileError:
        return False
    return True


def _only_master_refuses(root, linktype: str) -> bool:
    """The model refuses the graph where bpfc's own optimizer keeps a program."""
    if master_refusal(root, linktypes.lookup(linktype).dlt) is None:
        return False
    try:
        return not rejects_all(optimize(linearize(root, warn=False), reject_empty=False))
    except CompileError:
        return False


@pytest.mark.parametrize(("linktype", "expr", "refusal"), [c for c in CASES if c[2]])
def test_worth_asking_the_cases(linktype: str, expr: str, refusal: str) -> None:
    root, _ = build_cfg(expr, linktype)
    assert worth_asking(root) or not _only_master_refuses(root, linktype)


# terms that reach master's refusals and its own proofs: shifts and divisions by computed
# constants, masks tested against 0 (master's jset swap), and plain tests around them
TERMS = [
    "ip[0] & 1 = 0",
    "ip[0] & 1 != 0",
    "ip[1] & 6 = 0",
    "ip[0] & 0xffffffff != 0",
    "tcp port 80",
    "ip[0] >> (ip[1] * 0 + 32) = 0",
    "ip[0] << (ip[2] & 0) > 1",
    "0 / ip[3] = 0",
    "ip[0] % (ip[1] - ip[1]) = 0",
    "ip[2] / 3 > 7",
    "outbound",
    "inbound",
]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["EN10MB", "JUNIPER_ETHER", "LINUX_SLL"]),
    st.lists(st.sampled_from(TERMS), min_size=1, max_size=5),
    st.lists(st.sampled_from([" and ", " or ", " and not ", " or not "]), min_size=4, max_size=4),
)
def test_worth_asking_flags_what_only_master_refuses(
    linktype: str, terms: list[str], joins: list[str]
) -> None:
    # the compiler asks the model only where worth_asking says so (or bpfc refuses): every
    # filter master refuses and bpfc's optimizer keeps must be flagged
    expr = terms[0] + "".join(j + t for j, t in zip(joins, terms[1:], strict=False))
    try:
        root, _ = build_cfg(expr, linktype)
    except CompileError:
        return
    assert worth_asking(root) or not _only_master_refuses(root, linktype), expr


def test_a_big_graph_is_not_modelled() -> None:
    expr = " or ".join(f"host 10.0.{i // 256}.{i % 256}" for i in range(MAX_BLOCKS // 8 + 10))
    root, _ = build_cfg(expr)
    assert sum(1 for _ in walk(root)) > MAX_BLOCKS
    with pytest.raises(Undecided):
        master_refusal(root)


def test_model_agrees_with_master_on_a_sample() -> None:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    from support.front_end import master_linktypes

    optimizer_errors = {REJECTS_ALL, SHIFT, "division by zero", "modulus by zero"}
    kinds = master_linktypes(libpcap.library(path))
    compared = 0
    with libpcap.CompileWorker(path) as worker:
        for case in Generator(29, kinds).cases(1500):
            try:
                root, state = build_cfg(case.expr, case.linktype)
            except CompileError:
                continue
            try:
                worker.compile(case.expr, case.linktype, 262144, True)
                theirs = None
            except libpcap.LibpcapError as err:
                theirs = err.message
            if theirs is not None and theirs not in optimizer_errors:
                continue  # a name that resolves differently here and in the child
            ours = master_refusal(
                root,
                linktypes.lookup(case.linktype).dlt,
                bool(state.extra.get("no_optimize")),
            )
            assert ours == theirs, case
            compared += 1
    assert compared > 200
