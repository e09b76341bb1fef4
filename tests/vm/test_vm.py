"""The interpreter, one instruction family at a time, in every shape it comes in."""

from __future__ import annotations

import mmap

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from support.vm_strategies import packets, strict_programs

from bpfc import vm
from bpfc.errors import ValidationError
from bpfc.isa.opcodes import SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF
from bpfc.isa.validation import validate
from bpfc.vm import translate

RET_A = (0x16, 0, 0, 0)
PKT = bytes(range(0x10, 0x50))  # 64 bytes: 0x10 0x11 ... 0x4f


def ld(k: int) -> tuple[int, int, int, int]:
    return (0x00, 0, 0, k)


def ldx(k: int) -> tuple[int, int, int, int]:
    return (0x01, 0, 0, k)


def every_shape(prog: list[tuple[int, int, int, int]], pkt: bytes = PKT, **kw: object) -> int:
    """The verdict, after checking that all four execution paths agree on it."""
    wirelen = kw.pop("wirelen", None)
    linux = bool(kw.pop("linux", False))
    single = vm.make_filter(prog, linux=linux)(pkt, wirelen, **kw)
    assert vm.interpret(prog, pkt, wirelen, linux, dict(kw)) == single
    assert vm.make_batch_filter(prog, linux=linux)([(pkt, wirelen)] * 2, **kw) == [single] * 2
    assert vm.make_batch_counter(prog, linux=linux)([(pkt, wirelen)] * 3, **kw) == 3 * bool(single)
    return single


