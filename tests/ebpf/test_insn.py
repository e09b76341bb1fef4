"""bpfc.ebpf.insn: struct bpf_insn encoding, decoding and the builders."""

from __future__ import annotations

import struct
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.ebpf import insn as e
from bpfc.ebpf.insn import EbpfInsn, decode, encode

insns = st.builds(
    EbpfInsn,
    st.integers(0, 0xFF),
    st.integers(0, 15),
    st.integers(0, 15),
    st.integers(-0x8000, 0x7FFF),
    st.integers(-0x80000000, 0x7FFFFFFF),
)


@given(st.lists(insns, max_size=20))
def test_encode_decode_round_trip(items: list[EbpfInsn]) -> None:
    data = encode(items)
    assert len(data) == 8 * len(items)
    assert decode(data) == items


@pytest.mark.skipif(sys.byteorder != "little", reason="the byte layout below is little-endian")
def test_layout_matches_the_kernel_header() -> None:
    # r6 = r1 (BPF_MOV64_REG(BPF_REG_6, BPF_REG_1)): code 0xbf, dst in the low nibble
    assert encode([e.mov64(e.R6, src=e.R1)]) == bytes([0xBF, 0x16, 0, 0, 0, 0, 0, 0])
    # if w7 == 0x800 goto pc+3: JMP32|JEQ|K, off 3, imm 0x800
    raw = encode([e.jmp32(e.JEQ, e.R7, 3, imm=0x800)])
    assert raw == bytes([0x16, 0x07, 3, 0, 0x00, 0x08, 0, 0])
    # *(u32 *)(r10 -64) = r7
    assert encode([e.stx(e.W, e.FP, -64, e.R7)]) == struct.pack("<BBhi", 0x63, 0x7A, -64, 0)


def test_builders_store_unsigned_constants_signed() -> None:
    assert e.mov32(e.R0, imm=0xFFFFFFFF).imm == -1
    assert e.mov32(e.R0, imm=0x80000000).imm == -0x80000000
    assert e.alu32(e.ADD, e.R7, imm=5) == EbpfInsn(e.ALU | e.ADD | e.K, 7, 0, 0, 5)
    assert e.alu32(e.ADD, e.R7, src=e.R8) == EbpfInsn(e.ALU | e.ADD | e.X, 7, 8, 0, 0)


def test_lddw_takes_two_slots() -> None:
    first, second = e.lddw(e.R1, 0x1122334455667788)
    assert first.code == 0x18 and second.code == 0
    assert first.imm & 0xFFFFFFFF == 0x55667788 and second.imm == 0x11223344
    assert len(encode([first, second])) == 16


@pytest.mark.parametrize(
    "bad",
    [EbpfInsn(0x100, 0, 0, 0, 0), EbpfInsn(0, 16, 0, 0, 0), EbpfInsn(0, 0, 0, 0x8000, 0)],
)
def test_encode_refuses_fields_out_of_range(bad: EbpfInsn) -> None:
    with pytest.raises(ValueError, match="bad eBPF instruction"):
        encode([bad])


def test_decode_refuses_a_partial_instruction() -> None:
    with pytest.raises(ValueError, match="whole number"):
        decode(b"\0" * 12)


def test_is_jump() -> None:
    assert e.is_jump(e.ja(1)) and e.is_jump(e.jmp(e.JGT, 4, 2, src=3))
    assert not e.is_jump(e.exit_()) and not e.is_jump(e.call(7))
    assert not e.is_jump(e.mov32(0, imm=1))
