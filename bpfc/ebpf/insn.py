"""The eBPF instruction: ``struct bpf_insn``, its opcode fields, builders and encoding.

An eBPF instruction is 8 bytes: ``u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm``.
The bit fields follow the C compiler's layout for the host, so on a little-endian host
``dst`` is the low nibble of byte 1 and on a big-endian host the high one; :func:`encode`
writes host order, as ``bpf(BPF_PROG_LOAD)`` and an ELF object for this machine expect.
``lddw`` (a 64-bit immediate) takes two slots, the second with code 0 and the high half
of the constant in ``imm``; :func:`lddw` returns both.

The opcode is the OR of a class (the low three bits, shared with cBPF for LD/LDX/ST/
STX/ALU/JMP), an operation and a source bit (ALU and jumps), or a size and a mode
(loads and stores).  Only what the translator emits and the listing prints is named
here; the numbers are the kernel's UAPI (``linux/bpf.h``, ``linux/bpf_common.h``).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterable, Sequence
from typing import NamedTuple

__all__ = [
    "EbpfInsn",
    "decode",
    "encode",
    "lddw",
]

# --- classes, sizes, modes, sources -------------------------------------------------
LD, LDX, ST, STX, ALU, JMP, JMP32, ALU64 = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
CLASS_MASK = 0x07
W, H, B, DW = 0x00, 0x08, 0x10, 0x18
SIZE_MASK = 0x18
IMM, ABS, IND, MEM = 0x00, 0x20, 0x40, 0x60
MODE_MASK = 0xE0
K, X = 0x00, 0x08
SRC_MASK = 0x08
OP_MASK = 0xF0

SIZE_BYTES = {W: 4, H: 2, B: 1, DW: 8}
SIZE_NAMES = {W: "u32", H: "u16", B: "u8", DW: "u64"}

# --- ALU operations (ALU / ALU64) ---------------------------------------------------
ADD, SUB, MUL, DIV, OR, AND, LSH, RSH = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70
NEG, MOD, XOR, MOV, ARSH, END = 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0
TO_LE, TO_BE = 0x00, 0x08
"""``BPF_END``'s source bit: convert to little- or big-endian (the value is swapped when
that is not the host's order, and truncated to ``imm`` bits either way)."""

# --- jump operations (JMP / JMP32) --------------------------------------------------
JA, JEQ, JGT, JGE, JSET, JNE = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50
JSGT, JSGE, CALL, EXIT, JLT, JLE, JSLT, JSLE = 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0

# --- registers ----------------------------------------------------------------------
R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)
FP = R10
"""The read-only frame pointer; the stack is the 512 bytes below it."""

_LAYOUT = struct.Struct("=BBhi")
_DST_LOW = sys.byteorder == "little"


class EbpfInsn(NamedTuple):
    """One ``struct bpf_insn``: ``imm`` is a signed 32-bit value, ``off`` a signed 16-bit one.

    The builders below take unsigned constants (a cBPF ``k``) and store them signed, so
    two instructions that mean the same thing compare equal.
    """

    code: int
    dst: int
    src: int
    off: int
    imm: int


def _s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def encode_one(insn: EbpfInsn) -> bytes:
    """The 8 bytes of one instruction, host byte order and bit-field layout."""
    code, dst, src, off, imm = insn
    if not (0 <= code <= 0xFF and 0 <= dst <= 15 and 0 <= src <= 15):
        raise ValueError(f"bad eBPF instruction {tuple(insn)}: code or register out of range")
    if not -0x8000 <= off <= 0x7FFF:
        raise ValueError(f"bad eBPF instruction {tuple(insn)}: off {off} is not a signed 16-bit")
    regs = (src << 4 | dst) if _DST_LOW else (dst << 4 | src)
    return _LAYOUT.pack(code, regs, off, _s32(imm))


def encode(insns: Iterable[EbpfInsn]) -> bytes:
    """The ``struct bpf_insn`` array (8 bytes each) that ``BPF_PROG_LOAD`` takes."""
    return b"".join(encode_one(insn) for insn in insns)


def decode(data: bytes | bytearray | memoryview) -> list[EbpfInsn]:
    """:func:`encode` backwards (host order); raises ValueError on a partial instruction."""
    view = memoryview(data).cast("B")
    if len(view) % 8:
        raise ValueError(f"{len(view)} bytes is not a whole number of 8-byte eBPF instructions")
    out = []
    for code, regs, off, imm in _LAYOUT.iter_unpack(view):
        dst, src = (regs & 15, regs >> 4) if _DST_LOW else (regs >> 4, regs & 15)
        out.append(EbpfInsn(code, dst, src, off, imm))
    return out


