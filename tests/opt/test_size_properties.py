"""Property tests for the size passes: each one alone, and the whole pipeline, keep verdicts.

``drop_no_ops`` (twice: on recomputations and on covered indirect loads),
``promote_scratch`` and the bounded-X ``fold_offsets`` are each run alone on random
programs shaped to trigger them
(recomputed masked loads after tests; header lengths stored to scratch memory on
several paths and reloaded into X, with X sometimes in use; indirect loads repeated
from bases of every size; a padded length plus an IP header length as an index base,
sometimes a whole word that may be near 2**32), and on the generic random programs of
``test_opt_properties``.  Every output must return what the input returns on the
verify sample plus packets of every length up to past the furthest load.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.opt import optimize
from bpfc.opt.manager import PASSES
from bpfc.opt.verify import sample
from bpfc.vm.interp import interpret
from bpfc.vm.interp import interpret as run
from opt.test_properties import chains, programs

BY_NAME = dict(PASSES)
NEW = (
    "drop_no_ops",
    "promote_scratch",
    "fold_offsets",
    "hoist_tests",
    "build_sets",
)
RET_K = Insn(0x06, 0, 0, 0x40000)
RET_0 = Insn(0x06, 0, 0, 0)


def _packets(prog: list[Insn], extra: list[bytes]) -> list[bytes]:
    lengths = [bytes((i * 37 + 5) & 0xFF for i in range(n)) for n in range(0, 64, 3)]
    return sample(prog, count=40) + lengths + [bytes(64), b"\xff" * 64] + extra


def _same(prog: list[Insn], out: list[Insn], extra: list[bytes]) -> None:
    assert len(out) <= len(prog)
    for pkt in _packets(prog, extra):
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


def _alone(name: str, prog: list[Insn]) -> list[Insn]:
    return optimize(prog, passes=[(name, BY_NAME[name])], reject_empty=False)


def _link(blocks: list[list[Insn]], tests: list[tuple[int, int]]) -> list[Insn]:
    """Blocks each ending in a test whose targets are (block index, block index or -1/-2).

    Target -1 is ``ret #0``, -2 ``ret #0x40000``; a block's statements come first, then
    its ``jeq``/``jset`` (already in ``blocks`` with placeholder offsets) is patched.
    """
    starts, pos = [], 0
    for b in blocks:
        starts.append(pos)
        pos += len(b)
    ret0, retk = pos, pos + 1

    def where(t: int) -> int:
        return ret0 if t == -1 else retk if t == -2 else starts[t]

    out: list[Insn] = []
    for b, (t, f) in zip(blocks, tests, strict=True):
        out += b[:-1]
        here = len(out)
        last = b[-1]
        out.append(Insn(last.code, where(t) - here - 1, where(f) - here - 1, last.k))
    return out + [RET_0, RET_K]


MASKED = (
    [Insn(0x30, 0, 0, 21), Insn(0x54, 0, 0, 0x1F)],  # ldb [21]; and #0x1f
    [Insn(0x28, 0, 0, 4), Insn(0x54, 0, 0, 0xFF3F)],  # ldh [4]; and #0xff3f
    [Insn(0x30, 0, 0, 0), Insn(0x54, 0, 0, 0xF0)],  # ldb [0]; and #0xf0
    [Insn(0x30, 0, 0, 30), Insn(0x04, 0, 0, 3)],  # ldb [30]; add #3
    [Insn(0x01, 0, 0, 2), Insn(0x50, 0, 0, 1), Insn(0x54, 0, 0, 0x7)],  # ldx #2; ldb [x+1]; and
)


@st.composite
def recomputations(draw) -> list[Insn]:
    """Tests on masked fields, often the same field as the block before (a recomputation)."""
    n = draw(st.integers(2, 8))
    blocks, tests = [], []
    for i in range(n):
        body = list(draw(st.sampled_from(MASKED)))
        if draw(st.integers(0, 4)) == 0:
            body.insert(draw(st.integers(0, len(body))), Insn(0x30, 0, 0, draw(st.integers(0, 40))))
        code = draw(st.sampled_from((0x15, 0x15, 0x45, 0x25)))
        blocks.append(body + [Insn(code, 0, 0, draw(st.integers(0, 0x20)))])
        later = st.integers(i + 1, n - 1) if i + 1 < n else st.just(-1)
        t = draw(st.one_of(st.just(-2), later))
        f = draw(st.one_of(st.just(-1), later))
        tests.append((t, f))
    return _link(blocks, tests)


@st.composite
def scratch_programs(draw) -> list[Insn]:
    """Header lengths stored to M[0]/M[1] on some paths, reloaded into X or A later."""
    n = draw(st.integers(3, 9))
    blocks, tests = [], []
    for i in range(n):
        body: list[Insn] = []
        for _ in range(draw(st.integers(0, 3))):
            slot = draw(st.integers(0, 1))
            body.append(
                draw(
                    st.sampled_from(
                        (
                            Insn(0x00, 0, 0, draw(st.sampled_from((0x18, 0x1A, 0x1E)))),  # ld #c
                            Insn(0x02, 0, 0, slot),  # st M[slot]
                            Insn(0x03, 0, 0, slot),  # stx M[slot]
                            Insn(0x61, 0, 0, slot),  # ldx M[slot]
                            Insn(0x60, 0, 0, slot),  # ld M[slot]
                            Insn(0xB1, 0, 0, 14),  # ldxb 4*([14]&0xf)
                            Insn(0x07, 0, 0, 0),  # tax
                            Insn(0x87, 0, 0, 0),  # txa
                            Insn(0x50, 0, 0, 0),  # ldb [x + 0]
                            Insn(0x48, 0, 0, 6),  # ldh [x + 6]
                            Insn(0x30, 0, 0, 0),  # ldb [0]
                            Insn(0x04, 0, 0, 2),  # add #2
                        )
                    )
                )
            )
        blocks.append(
            body + [Insn(draw(st.sampled_from((0x15, 0x45))), 0, 0, draw(st.integers(0, 8)))]
        )
        later = st.integers(i + 1, n - 1) if i + 1 < n else st.just(-1)
        tests.append((draw(st.one_of(st.just(-2), later)), draw(st.one_of(st.just(-1), later))))
    prefix = [Insn(0x00, 0, 0, 0x18), Insn(0x02, 0, 0, 0), Insn(0x02, 0, 0, 1)]
    blocks[0] = prefix + blocks[0]
    return _link(blocks, tests)


CONSTANTS = (0, 1, 0xAB, 0x7FFF, 0xFFFFFFF0)


@st.composite
def indexed(draw) -> list[Insn]:
    """``X = base + IP header length; X = X + c; ldb [x + k]``: fold only when X is bounded."""
    base = draw(
        st.sampled_from(
            (
                [Insn(0x30, 0, 0, 0), Insn(0x04, 0, 0, 3), Insn(0x54, 0, 0, 0xFFFFFFFC)],
                [Insn(0x28, 0, 0, 0)],  # ldh [0]
                [Insn(0x20, 0, 0, 0)],  # ld [0]: may be near 2**32
                [Insn(0x00, 0, 0, 0xFFFFFFF0)],  # ld #big
            )
        )
    )
    hdr = [Insn(0x50, 0, 0, 0), Insn(0x54, 0, 0, 0xF), Insn(0x64, 0, 0, 2), Insn(0x0C, 0, 0, 0)]
    c = draw(st.sampled_from(CONSTANTS))
    k = draw(st.sampled_from((0, 2, 9)))
    body = base + [Insn(0x07, 0, 0, 0)]
    if draw(st.booleans()):
        body += hdr + [Insn(0x07, 0, 0, 0)]
    body += [Insn(0x00, 0, 0, c), Insn(0x0C, 0, 0, 0), Insn(0x07, 0, 0, 0)]
    body += [Insn(draw(st.sampled_from((0x50, 0x48, 0x40))), 0, 0, k)]
    test = draw(st.sampled_from((Insn(0x35, 0, 0, 0), Insn(0x15, 0, 0, 1))))  # jge #0: any value
    return _link([body + [test]], [(-2, -1)])


def _short_and_planted(prog: list[Insn]) -> list[bytes]:
    """Short IP headers, and first words just below 2**32 - c (X + c wraps to a small offset)."""
    out = []
    for c in CONSTANTS:
        for d in (0, 1, 5):
            word = ((1 << 32) - c + d) & 0xFFFFFFFF
            out.append(word.to_bytes(4, "big") + bytes(range(1, 30)))
            out.append(word.to_bytes(4, "big") + bytes(range(0xC5, 0xE0)))  # [4] has 0x80
    for first in (0, 1, 4, 0xFF):
        for n in (8, 12, 20, 40, 200, 300):
            data = bytearray((i * 11) & 0xFF for i in range(n))
            data[0] = first
            if n > 4:
                data[4] = 0x45
            out.append(bytes(data))
    return out


@given(recomputations())
def test_drop_no_ops_alone_keeps_verdicts_on_recomputations(prog):
    _same(prog, _alone("drop_no_ops", prog), [])


@given(recomputations())
def test_pipeline_on_recomputations(prog):
    _same(prog, optimize(prog, reject_empty=False), [])


@given(scratch_programs())
def test_promote_scratch_alone_keeps_verdicts(prog):
    _same(prog, _alone("promote_scratch", prog), [])


@given(scratch_programs())
def test_pipeline_on_scratch_programs(prog):
    _same(prog, optimize(prog, reject_empty=False), [])


@given(indexed())
def test_fold_offsets_alone_keeps_verdicts(prog):
    _same(prog, _alone("fold_offsets", prog), _short_and_planted(prog))


@given(st.sampled_from(NEW), programs())
def test_each_new_pass_alone_on_random_programs(name, prog):
    _same(prog, _alone(name, prog), [])


def test_recomputation_is_dropped():
    """The isis shape: three tests of ``[21] & 0x1f`` load and mask once."""
    prog = _link(
        [MASKED[0] + [Insn(0x15, 0, 0, c)] for c in (0x1A, 0x18, 0x12)],
        [(-2, 1), (-2, 2), (-2, -1)],
    )
    out = optimize(prog, reject_empty=False)
    assert len(out) == 7  # ldb, and, three jeq, two ret
    _same(prog, out, [])


def test_scratch_header_length_lives_in_x():
    """802.11: ``ld #0x18; st M[0]`` / ``ld #0x1a; st M[0]`` / ``ldx M[0]`` -> two ``ldx #``."""
    prog = _link(
        [
            [
                Insn(0x00, 0, 0, 0x18),
                Insn(0x02, 0, 0, 0),
                Insn(0x30, 0, 0, 0),
                Insn(0x45, 0, 0, 0x80),
            ],
            [Insn(0x00, 0, 0, 0x1A), Insn(0x02, 0, 0, 0), Insn(0x15, 0, 0, 0)],
            [Insn(0x61, 0, 0, 0), Insn(0x48, 0, 0, 6), Insn(0x15, 0, 0, 0x800)],
        ],
        [(1, 2), (2, 2), (-2, -1)],
    )
    out = optimize(prog, reject_empty=False)
    assert Insn(0x01, 0, 0, 0x18) in out and Insn(0x01, 0, 0, 0x1A) in out
    assert not any(i.code in (0x02, 0x61) for i in out)  # no st, no ldx M[]
    _same(prog, out, [])


