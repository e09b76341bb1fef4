"""``bpfc.opt.libpcap_layout``: libpcap master's optimized program, byte for byte.

Byte identity is checked against master's own listings: every case of the golden corpus
(``corpus/expected``, recorded with master as the oracle), every applicable accept case
of libpcap's test suite (``../shared``), and, live, master itself on fixed-seed random
compositions (``tests/support/size_compositions.py``; skipped without master).  Equal
instructions mean equal verdicts on every packet, so these are also the verdict checks.
The layout's own rules (deleted statements take no slot, ``opt_root`` moves the root's
statements, long jumps get a ``ja``, inner jumps are resolved as ``convert_code_r`` does)
are tested directly below.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.opt_helpers import corpus_records
from support.oracles import master_library
from support.size_compositions import compositions
from support.upstream_cases import _netmask, cases, resolver, savefile_info

import bpfc
from bpfc.cfg import Block
from bpfc.corpus.schema import compact
from bpfc.errors import CompileError
from bpfc.isa.insn import Insn
from bpfc.isa.opcodes import JA, LD_IMM, RET_K, TAX
from bpfc.isa.validation import validate
from bpfc.opt.libpcap_layout import LayoutError, _statements, master_program
from bpfc.opt.libpcap_model import NOP, _Node

KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}
"""(link type, expression) -> why bpfc's program is not master's.  The differential test
fails when an entry starts matching, so the list only shrinks; every entry must differ
unoptimized too (a code generation difference the optimizer mode cannot fix)."""


def _listing(program: bpfc.Program) -> list[str]:
    return compact(program.dump("d").splitlines())


def test_every_corpus_case_is_byte_identical_to_master() -> None:
    different = []
    records = corpus_records()
    for rec in records:
        try:
            got = _listing(
                bpfc.compile(
                    rec["expr"],
                    rec["linktype"],
                    rec.get("snaplen", 262144),
                    netmask=rec.get("netmask"),
                    optimizer="libpcap",
                )
            )
        except CompileError as err:
            got = [f"refused: {err.message}"]
        if got != rec["libpcap_opt"]:
            different.append(f"{rec['id']} {rec['expr']!r}")
    assert len(records) > 2000
    assert not different, "\n".join(different[:20])


def test_upstream_accept_cases_are_byte_identical_to_master(upstream) -> None:
    different = []
    count = 0
    for rec in cases(upstream, "accept", savefile=True):
        count += 1
        want = None if rec.get("opt_rejected") else [x.rstrip() for x in rec["expected_opt"]]
        try:
            program = bpfc.compile(
                rec["expr"],
                linktype=rec["dlt"],
                snaplen=rec.get("snaplen", 262144),
                netmask=_netmask(rec),
                resolver=resolver(upstream),
                savefile=savefile_info(rec),
                optimizer="libpcap",
            )
            got: list[str] | None = [x.rstrip() for x in program.dump("d").splitlines()]
        except CompileError:
            got = None  # master refuses it too where want is None
        if got != want:
            different.append(f"{rec['id']} {rec['dlt']} {rec['expr']!r}")
    assert count > 2000
    assert not different, "\n".join(different[:20])


@pytest.fixture(scope="module")
def master():
    from bpfc.libpcap import library

    path, why = master_library()
    if path is None:
        pytest.skip(f"libpcap master unavailable: {why}")
    return library(path)


COUNT, SEED = 300, 11


def test_compositions_are_byte_identical_to_live_master(master) -> None:
    from bpfc.libpcap import LibpcapError

    def reference(expr: str, dlt: str) -> object:
        return master.compile(expr, dlt, 262144, True)

    unexpected, now_matching = [], []
    for expr, dlt in compositions(COUNT, SEED, reference):
        try:
            theirs: object = [tuple(i) for i in master.compile(expr, dlt, 262144, True)]
        except LibpcapError as err:
            theirs = err.message
        try:
            ours: object = [tuple(i) for i in bpfc.compile(expr, dlt, optimizer="libpcap")]
        except CompileError as err:
            ours = err.message
        known = (dlt, expr) in KNOWN_DIFFERENCES
        if known:
            unopt = [tuple(i) for i in bpfc.compile(expr, dlt, optimize=False)]
            assert unopt != [tuple(i) for i in master.compile(expr, dlt, 262144, False)], expr
        if ours != theirs and not known:
            unexpected.append(f"{dlt} {expr!r}")
        elif ours == theirs and known:
            now_matching.append(f"{dlt} {expr!r}")
    assert not unexpected, "\n".join(unexpected)
    assert not now_matching, "drop from KNOWN_DIFFERENCES:\n" + "\n".join(now_matching)


LONG_OR = " or ".join(
    f"ip[{i}] * {i + 3} + ip[{i + 1}:2] - ip[{i + 2}] / 3 = {i}" for i in range(30)
)


def test_long_jumps_get_a_ja_as_in_master(master) -> None:
    """Statement-heavy alternatives: jumps past 255 instructions, through inserted ``ja``s."""
    ours = bpfc.compile(LONG_OR, optimizer="libpcap")
    assert any(code == JA for code, *_ in ours)
    assert [tuple(i) for i in ours] == [tuple(i) for i in master.compile(LONG_OR)]


def test_refusals_are_masters() -> None:
    with pytest.raises(CompileError, match="expression rejects all packets"):
        bpfc.compile("ip and not ip", optimizer="libpcap")
    with pytest.raises(CompileError, match="division by zero"):
        bpfc.compile("ip[0] / 0 = 1", optimizer="libpcap")


def test_master_does_not_optimize_protochain() -> None:
    """Where master skips its optimizer the program is the unoptimized listing."""
    expr = "ip protochain 6"
    assert list(bpfc.compile(expr, optimizer="libpcap")) == list(bpfc.compile(expr, optimize=False))


def test_optimizer_argument_is_checked() -> None:
    with pytest.raises(ValueError, match="optimizer must be 'bpfc' or 'libpcap'"):
        bpfc.compile("ip", optimizer="gcc")
    with pytest.raises(TypeError, match="optimizer must be str"):
        bpfc.compile("ip", optimizer=1)  # type: ignore[arg-type]


def test_optimize_false_ignores_the_optimizer() -> None:
    assert bpfc.compile("tcp", optimize=False, optimizer="libpcap") == bpfc.compile(
        "tcp", optimize=False
    )


def test_root_statements_move_to_the_first_real_block() -> None:
    """``opt_root``: root ``ld #1`` jumps to one block either way; its statements go in
    front of that block's."""
    ret = Block([], RET_K, 96)
    second = Block([Insn(LD_IMM, 0, 0, 7)], 0x15, 7, ret, Block([], RET_K, 0))
    first = Block([Insn(LD_IMM, 0, 0, 1)], 0x15, 1, second, second)
    program = master_program(first, "test")
    assert program[-1] == Insn(RET_K, 0, 0, 96)


