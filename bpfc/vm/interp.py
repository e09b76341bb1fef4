"""The reference interpreter: one instruction at a time, written to be obviously right.

It defines the semantics that the fast translator (:mod:`bpfc.vm.translate`) must
reproduce, and it runs the rare programs the translator declines (backward ``ja``
offsets, programs whose code would grow too large).  libpcap mode follows
``bpf_filter`` (libpcap master, whose verdicts equal 1.10.3's on every program
1.10.3 does not crash on):

* A, X and M[0..15] start at 0; every value is an unsigned 32-bit integer;
* a load that does not fit in the captured bytes ends the program with 0;
  ``len`` is the wire length;
* division or modulo by X = 0 returns 0; a shift by 32 or more gives 0;
* an opcode the machine does not implement (``ret x``, ``ldx [k]`` ...) returns 0;
* a backward ``ja`` to itself returns 0, and so does a run that takes more than
  ``MAX_BACKWARD_JUMPS`` + (captured length) backward jumps.  libpcap sign-extends the
  offset and has no limit (a chain walk that never advances loops forever there); a
  ``protochain`` walk advances at least 8 bytes a step, so it never needs that many.

Linux mode (``linux=True``) differs only in loads: ``[x + k]`` and ``[k]`` use a
signed 32-bit offset, negative offsets go through ``SKF_NET_OFF``/``SKF_LL_OFF``,
``[SKF_AD_OFF + n]`` reads metadata, and shifts by X use X mod 32 (eBPF).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bpfc.isa.arith import shift
from bpfc.isa.opcodes import (
    ABS_LOADS,
    ALU_K,
    ALU_X,
    ANCILLARY,
    COND_JUMPS,
    IND_LOADS,
    JA,
    LD_IMM,
    LD_LEN,
    LD_MEM,
    LDX_IMM,
    LDX_LEN,
    LDX_MEM,
    LDX_MSH,
    LOAD_WIDTH,
    NEGATIVE_OFF,
    OP_MASK,
    RET_A,
    RET_K,
    SIZE_MASK,
    SKF_AD_OFF,
    SRC_MASK,
    ST,
    STX,
    TAX,
    TXA,
    AluOp,
    JmpOp,
)
from bpfc.vm.ancillary import meta_value, neg_load, nlattr

__all__ = ["MAX_BACKWARD_JUMPS", "interpret"]

M32 = 0xFFFFFFFF
MAX_BACKWARD_JUMPS = 64
"""Backward jumps allowed beyond one per captured byte before a run is cut off."""
_LOADS = frozenset(int(c) for c in ABS_LOADS | IND_LOADS)
_IMM = frozenset({LD_IMM, LDX_IMM})
_LEN = frozenset({LD_LEN, LDX_LEN})
_SCRATCH = frozenset({LD_MEM, LDX_MEM, ST, STX})
# plain ints: comparing with an IntEnum member costs an attribute lookup per test
_ADD, _SUB, _MUL, _DIV, _MOD = (
    int(op) for op in (AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.MOD)
)
_OR, _AND, _XOR, _LSH, _RSH = (
    int(op) for op in (AluOp.OR, AluOp.AND, AluOp.XOR, AluOp.LSH, AluOp.RSH)
)
_JEQ, _JGT, _JGE = int(JmpOp.JEQ), int(JmpOp.JGT), int(JmpOp.JGE)


def load(p: Any, offset: int, size: int, linux: bool, meta: dict[str, Any]) -> int | None:
    """Big-endian load of ``size`` bytes at ``offset`` (a u32), or None when out of bounds."""
    if linux and offset >= NEGATIVE_OFF:
        return neg_load(p, offset, size, meta)
    if offset + size > len(p):
        return None
    if size == 1:
        return p[offset]
    if size == 2:
        return p[offset] << 8 | p[offset + 1]
    return p[offset] << 24 | p[offset + 1] << 16 | p[offset + 2] << 8 | p[offset + 3]


def ancillary(offset: int, a: int, x: int, p: Any, meta: dict[str, Any]) -> int | None:
    """Linux ``ld [SKF_AD_OFF + offset]``; None for an offset the kernel does not know."""
    name = ANCILLARY.get(offset)
    if name is None:
        return None
    if name == "alu_xor_x":
        return a ^ x
    if name in ("nlattr", "nlattr_nest"):
        return nlattr(p, a, x, name == "nlattr_nest", meta)
    return meta_value(offset, meta)


def alu(op: int, a: int, v: int, linux: bool) -> int | None:
    """``A op v`` on 32 bits; None for division by zero."""
    if op == _ADD:
        return (a + v) & M32
    if op == _SUB:
        return (a - v) & M32
    if op == _MUL:
        return (a * v) & M32
    if op == _DIV:
        return None if v == 0 else a // v
    if op == _MOD:
        return None if v == 0 else a % v
    if op == _OR:
        return a | v
    if op == _AND:
        return a & v
    if op == _XOR:
        return a ^ v
    if op == _LSH or op == _RSH:  # bpfc.isa.arith.shift: 32 or more gives 0
        return shift(op, a, v & 31 if linux else v)
    return (-a) & M32  # NEG


def interpret(
    insns: Sequence[Sequence[int]],
    p: Any,
    wirelen: int | None = None,
    linux: bool = False,
    meta: dict[str, Any] | None = None,
) -> int:
    """Run ``insns`` over packet ``p`` one instruction at a time; returns the ``ret`` value."""
    meta = meta or {}
    wl = len(p) if wirelen is None else wirelen
    a = x = 0
    mem = [0] * 16
    pc = 0
    n = len(insns)
    backward = 0
    backward_limit = MAX_BACKWARD_JUMPS + len(p)
    while 0 <= pc < n:
        code, jt, jf, k = insns[pc]
        pc += 1
        if code in _LOADS:  # ld [k], ld [x + k]
            if code in IND_LOADS:
                offset = (x + k) & M32 if linux else x + k
            elif linux and k >= SKF_AD_OFF:
                value = ancillary(k - SKF_AD_OFF, a, x, p, meta)
                if value is None:
                    return 0
                a = value
                continue
            else:
                offset = k
            value = load(p, offset, LOAD_WIDTH[code & SIZE_MASK], linux, meta)
            if value is None:
                return 0
            a = value
        elif code == LDX_MSH:  # ldxb 4*([k]&0xf)
            value = load(p, k, 1, linux, meta)
            if value is None:
                return 0
            x = (value & 0xF) << 2
        elif code in _IMM:
            a, x = (k, x) if code == LD_IMM else (a, k)
        elif code in _LEN:
            a, x = (wl, x) if code == LD_LEN else (a, wl)
        elif code in _SCRATCH:
            if k >= 16:
                return 0
            if code == LD_MEM:
                a = mem[k]
            elif code == LDX_MEM:
                x = mem[k]
            else:
                mem[k] = a if code == ST else x
        elif code in ALU_K or code in ALU_X:
            value = alu(code & OP_MASK, a, x if code & SRC_MASK else k, linux)
            if value is None:
                return 0
            a = value
        elif code == JA:  # ja: 32-bit offset, may be backward after wrapping
            delta = k - (1 << 32) if k >= 0x80000000 else k
            if delta < 0 and (delta == -1 or backward >= backward_limit):
                return 0
            backward += delta < 0
            pc += delta
            if not 0 <= pc < n:
                return 0
        elif code in COND_JUMPS:
            pc += jt if _test(code & OP_MASK, a, x if code & SRC_MASK else k) else jf
        elif code == RET_K:
            return k
        elif code == RET_A:
            return a
        elif code == TAX:
            x = a
        elif code == TXA:
            a = x
        else:
            return 0  # an opcode no interpreter implements
    return 0


def _test(op: int, a: int, v: int) -> bool:
    if op == _JEQ:
        return a == v
    if op == _JGT:
        return a > v
    if op == _JGE:
        return a >= v
    return bool(a & v)