CASES = {
    # loads
    "ld-word": ([(0x20, 0, 0, 2), RET_A], 0x12131415),
    "ld-half": ([(0x28, 0, 0, 62), RET_A], 0x4E4F),
    "ld-byte": ([(0x30, 0, 0, 63), RET_A], 0x4F),
    "ld-word-past-end": ([(0x20, 0, 0, 61), RET_A], 0),
    "ld-half-past-end": ([(0x28, 0, 0, 63), RET_A], 0),
    "ld-byte-past-end": ([(0x30, 0, 0, 64), RET_A], 0),
    "ld-huge-k": ([(0x30, 0, 0, 0xFFFFFFFF), RET_A], 0),
    "ld-ind": ([ldx(3), (0x48, 0, 0, 4), RET_A], 0x1718),
    "ld-ind-word": ([ldx(60), (0x40, 0, 0, 0), RET_A], 0x4C4D4E4F),
    "ld-ind-past-end": ([ldx(60), (0x40, 0, 0, 1), RET_A], 0),
    "ld-ind-wrap": ([ldx(0xFFFFFFFF), (0x50, 0, 0, 1), RET_A], 0),  # no Linux-style wrap
    "ld-imm": ([ld(7), RET_A], 7),
    "ld-len": ([(0x80, 0, 0, 0), RET_A], 64),
    "ldx-len": ([(0x81, 0, 0, 0), (0x87, 0, 0, 0), RET_A], 64),
    "ldx-msh": ([(0xB1, 0, 0, 1), (0x87, 0, 0, 0), RET_A], (0x11 & 0xF) * 4),
    "ldx-msh-past-end": ([(0xB1, 0, 0, 64), RET_A], 0),
    # scratch memory
    "mem-starts-zero": ([ld(5), (0x60, 0, 0, 3), RET_A], 0),
    "st-ld": ([ld(9), (0x02, 0, 0, 15), ld(0), (0x60, 0, 0, 15), RET_A], 9),
    "stx-ldx": ([ldx(4), (0x03, 0, 0, 0), (0x61, 0, 0, 0), (0x87, 0, 0, 0), RET_A], 4),
    # ALU with k
    "add-wraps": ([ld(0xFFFFFFFF), (0x04, 0, 0, 2), RET_A], 1),
    "sub-wraps": ([ld(1), (0x14, 0, 0, 2), RET_A], 0xFFFFFFFF),
    "mul-wraps": ([ld(0x10000), (0x24, 0, 0, 0x10001), RET_A], 0x10000),
    "div": ([ld(100), (0x34, 0, 0, 7), RET_A], 14),
    "mod": ([ld(100), (0x94, 0, 0, 7), RET_A], 2),
    "or": ([ld(0xF0), (0x44, 0, 0, 0x0F), RET_A], 0xFF),
    "and": ([ld(0xF0), (0x54, 0, 0, 0x3C), RET_A], 0x30),
    "xor": ([ld(0xFF), (0xA4, 0, 0, 0x0F), RET_A], 0xF0),
    "lsh": ([ld(0x80000001), (0x64, 0, 0, 1), RET_A], 2),
    "rsh": ([ld(0x80000000), (0x74, 0, 0, 31), RET_A], 1),
    "lsh-32-k": ([ld(1), (0x64, 0, 0, 32), RET_A], 0),
    "neg": ([ld(1), (0x84, 0, 0, 0), RET_A], 0xFFFFFFFF),
    "neg-zero": ([ld(0), (0x84, 0, 0, 0), RET_A], 0),
    # ALU with x
    "add-x": ([ld(5), ldx(6), (0x0C, 0, 0, 0), RET_A], 11),
    "sub-x": ([ld(5), ldx(6), (0x1C, 0, 0, 0), RET_A], 0xFFFFFFFF),
    "div-x": ([ld(100), ldx(9), (0x3C, 0, 0, 0), RET_A], 11),
    "div-x-zero": ([ld(100), ldx(0), (0x3C, 0, 0, 0), (0x06, 0, 0, 5)], 0),
    "mod-x-zero": ([ld(100), ldx(0), (0x9C, 0, 0, 0), (0x06, 0, 0, 5)], 0),
    "lsh-x-31": ([ld(1), ldx(31), (0x6C, 0, 0, 0), RET_A], 0x80000000),
    "lsh-x-32": ([ld(1), ldx(32), (0x6C, 0, 0, 0), RET_A], 0),
    "rsh-x-big": ([ld(0xFFFFFFFF), ldx(0xFFFFFFFF), (0x7C, 0, 0, 0), RET_A], 0),
    "tax-txa": ([ld(3), (0x07, 0, 0, 0), ld(0), (0x87, 0, 0, 0), RET_A], 3),
    # jumps
    "ja": ([(0x05, 0, 0, 1), (0x06, 0, 0, 1), (0x06, 0, 0, 2)], 2),
    "jeq-true": ([ld(5), (0x15, 0, 1, 5), (0x06, 0, 0, 1), (0x06, 0, 0, 2)], 1),
    "jeq-false": ([ld(6), (0x15, 0, 1, 5), (0x06, 0, 0, 1), (0x06, 0, 0, 2)], 2),
    "jgt-equal": ([ld(5), (0x25, 0, 1, 5), (0x06, 0, 0, 1), (0x06, 0, 0, 2)], 2),
    "jge-equal": ([ld(5), (0x35, 0, 1, 5), (0x06, 0, 0, 1), (0x06, 0, 0, 2)], 1),
    "jset": ([ld(6), (0x45, 0, 1, 4), (0x06, 0, 0, 1), (0x06, 0, 0, 2)], 1),
    "jset-none": ([ld(6), (0x45, 0, 1, 1), (0x06, 0, 0, 1), (0x06, 0, 0, 2)], 2),
    "jgt-x-unsigned": ([ld(0x80000000), ldx(1), (0x2D, 0, 1, 0), (0x06, 0, 0, 1), (6, 0, 0, 2)], 1),
    "jeq-same-target": ([(0x15, 0, 0, 9), (0x06, 0, 0, 3)], 3),
    # returns and unknown opcodes
    "ret-k": ([(0x06, 0, 0, 0xFFFFFFFF)], 0xFFFFFFFF),
    "ret-x-rejects": ([ldx(9), (0x0E, 0, 0, 0)], 0),
    "ldx-abs-rejects": ([(0x21, 0, 0, 0), (0x06, 0, 0, 1)], 0),
    "misc-unknown-rejects": ([(0x0F, 0, 0, 0), (0x06, 0, 0, 1)], 0),
    "ld-odd-size-rejects": ([(0x38, 0, 0, 0), (0x06, 0, 0, 1)], 0),
}


