"""An eBPF program as text, in the style of the kernel verifier's log and ``bpftool prog
dump xlated``: one line per instruction, ``   3: (61) r2 = *(u32 *)(r1 +0)``.

The opcode in parentheses is the instruction's ``code`` in hex; 32-bit operations name
their registers ``wN``, 64-bit ones ``rN``; jump targets are relative (``goto pc+3``) as
the kernel prints them; immediates print in decimal for ALU operations and in hex for
jump comparisons, as there.  ``lddw`` takes two slots and prints once.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.ebpf import insn as e
from bpfc.ebpf.insn import EbpfInsn

__all__ = ["HELPERS", "dump", "line"]

HELPERS = {
    7: "bpf_get_prandom_u32",
    8: "bpf_get_smp_processor_id",
    26: "bpf_skb_load_bytes",
    39: "bpf_skb_pull_data",
}
"""Helper numbers the translator calls, by name (``enum bpf_func_id``)."""

_ALU_OPS = {
    e.ADD: "+=",
    e.SUB: "-=",
    e.MUL: "*=",
    e.DIV: "/=",
    e.OR: "|=",
    e.AND: "&=",
    e.LSH: "<<=",
    e.RSH: ">>=",
    e.MOD: "%=",
    e.XOR: "^=",
    e.MOV: "=",
    e.ARSH: "s>>=",
}
_JMP_OPS = {
    e.JEQ: "==",
    e.JGT: ">",
    e.JGE: ">=",
    e.JSET: "&",
    e.JNE: "!=",
    e.JSGT: "s>",
    e.JSGE: "s>=",
    e.JLT: "<",
    e.JLE: "<=",
    e.JSLT: "s<",
    e.JSLE: "s<=",
}


def line(insn: Sequence[int], next_imm: int = 0) -> str:
    """One instruction without its index (``next_imm``: the second slot of an ``lddw``)."""
    code, dst, src, off, imm = insn
    cls = code & e.CLASS_MASK
    head = f"({code:02x})"
    if cls in (e.ALU, e.ALU64):
        r = "w" if cls == e.ALU else "r"
        op = code & e.OP_MASK
        if op == e.NEG:
            return f"{head} {r}{dst} = -{r}{dst}"
        if op == e.END:
            kind = "be" if code & e.SRC_MASK else "le"
            return f"{head} r{dst} = {kind}{imm} r{dst}"
        sign = _ALU_OPS.get(op)
        if sign is None:
            return f"{head} invalid alu operation"
        operand = f"{r}{src}" if code & e.SRC_MASK else str(imm)
        return f"{head} {r}{dst} {sign} {operand}"
    if cls in (e.JMP, e.JMP32):
        op = code & e.OP_MASK
        if op == e.EXIT:
            return f"{head} exit"
        if op == e.CALL:
            return f"{head} call {HELPERS.get(imm, 'helper')}#{imm}"
        if op == e.JA:
            if cls == e.JMP32:
                return f"{head} gotol pc{imm:+d}"
            return f"{head} goto pc{off:+d}"
        sign = _JMP_OPS.get(op)
        if sign is None:
            return f"{head} invalid jump operation"
        r = "w" if cls == e.JMP32 else "r"
        operand = f"{r}{src}" if code & e.SRC_MASK else f"{imm & 0xFFFFFFFF:#x}"
        return f"{head} if {r}{dst} {sign} {operand} goto pc{off:+d}"
    size = e.SIZE_NAMES[code & e.SIZE_MASK]
    mode = code & e.MODE_MASK
    if cls == e.LDX and mode == e.MEM:
        return f"{head} r{dst} = *({size} *)(r{src} {off:+d})"
    if cls == e.STX and mode == e.MEM:
        return f"{head} *({size} *)(r{dst} {off:+d}) = r{src}"
    if cls == e.ST and mode == e.MEM:
        return f"{head} *({size} *)(r{dst} {off:+d}) = {imm}"
    if cls == e.LD and mode == e.ABS:
        return f"{head} r0 = *({size} *)skb[{imm}]"
    if cls == e.LD and mode == e.IND:
        return f"{head} r0 = *({size} *)skb[r{src} + {imm}]"
    if cls == e.LD and mode == e.IMM and code & e.SIZE_MASK == e.DW:
        value = (imm & 0xFFFFFFFF) | (next_imm & 0xFFFFFFFF) << 32
        return f"{head} r{dst} = {value:#x}"
    return f"{head} unknown opcode"


def dump(insns: Sequence[EbpfInsn]) -> str:
    """The whole program, ``bpftool prog dump xlated``-style, one line each."""
    out = []
    j = 0
    while j < len(insns):
        insn = insns[j]
        wide = insn.code == e.LD | e.IMM | e.DW and j + 1 < len(insns)
        text = line(insn, insns[j + 1].imm if wide else 0)
        out.append(f"{j:4d}: {text}\n")
        j += 2 if wide else 1
    return "".join(out)
