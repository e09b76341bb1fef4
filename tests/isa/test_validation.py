"""The validator: every rule in both flavours, and libpcap's own verdict as the oracle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc import libpcap
from bpfc.errors import ValidationError
from bpfc.isa.opcodes import SKF_AD_OFF
from bpfc.isa.validation import KERNEL_CODES, RULES, validate

RET0 = (0x06, 0, 0, 0)
needs_libpcap = pytest.mark.skipif(not libpcap.available(), reason="system libpcap not available")


def rule_of(prog: object, strict: bool = False) -> str | None:
    try:
        validate(prog, strict=strict)  # type: ignore[arg-type]
    except ValidationError as err:
        assert err.rule in RULES
        return err.rule
    return None


# (program, rule in libpcap mode, rule in strict mode); None = accepted
CASES = {
    "ret-k": ([RET0], None, None),
    "ret-a": ([(0x16, 0, 0, 0)], None, None),
    "empty": ([], "empty", "empty"),
    "ret-x": ([(0x0E, 0, 0, 0)], None, "opcode"),
    "ldx-abs": ([(0x21, 0, 0, 0), RET0], None, "opcode"),
    "misc-unknown": ([(0xFF, 0, 0, 0), RET0], None, "opcode"),
    "ld-bad-mode": ([(0xC0, 0, 0, 0), RET0], "opcode", "opcode"),
    "alu-bad-op": ([(0xB4, 0, 0, 0), RET0], "opcode", "opcode"),
    "jmp-bad-op": ([(0x55, 0, 0, 0), RET0], "opcode", "opcode"),
    "div-k0": ([(0x34, 0, 0, 0), RET0], "div-by-zero", "div-by-zero"),
    "mod-k0": ([(0x94, 0, 0, 0), RET0], "div-by-zero", "div-by-zero"),
    "div-x": ([(0x3C, 0, 0, 0), RET0], None, None),
    "div-k1": ([(0x34, 0, 0, 1), RET0], None, None),
    "lsh-31": ([(0x64, 0, 0, 31), RET0], None, None),
    "lsh-32": ([(0x64, 0, 0, 32), RET0], None, "shift-range"),
    "rsh-big": ([(0x74, 0, 0, 0xFFFFFFFF), RET0], None, "shift-range"),
    "st-15": ([(0x02, 0, 0, 15), RET0], None, None),
    "st-16": ([(0x02, 0, 0, 16), RET0], "scratch-index", "scratch-index"),
    "ldx-mem-16": ([(0x61, 0, 0, 16), RET0], "scratch-index", "scratch-index"),
    "ld-mem-unset": ([(0x60, 0, 0, 3), RET0], None, "uninit-scratch"),
    "ld-mem-set": ([(0x02, 0, 0, 3), (0x60, 0, 0, 3), RET0], None, None),
    "ld-mem-one-path": (
        [(0x15, 0, 1, 0), (0x02, 0, 0, 3), (0x60, 0, 0, 3), RET0],
        None,
        "uninit-scratch",
    ),
    "ld-mem-both-paths": (
        [(0x15, 0, 2, 0), (0x02, 0, 0, 3), (0x05, 0, 0, 1), (0x03, 0, 0, 3), (0x60, 0, 0, 3), RET0],
        None,
        None,
    ),
    "jeq-jt-out": ([(0x15, 1, 0, 0), RET0], "jump-out-of-range", "jump-out-of-range"),
    "jeq-jf-out": ([(0x1D, 0, 5, 0), RET0], "jump-out-of-range", "jump-out-of-range"),
    "ja-1-out": ([(0x05, 0, 0, 1), RET0], "jump-out-of-range", "jump-out-of-range"),
    "ja-wraps": ([(0x05, 0, 0, 0xFFFFFFFF), RET0], None, "jump-out-of-range"),
    "ja-0": ([(0x05, 0, 0, 0), RET0], None, None),
    "no-ret": ([(0x00, 0, 0, 0)], "last-not-ret", "last-not-ret"),
    "last-ret-x": ([(0x00, 0, 0, 0), (0x0E, 0, 0, 0)], None, "opcode"),
    "anc-known": ([(0x20, 0, 0, SKF_AD_OFF + 4), RET0], None, None),
    "anc-unknown": ([(0x30, 0, 0, SKF_AD_OFF + 2), RET0], None, "ancillary"),
    "anc-beyond": ([(0x28, 0, 0, SKF_AD_OFF + 64), RET0], None, "ancillary"),
    "net-off": ([(0x30, 0, 0, 0xFFF00000), RET0], None, None),
    "too-long-4096": ([(0x00, 0, 0, 0)] * 4095 + [RET0], None, None),
    "too-long-4097": ([(0x00, 0, 0, 0)] * 4096 + [RET0], None, "too-long"),
    "ebpf-jump-far": (
        [(0x05, 0, 0, 2400)] + [(0xB1, 0, 0, 14)] * 2400 + [RET0],
        None,
        "ebpf-jump-range",
    ),
    "ebpf-jump-near": ([(0x05, 0, 0, 2000)] + [(0xB1, 0, 0, 14)] * 2000 + [RET0], None, None),
    "code-range": ([(0x10000, 0, 0, 0)], "field-range", "field-range"),
    "jt-range": ([(0x15, 256, 0, 0), RET0], "field-range", "field-range"),
    "k-negative": ([(0x06, 0, 0, -1)], "field-range", "field-range"),
    "k-huge": ([(0x06, 0, 0, 1 << 32)], "field-range", "field-range"),
    "malformed-short": ([(0x06, 0, 0)], "malformed", "malformed"),
    "malformed-str": ([(0x06, 0, 0, "1")], "malformed", "malformed"),
}


@pytest.mark.parametrize("name", CASES)
def test_rule(name: str) -> None:
    prog, libpcap_rule, strict_rule = CASES[name]
    assert rule_of(prog) == libpcap_rule
    assert rule_of(prog, strict=True) == strict_rule


@needs_libpcap
@pytest.mark.parametrize(
    "name", [n for n in CASES if CASES[n][1] not in ("malformed", "field-range")]
)
def test_default_mode_agrees_with_libpcap_on_cases(name: str) -> None:
    prog = CASES[name][0]
    assert (rule_of(prog) is None) == libpcap.bpf_validate(prog)


def test_error_names_index_and_rule() -> None:
    with pytest.raises(ValidationError) as info:
        validate([RET0, (0x15, 0, 9, 0), RET0])
    assert info.value.index == 1 and info.value.rule == "jump-out-of-range"
    assert str(info.value).startswith("insn 1: ")


def test_all_kernel_codes_pass_strict_in_a_trivial_program() -> None:
    for code in KERNEL_CODES:
        k = 1 if code in (0x34, 0x94) else 0
        prog = [(0x02, 0, 0, 0), (code, 0, 0, k), RET0]
        assert rule_of(prog, strict=True) is None, hex(code)


INTERESTING_CODES = sorted(KERNEL_CODES | {0x0E, 0x21, 0x18, 0xC0, 0xB4, 0x55, 0x8C, 0xFE, 0xFF})
insn_strategy = st.tuples(
    st.one_of(st.sampled_from(INTERESTING_CODES), st.integers(0, 0xFFFF)),
    st.integers(0, 4),
    st.integers(0, 4),
    st.one_of(st.integers(0, 40), st.sampled_from([0xFFFFFFFF, SKF_AD_OFF + 4, 0xFFF00000])),
)
programs = st.lists(insn_strategy, min_size=1, max_size=8)


@needs_libpcap
@given(programs)
def test_default_mode_is_libpcap_bpf_validate(prog: list[tuple[int, int, int, int]]) -> None:
    assert (rule_of(prog) is None) == libpcap.bpf_validate(prog)


@given(programs)
def test_strict_accepts_only_what_libpcap_mode_accepts(
    prog: list[tuple[int, int, int, int]],
) -> None:
    if rule_of(prog, strict=True) is None:
        assert rule_of(prog) is None


wild_field = st.one_of(
    st.integers(-(2**40), 2**40), st.sampled_from([-1, 0, 255, 256, 0xFFFF, 0x10000, 2**32])
)
wild = st.lists(
    st.one_of(
        st.tuples(wild_field, wild_field, wild_field, wild_field),
        st.lists(st.integers(0, 10), max_size=6),
        st.none(),
        st.text(max_size=3),
    ),
    max_size=6,
)


@given(wild, st.booleans())
def test_only_validation_errors_on_garbage(prog: list[object], strict: bool) -> None:
    try:
        validate(prog, strict=strict)  # type: ignore[arg-type]
    except ValidationError as err:
        assert err.rule in RULES