BASES = (
    Insn(0x30, 0, 0, 2),  # ldb [2]
    Insn(0x28, 0, 0, 2),  # ldh [2]
    Insn(0x20, 0, 0, 2),  # ld [2]: may be near 2**32
    Insn(0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)
)


@st.composite
def covered_loads(draw) -> list[Insn]:
    """Indirect loads from one or two bases, many dead, along branching paths."""
    n = draw(st.integers(2, 7))
    blocks, tests = [], []
    for i in range(n):
        body: list[Insn] = []
        for _ in range(draw(st.integers(1, 4))):
            if draw(st.integers(0, 5)) == 0:
                base = draw(st.sampled_from(BASES))
                body += [base] if base.code == 0xB1 else [base, Insn(0x07, 0, 0, 0)]
            size = draw(st.sampled_from((0x40, 0x48, 0x50)))
            body.append(Insn(size, 0, 0, draw(st.integers(0, 12))))
        code = draw(st.sampled_from((0x15, 0x35, 0x45)))
        blocks.append(body + [Insn(code, 0, 0, draw(st.integers(0, 3)))])
        later = st.integers(i + 1, n - 1) if i + 1 < n else st.just(-1)
        tests.append((draw(st.one_of(st.just(-2), later)), draw(st.one_of(st.just(-1), later))))
    blocks[0] = [draw(st.sampled_from(BASES))] + ([Insn(0x07, 0, 0, 0)]) + blocks[0]
    return _link(blocks, tests)


