"""Property tests: on random valid cBPF programs the optimizer never changes a verdict.

Programs are drawn as straight-line code with forward jumps over a small packet
window, so that loads fail on short packets, X and M[] flow between paths, and
jumps meet; every property is checked on the verify sample of the program.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.errors import CompileError
from bpfc.isa.insn import Insn
from bpfc.isa.validation import validate
from bpfc.opt import optimize
from bpfc.opt.graph import build
from bpfc.opt.linearize import linearize
from bpfc.opt.verify import sample
from bpfc.vm.interp import interpret as run

CONSTS = (0, 1, 2, 3, 4, 6, 8, 0x11, 0x800, 0x86DD, 0xFF, 0xFFFF, 0xFFFFFFFF, 0x80000000)
STMTS = (
    "ldb", "ldh", "ld", "ldi", "msh", "ldimm", "ldximm", "len", "st", "stx", "ldm", "ldxm",
    "tax", "txa", "alu", "alux", "neg",
)  # fmt: skip
ALU_OPS = (0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xA0)
JMP_OPS = (0x10, 0x20, 0x30, 0x40)


@st.composite
def programs(draw, max_len: int = 24) -> list[Insn]:
    n = draw(st.integers(2, max_len))
    out: list[Insn] = []
    for i in range(n - 1):
        left = n - 1 - i  # instructions after this one
        if draw(st.integers(0, 3)) == 0 and left >= 2:
            op = draw(st.sampled_from(JMP_OPS))
            src = draw(st.sampled_from((0, 0, 0, 8)))
            jt = draw(st.integers(0, min(left - 1, 6)))
            jf = draw(st.integers(0, min(left - 1, 6)))
            out.append(Insn(0x05 | op | src, jt, jf, draw(st.sampled_from(CONSTS))))
            continue
        kind = draw(st.sampled_from(STMTS))
        off = draw(st.integers(0, 40))
        slot = draw(st.integers(0, 3))
        k = draw(st.sampled_from(CONSTS))
        if kind in ("ldb", "ldh", "ld"):
            out.append(Insn({"ldb": 0x30, "ldh": 0x28, "ld": 0x20}[kind], 0, 0, off))
        elif kind == "ldi":
            out.append(Insn(draw(st.sampled_from((0x40, 0x48, 0x50))), 0, 0, off % 12))
        elif kind == "msh":
            out.append(Insn(0xB1, 0, 0, off))
        elif kind == "ldimm":
            out.append(Insn(0x00, 0, 0, k))
        elif kind == "ldximm":
            out.append(Insn(0x01, 0, 0, draw(st.integers(0, 24))))
        elif kind == "len":
            out.append(Insn(draw(st.sampled_from((0x80, 0x81))), 0, 0, 0))
        elif kind in ("st", "stx", "ldm", "ldxm"):
            out.append(Insn({"st": 0x02, "stx": 0x03, "ldm": 0x60, "ldxm": 0x61}[kind], 0, 0, slot))
        elif kind == "tax":
            out.append(Insn(0x07, 0, 0, 0))
        elif kind == "txa":
            out.append(Insn(0x87, 0, 0, 0))
        elif kind == "neg":
            out.append(Insn(0x84, 0, 0, 0))
        else:
            op = draw(st.sampled_from(ALU_OPS))
            if kind == "alux":
                out.append(Insn(0x04 | op | 0x08, 0, 0, 0))
            else:
                if op in (0x30, 0x90) and k == 0:
                    k = 3
                out.append(Insn(0x04 | op, 0, 0, k % 40 if op in (0x60, 0x70) else k))
    ret = draw(st.sampled_from((Insn(0x16, 0, 0, 0), Insn(0x06, 0, 0, 0), Insn(0x06, 0, 0, 7))))
    out.append(ret)
    # every jump must land on an instruction, and the program must end in ret
    return out


def _opt(prog):
    try:
        return optimize(prog, reject_empty=False)
    except CompileError:  # pragma: no cover - reject_empty is off
        raise


def _packets(prog):
    return sample(prog, count=60) + [bytes(range(48)), bytes(48), b"\xff" * 48]


@given(programs())
def test_optimized_equals_input_on_packets(prog):
    out = _opt(prog)
    for pkt in _packets(prog):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


@given(programs())
def test_output_is_never_longer_and_is_valid(prog):
    out = _opt(prog)
    assert len(out) <= len(prog)
    validate(out)  # raises ValidationError on a broken program


@given(programs())
def test_optimizing_twice_does_not_grow(prog):
    once = _opt(prog)
    assert len(_opt(once)) <= len(once)


@given(programs())
def test_graph_round_trip_preserves_verdicts(prog):
    """Building blocks and laying them out again, with no pass, changes nothing observable."""
    out = linearize(build(prog))
    for pkt in _packets(prog)[:20]:
        assert run(out, pkt) == run(prog, pkt)


def test_threading_both_edges_of_one_branch_independently():
    """Found by hypothesis: redirecting the true edge must not also move the false edge."""
    prog = [
        Insn(0x30, 0, 0, 0),  # ldb [0]
        Insn(0x25, 0, 1, 0),  # jgt #0
        Insn(0x15, 0, 0, 0),  # jeq #0 (both ways to the next)
        Insn(0x15, 0, 3, 1),  # jeq #1
        Insn(0x30, 0, 0, 0),  # ldb [0]
        Insn(0x15, 0, 0, 0),  # jeq #0 (both ways)
        Insn(0x30, 0, 0, 1),  # ldb [1]
        Insn(0x16, 0, 0, 0),  # ret a
    ]
    out = _opt(prog)
    for pkt in (b"\x01\x00\x05", b"\x00\x07", b"\x02\x09"):
        assert run(out, pkt) == run(prog, pkt)


FIELDS = (Insn(0x20, 0, 0, 2), Insn(0x28, 0, 0, 6), Insn(0x30, 0, 0, 9), Insn(0x48, 0, 0, 1))


@st.composite
def chains(draw) -> list[Insn]:
    """A run of ``[load]; jeq #c`` tests sharing their true target (set membership shapes).

    Fields overlap and reach different packet lengths; X is set first for the indirect
    one; the exits either return constants or read A (which must block the rewrite).
    """
    n = draw(st.integers(3, 90))
    values = st.integers(0, 120) if n > 40 else st.sampled_from((0, 1, 2, 3, 0x0102, 0x01020304))
    body: list[list[Insn]] = []
    for i in range(n):
        load = [] if i and draw(st.booleans()) else [draw(st.sampled_from(FIELDS))]
        body.append(load + [Insn(0x15, 0, 0, draw(values))])
    prefix = [Insn(0x01, 0, 0, draw(st.integers(0, 6)))]  # ldx #n
    out = list(prefix)
    total = len(prefix) + sum(len(b) for b in body) + 2
    yes, no = total - 2, total - 1
    for b in body:
        out += b[:-1]
        here = len(out)
        nxt = here + 1 if b is not body[-1] else no
        out.append(Insn(0x15, yes - here - 1, nxt - here - 1, b[-1].k))
    out.append(draw(st.sampled_from((Insn(0x06, 0, 0, 1), Insn(0x16, 0, 0, 0)))))
    out.append(draw(st.sampled_from((Insn(0x06, 0, 0, 0), Insn(0x16, 0, 0, 0)))))
    return out


@given(chains(), st.lists(st.binary(min_size=0, max_size=14), min_size=1, max_size=30))
def test_set_membership_keeps_verdicts(prog, extra):
    out = _opt(prog)
    assert len(out) <= len(prog)
    for pkt in sample(prog, count=40) + extra:
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())