@pytest.mark.parametrize("name", CASES)
def test_instruction(name: str) -> None:
    prog, expected = CASES[name]
    validate(prog)
    assert every_shape(prog) == expected


def test_len_is_wirelen() -> None:
    prog = [(0x80, 0, 0, 0), RET_A]
    assert every_shape(prog, b"abc") == 3
    assert every_shape(prog, b"abc", wirelen=1500) == 1500


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, "mmap"])
def test_packet_types_are_read_in_place(kind: object) -> None:
    prog = [(0x28, 0, 0, 62), RET_A]
    if kind == "mmap":
        buf = mmap.mmap(-1, len(PKT))
        buf.write(PKT)
        packet: object = buf
    else:
        packet = kind(PKT)  # type: ignore[operator]
    assert vm.run(prog, packet) == 0x4E4F
    assert vm.make_batch_filter(prog)([(packet, None)]) == [0x4E4F]


def test_linux_ancillary_loads_read_metadata() -> None:
    def anc(offset: int) -> list[tuple[int, int, int, int]]:
        return [(0x20, 0, 0, SKF_AD_OFF + offset), RET_A]

    assert every_shape(anc(0), linux=True, protocol=0x800) == 0x800
    assert every_shape(anc(4), linux=True, pkttype=3) == 3
    assert every_shape(anc(8), linux=True, ifindex=577) == 577
    assert every_shape(anc(20), linux=True, mark=0x1234AAAA) == 0x1234AAAA
    assert every_shape(anc(44), linux=True, vlan_tci=0xFFFF) == 0xFFFF
    assert every_shape(anc(48), linux=True, vlan_tci=5) == 1
    assert every_shape(anc(48), linux=True) == 0
    assert every_shape(anc(56), linux=True, random=7) == 7
    assert every_shape([ld(6), ldx(3), (0x20, 0, 0, SKF_AD_OFF + 40), RET_A], linux=True) == 5
    assert every_shape(anc(2), linux=True) == 0  # unknown ancillary: the load fails
    assert every_shape(anc(8)) == 0  # libpcap mode: an ordinary out-of-range load


def test_linux_negative_offsets() -> None:
    assert every_shape([(0x30, 0, 0, SKF_NET_OFF + 1), RET_A], linux=True) == PKT[15]
    assert every_shape([(0x28, 0, 0, SKF_LL_OFF + 2), RET_A], linux=True) == 0x1213
    ind = [ldx(0xFFFFFFFF), (0x50, 0, 0, 3), RET_A]  # X + k = 2 after 32-bit wrap
    assert every_shape(ind, linux=True) == PKT[2]
    assert every_shape(ind) == 0
    assert every_shape([(0x30, 0, 0, 0xFFFFFFF0), RET_A], linux=True, net_offset=14) == 0


def test_linux_shift_by_x_is_mod_32() -> None:
    prog = [ld(1), ldx(33), (0x6C, 0, 0, 0), RET_A]
    assert every_shape(prog, linux=True) == 2
    assert every_shape(prog) == 0


def test_metadata_errors_are_clear() -> None:
    with pytest.raises(TypeError, match="linux=True"):
        vm.run([RET_A], PKT, ifindex=1)
    with pytest.raises(TypeError, match="unknown packet metadata 'ifidx'"):
        vm.run([RET_A], PKT, linux=True, ifidx=1)


def test_invalid_programs_are_refused() -> None:
    with pytest.raises(ValidationError, match="non-integer"):
        vm.make_filter([(0x06, 0, 0, "1")])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="insn 0"):
        vm.make_filter([(0x06, 0, 0)])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        vm.make_filter([(0x15, 0, 9, 0), RET_A])
    with pytest.raises(ValidationError):
        vm.make_batch_filter([])