def _big_bases() -> list[bytes]:
    """Packets whose word at [2] is near 2**32 or in Linux's negative offset space."""
    out = []
    for word in (0xFFFFFFFF, 0xFFFFFFF8, 0xFFF00000, 0xFFEFFFFA, 0xFFEFFFF8, 0x80000000, 3, 0):
        for n in (6, 12, 20, 30):
            out.append((b"\x45\x00" + word.to_bytes(4, "big") + bytes(range(1, 40)))[:n])
    return out


def _same_on_linux(prog: list[Insn], out: list[Insn]) -> None:
    """Linux reads offsets from 2**31 up as negative (SKF_NET_OFF/SKF_LL_OFF): same there."""
    for pkt in _big_bases():
        assert interpret(out, pkt, None, True, {}) == interpret(prog, pkt, None, True, {})


@given(covered_loads())
def test_drop_no_ops_alone_keeps_verdicts_on_covered_loads(prog):
    out = _alone("drop_no_ops", prog)
    _same(prog, out, _big_bases())
    _same_on_linux(prog, out)


@given(covered_loads())
def test_pipeline_on_covered_loads(prog):
    _same(prog, optimize(prog, reject_empty=False), _big_bases())


X_SOURCES = (
    [Insn(0x01, 0, 0, 0x18)],  # ldx #0x18
    [Insn(0x01, 0, 0, 0x1A)],  # ldx #0x1a
    [Insn(0x30, 0, 0, 0), Insn(0x07, 0, 0, 0)],  # ldb [0]; tax
    [Insn(0x20, 0, 0, 0), Insn(0x07, 0, 0, 0)],  # ld [0]; tax: may be near 2**32
    [Insn(0x61, 0, 0, 5)],  # ldx M[5]: never stored
)


