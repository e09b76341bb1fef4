"""Dropping a test the tests after it decide anyway (bpfc/opt/skip_redundant_tests.py).

On random programs (``opt.test_properties.programs``) and on chains of tests over a few
fields whose edges meet (``opt.test_swap_tests``' strategies), the pass alone keeps every
verdict on sampled packets and their truncations, never grows a program, and a second
call changes nothing; chains of range and equality tests on one field, the pass's
shape, are drawn too.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import bpfc
from bpfc.isa.insn import Insn
from bpfc.isa.validation import validate
from bpfc.opt import optimize, skip_redundant_tests
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.opt.verify import sample
from bpfc.vm.interp import interpret as run
from opt.test_properties import programs
from opt.test_swap_tests import chains_of_tests, shared_target_chains

RANGE_TESTS = (0x15, 0x25, 0x35, 0x45)  # jeq jgt jge jset
BOUNDS = (0, 1, 0x15, 0x16, 0x17, 0x3FF, 0x400, 0x5DC, 0x600, 0x800, 0xFFFF)


@st.composite
def field_tests(draw) -> list[Insn]:
    """``ldh [k]`` then a few stretches of tests on the value, edges to the next test or
    to one of two returns; sometimes a reload or another field in between.  Sometimes the
    field is ``ldh [x + 2]`` after ``ldxb 4*([0]&0xf)`` (an indirect reload, which only
    the earlier load proves; the other field may then be past the end)."""
    n = draw(st.integers(2, 8))
    if draw(st.booleans()):
        field = Insn(0x28, 0, 0, 2)  # ldh [2]
        out = [field]
    else:
        field = Insn(0x48, 0, 0, 2)  # ldh [x + 2]
        out = [Insn(0xB1, 0, 0, 0), field]  # ldxb 4*([0]&0xf)
    body = []
    for _ in range(n):
        load = draw(st.sampled_from(([], [], [], [field], [Insn(0x30, 0, 0, 5)])))
        body.append((load, draw(st.sampled_from(RANGE_TESTS)), draw(st.sampled_from(BOUNDS)),
                     draw(st.integers(0, 2)), draw(st.integers(0, 2))))  # fmt: skip
    total = len(out) + sum(len(b[0]) + 1 for b in body)
    for i, (load, code, k, t, f) in enumerate(body):
        out += load
        here = len(out)
        nxt = 0 if i + 1 < n else total - here - 1  # the last test's "next" is ret #1
        jt, jf = (nxt if c == 0 else total + c - 1 - here - 1 for c in (t, f))
        out.append(Insn(code, jt, jf, k))
    return out + [Insn(0x06, 0, 0, 1), Insn(0x06, 0, 0, 0)]


def _skipped(prog: list[Insn]) -> tuple[bool, list[Insn], bool]:
    graph = build(prog)
    changed = skip_redundant_tests.run(graph)
    again = skip_redundant_tests.run(graph)
    return changed, linearize(graph), again


def _shrinks(prog: list[Insn]) -> bool:
    """The pass never adds work: blocks' statements and tests (a layout may add a ``ja``,
    which ``merge_blocks`` and the layout of the whole optimizer remove)."""
    graph = build(prog)
    size = graph.size()
    skip_redundant_tests.run(graph)
    return graph.size() <= size


def _packets(prog: list[Insn], extra: list[bytes]) -> list[bytes]:
    out = []
    for pkt in sample(prog, count=30) + extra + [bytes(range(48)), b"\xff" * 48]:
        out += [pkt[:cut] for cut in range(0, len(pkt) + 1, max(1, len(pkt) // 10))]
        out.append(pkt)
    return out


@given(
    st.one_of(programs(), chains_of_tests(), shared_target_chains(), field_tests()),
    st.lists(st.binary(max_size=48), max_size=8),
)
def test_skipping_keeps_verdicts_and_reaches_a_fixed_point(prog, extra):
    changed, out, again = _skipped(prog)
    assert not again
    assert _shrinks(prog)
    validate(out)
    for pkt in _packets(prog, extra):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


@given(field_tests())
def test_optimizer_with_the_pass_keeps_verdicts(prog):
    out = optimize(prog, reject_empty=False)
    assert len(optimize(out, reject_empty=False)) == len(out)
    for pkt in _packets(prog, []):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


def test_field_tests_exercise_the_pass():
    """The strategy's shape is the pass's: a test made redundant by a range after it."""
    prog = [
        Insn(0x28, 0, 0, 2),  # ldh [2]
        Insn(0x15, 2, 0, 0x16),  # jeq #22 -> ret #1
        Insn(0x35, 0, 2, 1),  # jge #1 -> next / ret #0
        Insn(0x25, 1, 0, 0x3FF),  # jgt #1023 -> ret #0 / ret #1
        Insn(0x06, 0, 0, 1),
        Insn(0x06, 0, 0, 0),
    ]
    changed, out, again = _skipped(prog)
    assert changed and not again and len(out) == len(prog) - 1
    for port in (0, 1, 21, 22, 23, 1023, 1024):
        for pkt in (bytes([0, 0, port >> 8, port & 255]), bytes(3)):
            assert run(out, pkt) == run(prog, pkt)


def test_ipv6_portrange_composition_matches_libpcap_size():
    """The case that motivated the pass: 9 instructions, as libpcap master's."""
    expr = (
        "(not ((dst port ssh) && ((port ssh) or (tcp dst port 80 or 443)))) or (((dst port 443)"
        " and ((src port 1024) && (udp port 53))) or (tcp src portrange 1-1023))"
    )
    assert len(bpfc.compile(expr, linktype="IPV6")) <= 9
