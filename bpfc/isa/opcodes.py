"""The cBPF opcode space, defined once: fields, masks, whole opcodes, ancillary offsets.

An opcode (``struct sock_filter.code``) is the OR of a class (low three bits) and
class-specific fields: size and mode for loads, operation and source for ALU and
jumps, the return-value source for ``ret``, the register transfer for ``misc``.
Every decoder in bpfc (listings, assembler, validator, interpreter, its Python
translator, the capture batch filter, the optimizer, the code generator) reads
opcodes through the names here; ``tests/isa/test_opcode_literals.py`` fails when an
integer literal is compared with, or or-ed into, an opcode anywhere else.

The Linux ancillary loads (``ld [SKF_AD_OFF + n]``) have three spellings: the
kernel's ``SKF_AD_*`` constant, the name libpcap's ``bpf_image`` prints inside
``[...]``, and the ``bpf_asm`` extension keyword.  :data:`ANCILLARY_TABLE` holds them
side by side, one row per offset, and the per-spelling dicts are views of it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

# --- fields -------------------------------------------------------------------------


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


# --- masks and field extractors -----------------------------------------------------

CLASS_MASK = 0x07
SIZE_MASK = 0x18
MODE_MASK = 0xE0
OP_MASK = 0xF0
SRC_MASK = 0x08
RVAL_MASK = 0x18
MISCOP_MASK = 0xF8
CLASS_MODE_MASK = CLASS_MASK | MODE_MASK
"""A load's class and mode, its size ignored (``ld``/``ldh``/``ldb [x + k]`` alike)."""
CLASS_SRC_MASK = CLASS_MASK | SRC_MASK
"""Class and operand source, the operation ignored (any ``alu #k``)."""
CLASS_RVAL_MASK = CLASS_MASK | RVAL_MASK
"""Class and return-value source (``ret a`` whatever the unused bits)."""


def bpf_class(code: int) -> int:
    return code & CLASS_MASK


def bpf_size(code: int) -> int:
    return code & SIZE_MASK


def bpf_mode(code: int) -> int:
    return code & MODE_MASK


def bpf_op(code: int) -> int:
    return code & OP_MASK


def bpf_src(code: int) -> int:
    return code & SRC_MASK


def bpf_rval(code: int) -> int:
    return code & RVAL_MASK


def bpf_miscop(code: int) -> int:
    return code & MISCOP_MASK


# --- whole opcodes that several decoders single out ---------------------------------

LD_ABS = int(Class.LD | Size.W | Mode.ABS)
LDH_ABS = int(Class.LD | Size.H | Mode.ABS)
LDB_ABS = int(Class.LD | Size.B | Mode.ABS)
LD_IND = int(Class.LD | Size.W | Mode.IND)
LDH_IND = int(Class.LD | Size.H | Mode.IND)
LDB_IND = int(Class.LD | Size.B | Mode.IND)
LD_IMM = int(Class.LD | Mode.IMM)
LDX_IMM = int(Class.LDX | Mode.IMM)
LD_MEM = int(Class.LD | Mode.MEM)
LDX_MEM = int(Class.LDX | Mode.MEM)
LD_LEN = int(Class.LD | Size.W | Mode.LEN)
LDX_LEN = int(Class.LDX | Size.W | Mode.LEN)
"""``ldx #pktlen``: named by libpcap master, printed as ``unimp`` by 1.10."""
LDX_MSH = int(Class.LDX | Size.B | Mode.MSH)
"""``ldxb 4*([k]&0xf)``: the IPv4 header length idiom."""
ST = int(Class.ST)
STX = int(Class.STX)
NEG = int(Class.ALU | AluOp.NEG)
JA = int(Class.JMP | JmpOp.JA)
"""``ja k``: the unconditional jump."""
RET_K = int(Class.RET | RVal.K)
RET_X = int(Class.RET | RVal.X)
RET_A = int(Class.RET | RVal.A)
TAX = int(Class.MISC | MiscOp.TAX)
TXA = int(Class.MISC | MiscOp.TXA)

