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

from bpfc.isa.opcodes import ANCILLARY, SKF_AD_OFF
from bpfc.vm.ancillary import meta_value, neg_load, nlattr

__all__ = ["MAX_BACKWARD_JUMPS", "interpret"]

M32 = 0xFFFFFFFF
MAX_BACKWARD_JUMPS = 64
"""Backward jumps allowed beyond one per captured byte before a run is cut off."""
_SIZES = {0x00: 4, 0x08: 2, 0x10: 1}


def load(p: Any, offset: int, size: int, linux: bool, meta: dict[str, Any]) -> int | None:
    """Big-endian load of ``size`` bytes at ``offset`` (a u32), or None when out of bounds."""
    if linux and offset >= 0x80000000:
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
    if op == 0x00:
        return (a + v) & M32
    if op == 0x10:
        return (a - v) & M32
    if op == 0x20:
        return (a * v) & M32
    if op == 0x30:
        return None if v == 0 else a // v
    if op == 0x90:
        return None if v == 0 else a % v
    if op == 0x40:
        return a | v
    if op == 0x50:
        return a & v
    if op == 0xA0:
        return a ^ v
    if linux:
        v &= 31
    if op == 0x60:
        return (a << v) & M32 if v < 32 else 0
    if op == 0x70:
        return a >> v if v < 32 else 0
    return (-a) & M32  # 0x80 neg


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
        if code in (0x20, 0x28, 0x30, 0x40, 0x48, 0x50):  # ld [k], ld [x + k]
            if code & 0x40:
                offset = (x + k) & M32 if linux else x + k
            elif linux and k >= SKF_AD_OFF:
                value = ancillary(k - SKF_AD_OFF, a, x, p, meta)
                if value is None:
                    return 0
                a = value
                continue
            else:
                offset = k
            value = load(p, offset, _SIZES[code & 0x18], linux, meta)
            if value is None:
                return 0
            a = value
        elif code == 0xB1:  # ldxb 4*([k]&0xf)
            value = load(p, k, 1, linux, meta)
            if value is None:
                return 0
            x = (value & 0xF) << 2
        elif code in (0x00, 0x01):
            a, x = (k, x) if code == 0x00 else (a, k)
        elif code in (0x80, 0x81):
            a, x = (wl, x) if code == 0x80 else (a, wl)
        elif code in (0x60, 0x61, 0x02, 0x03):
            if k >= 16:
                return 0
            if code == 0x60:
                a = mem[k]
            elif code == 0x61:
                x = mem[k]
            else:
                mem[k] = a if code == 0x02 else x
        elif code in _ALU_K or code in _ALU_X:
            value = alu(code & 0xF0, a, x if code & 0x08 else k, linux)
            if value is None:
                return 0
            a = value
        elif code == 0x05:  # ja: 32-bit offset, may be backward after wrapping
            delta = k - (1 << 32) if k >= 0x80000000 else k
            if delta < 0 and (delta == -1 or backward >= backward_limit):
                return 0
            backward += delta < 0
            pc += delta
            if not 0 <= pc < n:
                return 0
        elif code in _COND:
            pc += jt if _test(code & 0xF0, a, x if code & 0x08 else k) else jf
        elif code == 0x06:
            return k
        elif code == 0x16:
            return a
        elif code == 0x07:
            x = a
        elif code == 0x87:
            a = x
        else:
            return 0  # an opcode no interpreter implements
    return 0


def _test(op: int, a: int, v: int) -> bool:
    if op == 0x10:
        return a == v
    if op == 0x20:
        return a > v
    if op == 0x30:
        return a >= v
    return bool(a & v)


_ALU_OPS = frozenset({0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0})
_ALU_K = frozenset(0x04 | op for op in _ALU_OPS)
_ALU_X = frozenset(0x0C | op for op in _ALU_OPS if op != 0x80)
_COND = frozenset(0x05 | op | s for op in (0x10, 0x20, 0x30, 0x40) for s in (0, 8))
