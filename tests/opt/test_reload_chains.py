"""Property tests for the passes that remove reloads: drop_no_ops and hoist_tests.

Random programs shaped like what filters compile to: chains of "load a header field
(maybe masked, maybe through X), compare, branch" units from a small pool of fields
and constants, so the same field is reloaded on many paths, with several ``ret #0``
and ``ret #k`` blocks to branch to.  Each pass alone, and the whole optimizer, must
keep every verdict (short and truncated packets included) and never grow a program.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.isa.validation import validate
from bpfc.opt import optimize
from bpfc.opt.manager import PASSES
from bpfc.opt.verify import sample
from bpfc.vm.interp import interpret as run

FIELDS = ((0x30, 9), (0x28, 12), (0x20, 12), (0x20, 16), (0x28, 20), (0x30, 21))
IND = ((0x48, 0), (0x48, 2), (0x50, 0), (0x50, 9))  # ldh/ldb [x + k]
CONSTS = (0, 1, 6, 0x11, 0x50, 0x800, 0xA000001, 0xA000002)
BY_NAME = dict(PASSES)


@st.composite
def chains(draw) -> list[Insn]:
    units = draw(st.integers(1, 7))
    rets = [Insn(0x06, 0, 0, 0), Insn(0x06, 0, 0, 0xFFFF), Insn(0x06, 0, 0, 0)]
    if draw(st.booleans()):
        rets.append(Insn(0x16, 0, 0, 0))  # ret a
    bodies: list[list[Insn]] = []
    for _ in range(units):
        body: list[Insn] = []
        if draw(st.booleans()):
            code, k = draw(st.sampled_from(IND))
            if draw(st.booleans()):
                body.append(Insn(0xB1, 0, 0, draw(st.sampled_from((0, 14)))))  # ldxb 4*([k]&0xf)
            body.append(Insn(code, 0, 0, k))
        else:
            code, k = draw(st.sampled_from(FIELDS))
            body.append(Insn(code, 0, 0, k))
        if draw(st.integers(0, 3)) == 0:
            body.append(Insn(0x54, 0, 0, draw(st.sampled_from((0x1F, 0xF0, 0xFFFF)))))
        if draw(st.integers(0, 4)) == 0:
            body.append(Insn(0x07, 0, 0, 0))  # tax
        bodies.append(body)
    # lay the units out, then the rets; each unit ends in a jeq to later units or rets
    starts, pos = [], 0
    for body in bodies:
        starts.append(pos)
        pos += len(body) + 1
    ret_at = [pos + i for i in range(len(rets))]
    prog: list[Insn] = []
    for u, body in enumerate(bodies):
        prog.extend(body)
        here = len(prog)
        targets = starts[u + 1 :] + ret_at
        jt = draw(st.sampled_from(targets)) - here - 1
        jf = draw(st.sampled_from(targets)) - here - 1
        prog.append(Insn(0x15, jt, jf, draw(st.sampled_from(CONSTS))))
    return prog + rets


def _packets(prog: list[Insn]) -> list[bytes]:
    base = sample(prog, count=40)
    cut = [p[:n] for p in base[:10] for n in (8, 13, 17, 22, 25, len(p) - 1) if n < len(p)]
    return base + cut


def _same(prog: list[Insn], out: list[Insn]) -> None:
    assert len(out) <= len(prog), (prog, out)
    validate(out)
    for pkt in _packets(prog):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


@given(chains())
def test_drop_no_ops_alone_keeps_verdicts(prog):
    out = optimize(prog, passes=[("drop_no_ops", BY_NAME["drop_no_ops"])], reject_empty=False)
    _same(prog, out)


@given(chains())
def test_hoist_tests_alone_keeps_verdicts(prog):
    out = optimize(prog, passes=[("hoist_tests", BY_NAME["hoist_tests"])], reject_empty=False)
    _same(prog, out)


@given(chains())
def test_whole_optimizer_on_reload_chains_keeps_verdicts(prog):
    _same(prog, optimize(prog, reject_empty=False))