@st.composite
def joined_index(draw) -> list[Insn]:
    """X set differently on two paths, then ``ld #c; add x; tax; ld [x + k]`` where they meet."""
    first, second = draw(st.sampled_from(X_SOURCES)), draw(st.sampled_from(X_SOURCES))
    c = draw(st.sampled_from(CONSTANTS))
    use = [Insn(0x00, 0, 0, c), Insn(0x0C, 0, 0, 0), Insn(0x07, 0, 0, 0)]
    use.append(Insn(draw(st.sampled_from((0x50, 0x48, 0x40))), 0, 0, draw(st.sampled_from((0, 8)))))
    blocks = [
        first + [Insn(0x30, 0, 0, 4), Insn(0x45, 0, 0, 0x80)],
        second + [Insn(0x15, 0, 0, 0)],
        use + [Insn(0x35, 0, 0, 0)],
    ]
    return _link(blocks, [(1, 2), (2, 2), (-2, -1)])


@given(joined_index())
def test_fold_offsets_through_a_join_keeps_verdicts(prog):
    _same(prog, _alone("fold_offsets", prog), _short_and_planted(prog))
    _same(prog, optimize(prog, reject_empty=False), _short_and_planted(prog))


@given(chains(), st.lists(st.binary(min_size=0, max_size=14), min_size=1, max_size=30))
def test_negated_set_membership_keeps_verdicts(prog, extra):
    """``not host a and not host b``: a match rejects, so the chain is regrouped whole."""
    prog = prog[:-2] + [RET_0, Insn(0x06, 0, 0, 1)]
    out = optimize(prog, reject_empty=False)
    assert len(out) <= len(prog)
    for pkt in sample(prog, count=40) + extra + [bytes(range(n)) for n in range(16)]:
        assert run(out, pkt) == run(prog, pkt), (prog, out, pkt.hex())


def test_negated_chain_is_regrouped_from_the_start():
    """Fields [2] and [6] alternate; with ``ret #0`` on a match both sets are grouped."""
    tests = []
    for c in (1, 2, 3):
        tests += [
            [Insn(0x20, 0, 0, 2), Insn(0x15, 0, 0, c)],
            [Insn(0x20, 0, 0, 6), Insn(0x15, 0, 0, c)],
        ]
    prog = _link(tests, [(-1, i + 1) for i in range(5)] + [(-1, -2)])
    out = optimize(prog, reject_empty=False)
    assert sum(1 for i in out if i.code == 0x20) == 2  # each field loaded once
    _same(prog, out, [bytes(range(n)) for n in range(12)])