def _node(stmts: list[list[int]], inner: dict[int, tuple[int, int]]) -> _Node:
    node = _Node([list(s) for s in stmts], RET_K, 0)
    node.inner = inner
    return node


def test_inner_jump_targets_count_deleted_statements_as_master_does() -> None:
    """Targets are raw positions, distances are counted over the live statements."""
    jeq = 0x15
    node = _node([[jeq, 4], [LD_IMM, 1], [NOP, 0], [LD_IMM, 2], [TAX, 0], [LD_IMM, 3]], {0: (1, 3)})
    out = _statements(node, "x")
    assert [i.code for i in out] == [jeq, LD_IMM, LD_IMM, TAX, LD_IMM]
    assert (out[0].jt, out[0].jf) == (0, 2)


def test_inner_jump_second_to_last_keeps_zero_offsets() -> None:
    jeq = 0x15
    node = _node([[LD_IMM, 1], [jeq, 4], [LD_IMM, 2]], {1: (2, 2)})
    out = _statements(node, "x")
    assert (out[1].jt, out[1].jf) == (0, 0)


def test_inner_jump_without_target_is_masters_error() -> None:
    jeq = 0x15
    node = _node([[jeq, 4], [LD_IMM, 1], [LD_IMM, 2], [NOP, 0]], {0: (3, 1)})
    with pytest.raises(LayoutError, match="no destination found"):
        _statements(node, "x")


EVERYDAY = ("tcp", "udp port 53", "host 10.0.0.1", "ip6", "arp", "vlan", "port 80", "icmp")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(EVERYDAY), min_size=1, max_size=5), st.data())
def test_libpcap_programs_validate_and_equal_masters(master, parts, data) -> None:
    """Any and/or/not chain of everyday primitives: the program validates and is master's
    (not necessarily the unoptimized program's meaning: master's optimizer changes
    verdicts on some truncated packets, and this mode copies it)."""
    from bpfc.libpcap import LibpcapError

    joins = st.sampled_from((" and ", " or ", " and not ", " or not "))
    ops = [data.draw(joins) for _ in parts[1:]]
    expr = parts[0] + "".join(op + p for op, p in zip(ops, parts[1:], strict=True))
    try:
        theirs: object = [tuple(i) for i in master.compile(expr)]
    except LibpcapError as err:
        theirs = err.message
    try:
        program = bpfc.compile(expr, optimizer="libpcap")
    except CompileError as err:
        assert err.message == theirs
        return
    validate(list(program))
    assert [tuple(i) for i in program] == theirs


def test_linux_vlan_inner_jumps_survive_the_layout() -> None:
    """The Linux ``vlan`` test keeps jumps among its statements through master's optimizer
    (no oracle here: master compiles it so only for a live socket)."""
    from bpfc.opt.verify import check

    for expr in ("vlan and tcp", "vlan 10 or arp"):
        program = bpfc.compile(expr, linux=True, optimizer="libpcap")
        validate(list(program))
        check(list(bpfc.compile(expr, linux=True, optimize=False)), list(program))


def test_model_giving_up_falls_back_to_bpfcs_program(monkeypatch) -> None:
    """Past the model's round cap there is no master program to give: bpfc's own (correct,
    smaller) program comes back with a warning rather than an error."""
    from bpfc.emit import BpfcWarning
    from bpfc.opt import libpcap_model

    monkeypatch.setattr(libpcap_model, "ROUND_LIMIT", 0)
    with pytest.warns(BpfcWarning, match="could not be replayed"):
        program = bpfc.compile("tcp port 80", optimizer="libpcap")
    assert program == bpfc.compile("tcp port 80")
