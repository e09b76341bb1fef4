"""``doomed``: an edge whose state decides, the rejecting way, a test every accepting path
after it passes goes to ``ret #0``.  Random programs testing a few bytes again and again
(with the size threshold off), checked on every packet over those bytes and every length."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.opt import optimize, thread_jumps
from bpfc.opt.doomed import needs
from bpfc.opt.graph import build
from bpfc.vm.interp import interpret as run

VALUES = (0, 1, 6, 0x84)
JMPS = (0x15, 0x25, 0x35, 0x45)  # jeq, jgt, jge, jset #k


@st.composite
def programs(draw):
    n = draw(st.integers(3, 20))
    out: list[Insn] = []
    for i in range(n):
        left = n - i  # instructions after this one, the two rets included below
        kind = draw(st.integers(0, 4))
        if kind <= 1:
            out.append(Insn(0x30, 0, 0, draw(st.integers(0, 2))))  # ldb [k]
        elif kind == 2:
            out.append(Insn(0x48, 0, 0, draw(st.integers(0, 2))))  # ldh [x + k]: may fail
        elif kind == 3 and left >= 2:
            jt = draw(st.integers(0, min(left, 6)))
            jf = draw(st.integers(0, min(left, 6)))
            out.append(Insn(draw(st.sampled_from(JMPS)), jt, jf, draw(st.sampled_from(VALUES))))
        else:
            out.append(Insn(0x06, 0, 0, draw(st.sampled_from((0, 9)))))
    out.append(Insn(0x06, 0, 0, 0))
    out.append(Insn(0x06, 0, 0, 5))
    return out


PACKETS = [bytes(p)[:n] for p in itertools.product(VALUES, repeat=3) for n in (1, 2, 3)] + [
    b"",
    bytes((6, 0x84, 1, 0)),
    bytes((0x84, 6, 6, 0x84, 1)),
]


@given(programs())
def test_doomed_edges_keep_every_verdict(prog):
    saved = thread_jumps._DOOM_MIN
    thread_jumps._DOOM_MIN = 0
    try:
        alone = optimize(prog, passes=[("thread_jumps", thread_jumps.run)], reject_empty=False)
        full = optimize(prog, reject_empty=False)
    finally:
        thread_jumps._DOOM_MIN = saved
    for pkt in PACKETS:
        want = run(prog, pkt, len(pkt))
        assert run(alone, pkt, len(pkt)) == want, pkt
        assert run(full, pkt, len(pkt)) == want, pkt


@given(programs())
def test_every_accepting_path_passes_the_needed_tests(prog):
    """``needs`` by brute force: on each packet that a block's code accepts from its entry,
    every needed test's load has a value taking the recorded outcome."""
    graph = build(prog)
    order = graph.order()
    table = needs(order)
    for block in order:
        tests = table[block.id]
        if not tests:
            continue
        for pkt in PACKETS:
            if not _accepts_from(block, pkt):
                continue
            for (_, size, k), op, c, outcome in tests:
                width = {0x10: 1, 0x08: 2, 0x00: 4}[size]
                assert k + width <= len(pkt)  # the load ran on the accepting path
                v = int.from_bytes(pkt[k : k + width], "big")
                got = {0x10: v == c, 0x20: v > c, 0x30: v >= c, 0x40: bool(v & c)}[op]
                assert got == outcome, (block, pkt)


def _accepts_from(block, pkt) -> bool:
    """Run the graph from ``block`` with zero registers; True on a nonzero return."""
    from bpfc.isa.insn import Insn as I  # noqa: N817 - local alias

    a = x = 0
    while True:
        for ins in block.stmts:
            code = ins.code
            if code == 0x30 or code == 0x48:
                off = ins.k + (x if code == 0x48 else 0)
                width = 1 if code == 0x30 else 2
                if off + width > len(pkt):
                    return False
                a = int.from_bytes(pkt[off : off + width], "big")
            else:  # pragma: no cover - the generator makes no other statement
                raise AssertionError(I)
        if block.jt is None:
            return (a if block.code & 0x18 == 0x10 else block.k) != 0
        if block.jt is block.jf or block.code == 0x05:
            block = block.jt
            continue
        op, c = block.code & 0xF0, block.k
        taken = {0x10: a == c, 0x20: a > c, 0x30: a >= c, 0x40: bool(a & c)}[op]
        block = block.jt if taken else block.jf
