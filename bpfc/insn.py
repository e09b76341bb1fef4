"""Classic BPF instruction model: opcode fields as IntEnums and the raw 4-tuple.

A cBPF instruction is ``struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }``.
The opcode is the OR of a class and class-specific fields (size/mode for loads,
operation/source for ALU and jumps, return value source for ``ret``).  Everything
else in bpfc (dumps, assembler, validator, interpreter, code generator) takes its
opcode knowledge from this one module.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple


class Class(IntEnum):
    """BPF_CLASS(code): the low three bits."""

    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    RET = 0x06
    MISC = 0x07


class Size(IntEnum):
    """BPF_SIZE(code) for loads: word, half word, byte."""

    W = 0x00
    H = 0x08
    B = 0x10


class Mode(IntEnum):
    """BPF_MODE(code) for loads and stores."""

    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60
    LEN = 0x80
    MSH = 0xA0


class AluOp(IntEnum):
    """BPF_OP(code) for the ALU class."""

    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    XOR = 0xA0


class JmpOp(IntEnum):
    """BPF_OP(code) for the JMP class."""

    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40


class Src(IntEnum):
    """BPF_SRC(code): operand is the constant k or the X register."""

    K = 0x00
    X = 0x08


class RVal(IntEnum):
    """BPF_RVAL(code) for ``ret``: constant k, accumulator A (X is not in the kernel)."""

    K = 0x00
    X = 0x08
    A = 0x10


class MiscOp(IntEnum):
    """BPF_MISCOP(code): register transfers."""

    TAX = 0x00
    TXA = 0x80


def bpf_class(code: int) -> int:
    return code & 0x07


def bpf_size(code: int) -> int:
    return code & 0x18


def bpf_mode(code: int) -> int:
    return code & 0xE0


def bpf_op(code: int) -> int:
    return code & 0xF0


def bpf_src(code: int) -> int:
    return code & 0x08


def bpf_rval(code: int) -> int:
    return code & 0x18


def bpf_miscop(code: int) -> int:
    return code & 0xF8


BPF_MEMWORDS = 16
"""Number of scratch memory slots M[0..15]."""

BPF_MAXINSNS = 4096
"""The Linux kernel's limit on the length of a classic BPF program."""

SOCK_FILTER = struct.Struct("=HBBI")
"""``struct sock_filter`` / ``struct bpf_insn`` in host byte order (8 bytes)."""


class Insn(NamedTuple):
    """One raw instruction; compares equal to a plain ``(code, jt, jf, k)`` tuple."""

    code: int
    jt: int
    jf: int
    k: int

    def encode(self) -> bytes:
        """The 8-byte ``struct sock_filter`` in host byte order."""
        return SOCK_FILTER.pack(self.code, self.jt, self.jf, self.k)


def stmt(code: int, k: int = 0) -> Insn:
    """A non-jump instruction, as the BPF_STMT macro builds it."""
    return Insn(code, 0, 0, k & 0xFFFFFFFF)


def jump(code: int, k: int, jt: int, jf: int) -> Insn:
    """A jump instruction, as the BPF_JUMP macro builds it."""
    return Insn(code, jt, jf, k & 0xFFFFFFFF)