ABS_LOADS = frozenset({LD_ABS, LDH_ABS, LDB_ABS})
"""``ld``/``ldh``/``ldb [k]``."""
IND_LOADS = frozenset({LD_IND, LDH_IND, LDB_IND})
"""``ld``/``ldh``/``ldb [x + k]``."""
LOAD_WIDTH: dict[int, int] = {int(Size.W): 4, int(Size.H): 2, int(Size.B): 1}
"""BPF_SIZE field -> bytes loaded."""
ALU_OPS: tuple[AluOp, ...] = tuple(AluOp)
"""Every ALU operation, NEG included (it has no source operand)."""
BINARY_ALU_OPS: tuple[AluOp, ...] = tuple(op for op in AluOp if op is not AluOp.NEG)
"""ALU operations with a k or X operand."""
COND_JUMP_OPS: tuple[JmpOp, ...] = (JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET)
"""The conditional jumps (each with a k and an X form)."""
ALU_K = frozenset(int(Class.ALU | op | Src.K) for op in AluOp)
"""ALU with the constant operand, NEG included."""
ALU_X = frozenset(int(Class.ALU | op | Src.X) for op in BINARY_ALU_OPS)
"""ALU with X as the operand."""
COND_JUMPS = frozenset(int(Class.JMP | op | src) for op in COND_JUMP_OPS for src in Src)
"""jeq/jgt/jge/jset, k and x forms."""


# --- limits -------------------------------------------------------------------------

BPF_MEMWORDS = 16
"""Number of scratch memory slots M[0..15]."""

BPF_MAXINSNS = 4096
"""The Linux kernel's limit on the length of a classic BPF program."""

# --- Linux negative offsets and the ancillary table ---------------------------------

NEGATIVE_OFF = 0x80000000
"""Linux reads an absolute load offset at or above this as negative (``SKF_*_OFF + n``)."""

SKF_AD_OFF = 0xFFFFF000
"""Linux: absolute loads at ``SKF_AD_OFF + n`` (-4096 + n) read socket-buffer metadata."""

SKF_NET_OFF = 0xFFF00000
"""Linux: ``ld [SKF_NET_OFF + n]`` reads n bytes past the network header."""

SKF_LL_OFF = 0xFFE00000
"""Linux: ``ld [SKF_LL_OFF + n]`` reads n bytes past the link-layer (MAC) header."""


class Ancillary(NamedTuple):
    """One ``SKF_AD_*`` offset and its names: kernel, libpcap ``[name]``, ``bpf_asm #name``."""

    offset: int
    kernel: str
    libpcap: str
    bpf_asm: str | None


ANCILLARY_TABLE: tuple[Ancillary, ...] = (
    Ancillary(0, "protocol", "proto", "proto"),
    Ancillary(4, "pkttype", "type", "type"),
    Ancillary(8, "ifindex", "ifidx", "ifidx"),
    Ancillary(12, "nlattr", "nla", "nla"),
    Ancillary(16, "nlattr_nest", "nlan", "nlan"),
    Ancillary(20, "mark", "mark", "mark"),
    Ancillary(24, "queue", "queue", "queue"),
    Ancillary(28, "hatype", "hatype", "hatype"),
    Ancillary(32, "rxhash", "rxhash", "rxhash"),
    Ancillary(36, "cpu", "cpu", "cpu"),
    Ancillary(40, "alu_xor_x", "xor_x", None),
    Ancillary(44, "vlan_tag", "vlan_tci", "vlan_tci"),
    Ancillary(48, "vlan_tag_present", "vlanp", "vlan_avail"),
    Ancillary(52, "pay_offset", "poff", "poff"),
    Ancillary(56, "random", "random", "rand"),
    Ancillary(60, "vlan_tpid", "vlan_tpid", "vlan_tpid"),
)
"""Every ancillary offset the kernel knows (``kernel`` is ``SKF_AD_<NAME>`` in lower case)."""

ANCILLARY: dict[int, str] = {row.offset: row.kernel for row in ANCILLARY_TABLE}
"""Offset past ``SKF_AD_OFF`` -> kernel name (``SKF_AD_*`` lower-cased)."""

ANCILLARY_LIBPCAP: dict[int, str] = {row.offset: row.libpcap for row in ANCILLARY_TABLE}
"""Offset past ``SKF_AD_OFF`` -> the name libpcap prints inside ``[...]`` (Linux builds)."""

BPF_ASM_EXTENSIONS: dict[int, str] = {
    row.offset: row.bpf_asm for row in ANCILLARY_TABLE if row.bpf_asm is not None
}
"""Offset past ``SKF_AD_OFF`` -> the Linux ``bpf_asm`` extension keyword (``ld #proto``)."""

SKF_AD = {row.kernel: row.offset for row in ANCILLARY_TABLE}
"""Kernel name -> offset, for code that builds ancillary loads (``SKF_AD["pkttype"]``)."""
