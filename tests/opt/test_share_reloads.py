"""Moving threaded edges back through the block a reload repeats (bpfc/opt/share_reloads.py).

Random DAGs of ``ld [k]; test`` blocks over a few fields (one often past the end of the
packet), first threaded by ``thread_jumps`` (which makes the pass's shape), are run
through the pass alone and through the whole optimizer: the verdicts stay those of the
input on sampled packets and every truncation of them, the pass never grows a program,
and it reaches a fixed point.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from support.opt_helpers import lay_out

from bpfc.compiler import compile as bpfc_compile
from bpfc.isa.insn import Insn
from bpfc.isa.validation import validate
from bpfc.opt import optimize, share_reloads, thread_jumps
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.opt.verify import sample
from bpfc.vm.interp import interpret as run

LOADS = (
    Insn(0x30, 0, 0, 9),  # ldb [9], mostly: reloads of one field are the pass's shape
    Insn(0x30, 0, 0, 9),
    Insn(0x30, 0, 0, 9),
    Insn(0x28, 0, 0, 4),  # ldh [4]
    Insn(0x30, 0, 0, 30),  # ldb [30]: often past the end
)
EXITS = (Insn(0x06, 0, 0, 0), Insn(0x06, 0, 0, 1), Insn(0x16, 0, 0, 0))  # ret #0, #1, a
JUMPS = (0x15, 0x15, 0x15, 0x15, 0x25, 0x45)  # jeq, mostly; jgt jset
CONSTS = (1, 2, 3)


@st.composite
def dags(draw) -> list[Insn]:
    """Blocks of one load (or none) and a test; each edge goes to a later block or an exit.

    Often the first five blocks are the pass's shape with random tests: an edge into T
    (block 4, ``ldb [9]; ...``) from a block after a test of ``[9]``, and B (block 3,
    ``ldb [9]; test``) also leading to T."""
    n = draw(st.integers(5, 11))
    blocks = []
    shape = draw(st.booleans())
    b9, h4 = LOADS[0], LOADS[3]
    for i in range(n):
        stmts = [] if i and draw(st.integers(0, 4)) == 0 else [draw(st.sampled_from(LOADS))]
        target = st.one_of(st.just(i + 1), st.integers(i + 1, n + len(EXITS) - 1))
        code, k = draw(st.sampled_from(JUMPS)), draw(st.sampled_from(CONSTS))
        t, f = draw(target), draw(target)
        if shape and i < 5:
            stmts = [(Insn(0x30, 0, 0, 1), b9, h4, b9, b9)[i]]  # ldb [1] first
            if i == 1:
                t, f = (2, 3) if draw(st.booleans()) else (3, 2)
            elif i == 2:
                t, f = (4, f) if draw(st.booleans()) else (t, 4)
            elif i == 3:
                t, f = (4, f) if draw(st.booleans()) else (t, 4)
        blocks.append((stmts, code, k, t, f))
    return lay_out(blocks, EXITS)


def _packets(prog: list[Insn], extra: list[bytes]) -> list[bytes]:
    base = sample(prog, count=30) + extra + [bytes(range(40)), bytes(40), b"\x01" * 40]
    out = []
    for pkt in base:
        out += [pkt[:cut] for cut in range(0, len(pkt) + 1, max(1, len(pkt) // 12))]
    return out


@settings(max_examples=300)  # the shape fires in about one program in 40
@given(dags(), st.lists(st.binary(max_size=40), max_size=10), st.booleans())
def test_pass_keeps_verdicts_shrinks_and_reaches_a_fixed_point(prog, extra, threaded_first):
    graph = build(prog)
    if threaded_first:
        thread_jumps.run(graph)
    threaded = linearize(graph)
    size = graph.size()
    for _ in range(10):
        if not share_reloads.run(graph):
            break
    else:
        raise AssertionError("share_reloads did not reach a fixed point")
    assert graph.size() <= size
    out = linearize(graph)
    validate(out)
    for pkt in _packets(prog, extra):
        assert run(out, pkt) == run(prog, pkt) == run(threaded, pkt), (prog, out, pkt.hex())


@given(dags())
def test_optimizer_with_the_pass_keeps_verdicts(prog):
    out = optimize(prog, reject_empty=False)
    for pkt in _packets(prog, []):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


def test_icmp_test_shares_the_protocol_reload():
    # master 34 instructions: the edges threaded past ``ldb [29]; jeq #1`` go back through
    # it, and the ``ldb [29]`` after it goes (bpfc was 35)
    expr = (
        "(src 10.0.0.1 and dst port 22) or (ip6 or (icmp) || (dst port 443 or src net 10.0.0.0/24))"
    )
    prog = [Insn(*i) for i in bpfc_compile(expr, "LINUX_SLL2", optimize=False)]
    out = optimize(prog)
    assert len(out) <= 34
    for pkt in _packets(prog, []):
        assert run(out, pkt) == run(prog, pkt)
