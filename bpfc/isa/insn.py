"""Classic BPF instruction model: the raw 4-tuple and the BPF_STMT/BPF_JUMP builders.

A cBPF instruction is ``struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }``.
The opcode is the OR of a class and class-specific fields (size/mode for loads,
operation/source for ALU and jumps, return value source for ``ret``).  Everything
else in bpfc takes its opcode knowledge from :mod:`bpfc.isa.opcodes`; this module
re-exports the field enums so ``from bpfc.isa.insn import Class, Insn`` reads as one
import for code that builds instructions.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from bpfc.isa.opcodes import (
    BPF_MAXINSNS,
    BPF_MEMWORDS,
    AluOp,
    Class,
    JmpOp,
    MiscOp,
    Mode,
    RVal,
    Size,
    Src,
    bpf_class,
    bpf_miscop,
    bpf_mode,
    bpf_op,
    bpf_rval,
    bpf_size,
    bpf_src,
)

__all__ = [
    "BPF_MAXINSNS",
    "BPF_MEMWORDS",
    "SOCK_FILTER",
    "AluOp",
    "Class",
    "Insn",
    "JmpOp",
    "MiscOp",
    "Mode",
    "RVal",
    "Size",
    "Src",
    "bpf_class",
    "bpf_miscop",
    "bpf_mode",
    "bpf_op",
    "bpf_rval",
    "bpf_size",
    "bpf_src",
    "jump",
    "stmt",
]

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
    return Insn(int(code), 0, 0, k & 0xFFFFFFFF)


def jump(code: int, k: int, jt: int, jf: int) -> Insn:
    """A jump instruction, as the BPF_JUMP macro builds it."""
    return Insn(int(code), jt, jf, k & 0xFFFFFFFF)
