"""bpfc.ebpf.listing: lines as the kernel verifier log / bpftool print them."""

from __future__ import annotations

import pytest

from bpfc.ebpf import insn as e
from bpfc.ebpf.listing import dump, line


@pytest.mark.parametrize(
    ("insn", "text"),
    [
        (e.mov64(e.R6, src=e.R1), "(bf) r6 = r1"),
        (e.mov32(e.R0, imm=2), "(b4) w0 = 2"),
        (e.mov32(e.R0, imm=0xFFFFFFFF), "(b4) w0 = -1"),
        (e.ldx(e.W, e.R2, e.R1, 0), "(61) r2 = *(u32 *)(r1 +0)"),
        (e.ldx(e.H, e.R7, e.R2, 12), "(69) r7 = *(u16 *)(r2 +12)"),
        (e.alu64(e.ADD, e.R4, imm=24), "(07) r4 += 24"),
        (e.alu64(e.SUB, e.R5, src=e.R2), "(1f) r5 -= r2"),
        (e.alu32(e.AND, e.R8, imm=15), "(54) w8 &= 15"),
        (e.alu32(e.LSH, e.R7, src=e.R8), "(6c) w7 <<= w8"),
        (e.alu32(e.NEG, e.R7), "(84) w7 = -w7"),
        (e.to_be(e.R7, 16), "(dc) r7 = be16 r7"),
        (e.jmp(e.JGT, e.R4, 52, src=e.R3), "(2d) if r4 > r3 goto pc+52"),
        (e.jmp(e.JGT, e.R4, 3, imm=0xFFFD), "(25) if r4 > 0xfffd goto pc+3"),
        (e.jmp32(e.JEQ, e.R7, 32, imm=0x86DD), "(16) if w7 == 0x86dd goto pc+32"),
        (e.jmp32(e.JSET, e.R7, 1, imm=0x1FFF), "(46) if w7 & 0x1fff goto pc+1"),
        (e.jmp32(e.JNE, e.R7, -2, imm=-1), "(56) if w7 != 0xffffffff goto pc-2"),
        (e.ja(2), "(05) goto pc+2"),
        (e.call(39), "(85) call bpf_skb_pull_data#39"),
        (e.exit_(), "(95) exit"),
        (e.stx(e.W, e.FP, -64, e.R7), "(63) *(u32 *)(r10 -64) = r7"),
        (e.st(e.DW, e.FP, -64, 0), "(7a) *(u64 *)(r10 -64) = 0"),
        (e.ld_abs(e.H, 12), "(28) r0 = *(u16 *)skb[12]"),
        (e.ld_ind(e.B, e.R8, 14), "(50) r0 = *(u8 *)skb[r8 + 14]"),
    ],
)
def test_line(insn: e.EbpfInsn, text: str) -> None:
    assert line(insn) == text


def test_dump_numbers_slots_and_prints_lddw_once() -> None:
    insns = [*e.lddw(e.R1, 0x1122334455667788), e.mov32(e.R0, imm=0), e.exit_()]
    assert dump(insns) == (
        "   0: (18) r1 = 0x1122334455667788\n   2: (b4) w0 = 0\n   3: (95) exit\n"
    )


def test_unknown_opcodes_say_so() -> None:
    assert "unknown" in line(e.EbpfInsn(0xFF, 0, 0, 0, 0)) or "invalid" in line(
        e.EbpfInsn(0xFF, 0, 0, 0, 0)
    )
    assert line(e.EbpfInsn(e.ALU | 0xE0, 0, 0, 0, 0)).endswith("invalid alu operation")