def test_backward_ja_runs_in_the_interpreter() -> None:
    # ja -1 (jump to itself) passes libpcap's validator; it must end with 0, not hang
    prog = [(0x05, 0, 0, 0xFFFFFFFF), (0x06, 0, 0, 1)]
    assert translate.expansion_size(prog) is None
    assert every_shape(prog) == 0
    loop = [ld(0), (0x04, 0, 0, 1), (0x05, 0, 0, 0xFFFFFFFE), (0x06, 0, 0, 1)]
    assert every_shape(loop) == 0  # cut off after 64 + caplen backward jumps


def test_wide_dag_falls_back_but_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    prog = [(0x30, 0, 0, i) for i in range(1)]
    for i in range(30):  # 30 diamonds: 2**30 paths
        prog += [(0x45, 0, 1, 1 << (i % 8)), (0x04, 0, 0, 1), (0x04, 0, 0, 2)]
    prog.append(RET_A)
    assert translate.expansion_size(prog) > translate.LINE_BUDGET  # type: ignore[operator]
    assert every_shape(prog) == vm.interpret(prog, PKT)


def test_translation_is_cached_and_straight_line() -> None:
    prog = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]
    assert vm.make_filter(prog) is vm.make_filter(list(prog))
    text = vm.source(prog)
    assert "while" not in text and "pc" not in text
    assert "for p, wirelen in items" in vm.source(prog, mode="batch")


@given(strict_programs(), packets, st.booleans())
def test_translation_equals_reference_interpreter(
    prog: list[tuple[int, int, int, int]], pkt: bytes, linux: bool
) -> None:
    try:
        validate(prog, strict=True)
    except ValidationError:
        assume(False)
    meta = {"protocol": 0x800, "vlan_tci": 3} if linux else {}
    assert vm.make_filter(prog, linux=linux)(pkt, None, **meta) == vm.interpret(
        prog, pkt, None, linux, meta
    )


any_insn = st.tuples(
    st.one_of(st.integers(0, 0xFF), st.sampled_from([0x0E, 0x21, 0x38, 0x8C, 0x104])),
    st.integers(0, 3),
    st.integers(0, 3),
    st.one_of(st.integers(0, 40), st.sampled_from([0xFFFFFFFF, 0xFFFFFFFE, SKF_AD_OFF])),
)


@given(st.lists(any_insn, min_size=1, max_size=8), packets)
def test_libpcap_valid_programs_with_odd_opcodes_agree(
    prog: list[tuple[int, int, int, int]], pkt: bytes
) -> None:
    prog = prog + [(0x06, 0, 0, 1)]
    try:
        validate(prog)
    except ValidationError:
        assume(False)
    assert every_shape(prog, pkt) == vm.interpret(prog, pkt)


garbage = st.lists(
    st.one_of(
        st.tuples(*[st.integers(-(2**33), 2**33)] * 4),
        st.lists(st.integers(0, 300), max_size=5),
        st.tuples(st.just(6), st.just(0), st.just(0), st.text(max_size=2)),
    ),
    max_size=5,
)


@given(garbage)
def test_make_filter_raises_only_validation_errors(prog: list[object]) -> None:
    try:
        fn = vm.make_filter(prog)  # type: ignore[arg-type]
    except ValidationError:
        return
    assert isinstance(fn(PKT), int)


def test_backward_jump_budget_grows_with_the_capture() -> None:
    # a loop that counts to 100 before returning: more than 64 backward jumps, as the
    # upstream ip6_protochain_17_deepstack packet needs, runs to its end on a packet
    # long enough and is still cut off (0) on a short one
    loop = [
        (0x87, 0, 0, 0),  # txa
        (0x04, 0, 0, 1),  # add #1
        (0x07, 0, 0, 0),  # tax
        (0x15, 1, 0, 100),  # jeq #100
        (0x05, 0, 0, 0xFFFFFFFB),  # ja back to txa
        (0x06, 0, 0, 7),
    ]
    assert vm.interpret(loop, bytes(64), None, False, {}) == 7
    assert vm.interpret(loop, bytes(8), None, False, {}) == 0