# --- builders -----------------------------------------------------------------------


def alu32(op: int, dst: int, *, src: int | None = None, imm: int = 0) -> EbpfInsn:
    """``wDST op= wSRC`` or ``wDST op= imm`` (32-bit: the upper half of DST becomes 0)."""
    if src is None:
        return EbpfInsn(ALU | op | K, dst, 0, 0, _s32(imm))
    return EbpfInsn(ALU | op | X, dst, src, 0, 0)


def alu64(op: int, dst: int, *, src: int | None = None, imm: int = 0) -> EbpfInsn:
    """``rDST op= rSRC`` or ``rDST op= imm`` (64-bit; ``imm`` is sign-extended)."""
    if src is None:
        return EbpfInsn(ALU64 | op | K, dst, 0, 0, _s32(imm))
    return EbpfInsn(ALU64 | op | X, dst, src, 0, 0)


def mov32(dst: int, *, src: int | None = None, imm: int = 0) -> EbpfInsn:
    return alu32(MOV, dst, src=src, imm=imm)


def mov64(dst: int, *, src: int | None = None, imm: int = 0) -> EbpfInsn:
    return alu64(MOV, dst, src=src, imm=imm)


def to_be(dst: int, bits: int) -> EbpfInsn:
    """``rDST = be16/be32 rDST``: a big-endian value read from memory to its number."""
    return EbpfInsn(ALU | END | TO_BE, dst, 0, 0, bits)


def ldx(size: int, dst: int, src: int, off: int) -> EbpfInsn:
    """``rDST = *(size *)(rSRC + off)`` (zero-extended)."""
    return EbpfInsn(LDX | MEM | size, dst, src, off, 0)


def stx(size: int, dst: int, off: int, src: int) -> EbpfInsn:
    """``*(size *)(rDST + off) = rSRC``."""
    return EbpfInsn(STX | MEM | size, dst, src, off, 0)


def st(size: int, dst: int, off: int, imm: int) -> EbpfInsn:
    """``*(size *)(rDST + off) = imm``."""
    return EbpfInsn(ST | MEM | size, dst, 0, off, _s32(imm))


def ld_abs(size: int, imm: int) -> EbpfInsn:
    """Legacy ``r0 = ntoh(*(size *)skb[imm])`` (socket filters, r6 = the skb)."""
    return EbpfInsn(LD | ABS | size, 0, 0, 0, _s32(imm))


def ld_ind(size: int, src: int, imm: int) -> EbpfInsn:
    """Legacy ``r0 = ntoh(*(size *)skb[rSRC + imm])``."""
    return EbpfInsn(LD | IND | size, 0, src, 0, _s32(imm))


def jmp(op: int, dst: int, off: int = 0, *, src: int | None = None, imm: int = 0) -> EbpfInsn:
    """``if rDST op rSRC/imm goto pc+off`` on 64 bits."""
    if src is None:
        return EbpfInsn(JMP | op | K, dst, 0, off, _s32(imm))
    return EbpfInsn(JMP | op | X, dst, src, off, 0)


def jmp32(op: int, dst: int, off: int = 0, *, src: int | None = None, imm: int = 0) -> EbpfInsn:
    """``if wDST op wSRC/imm goto pc+off`` on the low 32 bits (unsigned for JGT...)."""
    if src is None:
        return EbpfInsn(JMP32 | op | K, dst, 0, off, _s32(imm))
    return EbpfInsn(JMP32 | op | X, dst, src, off, 0)


def ja(off: int = 0) -> EbpfInsn:
    return EbpfInsn(JMP | JA, 0, 0, off, 0)


def call(helper: int) -> EbpfInsn:
    """``call helper#N``: arguments in r1..r5, result in r0, r1..r5 clobbered."""
    return EbpfInsn(JMP | CALL, 0, 0, 0, helper)


def exit_() -> EbpfInsn:
    return EbpfInsn(JMP | EXIT, 0, 0, 0, 0)


def lddw(dst: int, value: int) -> tuple[EbpfInsn, EbpfInsn]:
    """``rDST = value`` (64 bits) in its two slots."""
    value &= 0xFFFFFFFFFFFFFFFF
    return (
        EbpfInsn(LD | IMM | DW, dst, 0, 0, _s32(value)),
        EbpfInsn(0, 0, 0, 0, _s32(value >> 32)),
    )


def is_jump(insn: Sequence[int]) -> bool:
    """A jump with a target (not ``call`` or ``exit``)."""
    cls = insn[0] & CLASS_MASK
    return cls in (JMP, JMP32) and insn[0] & OP_MASK not in (CALL, EXIT)