WORDS = (Insn(0x20, 0, 0, 2), Insn(0x20, 0, 0, 6), Insn(0x28, 0, 0, 10), Insn(0x30, 0, 0, 1))


@st.composite
def conjunctions(draw) -> list[Insn]:
    """Tests on reloaded fields, one edge of most going to ``ret #0``; exits may read A."""
    n = draw(st.integers(2, 7))
    blocks, tests = [], []
    for i in range(n):
        body = [draw(st.sampled_from(WORDS))] if draw(st.integers(0, 3)) else []
        if draw(st.integers(0, 3)) == 0:  # a dead load that may fail, or a new X, first
            extra = (Insn(0x30, 0, 0, 30), Insn(0x01, 0, 0, 1), Insn(0x01, 0, 0, 0x0203))
            body.insert(0, draw(st.sampled_from(extra)))
        code = draw(st.sampled_from((0x15, 0x15, 0x25, 0x1D)))  # jeq, jgt, jeq x
        body.append(Insn(code, 0, 0, draw(st.sampled_from((0, 1, 2, 0x0203)))))
        if i == 0:
            body.insert(0, Insn(0x01, 0, 0, draw(st.integers(0, 3))))  # ldx #n
        nxt = draw(st.integers(i + 1, n - 1)) if i + 1 < n else -2
        other = draw(st.sampled_from((-1, -1, -1, nxt)))
        tests.append(draw(st.sampled_from(((nxt, other), (other, nxt)))))
        blocks.append(body)
    prog = _link(blocks, tests)
    if draw(st.booleans()):
        prog[-1] = Insn(0x16, 0, 0, 0)  # ret a: the registers at the exit matter
    return prog


@given(conjunctions())
def test_hoist_tests_alone_keeps_verdicts(prog):
    _same(prog, _alone("hoist_tests", prog), [bytes([1, 2, 0, 1, 2, 3] * n) for n in range(4)])


@given(conjunctions())
def test_pipeline_on_conjunctions(prog):
    _same(prog, optimize(prog, reject_empty=False), [])


def _hoist_case(c_stmts: list[Insn], c_test: Insn) -> list[Insn]:
    """``ld [2]; jeq #1`` / ``ld [6]; jeq #2`` / C: every failure goes to ``ret #0``."""
    return _link(
        [
            [Insn(0x20, 0, 0, 2), Insn(0x15, 0, 0, 1)],
            [Insn(0x20, 0, 0, 6), Insn(0x15, 0, 0, 2)],
            c_stmts + [c_test],
        ],
        [(1, -1), (2, -1), (-2, -1)],
    )


def test_hoist_keeps_a_load_that_may_fail():
    prog = _hoist_case([Insn(0x30, 0, 0, 30), Insn(0x20, 0, 0, 2)], Insn(0x25, 0, 0, 0))
    pkt = bytes([0, 0, 0, 0, 0, 1, 0, 0, 0, 2])  # [2] = 1, [6] = 2, nothing at [30]
    assert run(prog, pkt) == 0
    assert run(_alone("hoist_tests", prog), pkt) == 0


def test_hoist_needs_the_same_x():
    prog = _hoist_case([Insn(0x01, 0, 0, 1), Insn(0x20, 0, 0, 2)], Insn(0x1D, 0, 0, 0))
    pkt = bytes([0, 0, 0, 0, 0, 1, 0, 0, 0, 2])  # [2] == 1 == X after ldx #1, X is 0 before
    assert run(prog, pkt) == 0x40000
    assert run(_alone("hoist_tests", prog), pkt) == 0x40000


def test_hoist_drops_the_reload():
    prog = _hoist_case([Insn(0x20, 0, 0, 2)], Insn(0x25, 0, 0, 0))
    out = _alone("hoist_tests", prog)
    assert sum(1 for i in out if i == Insn(0x20, 0, 0, 2)) == 1
    _same(prog, out, [bytes([0, 0, 0, 0, 0, 1, 0, 0, 0, 2])])
