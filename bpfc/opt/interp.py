"""A small reference interpreter for the optimizer's own checks (``verify`` and tests).

Semantics are libpcap's ``bpf_filter``: A = X = M[] = 0 at start, a load past the end
of the packet or a division by zero returns 0, ``len`` is the wire length.  It is
deliberately plain and separate from the optimizer's value model, so the two do not
share a mistake; the project's full interpreter lives elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bpfc.insn import Class, Mode, bpf_class, bpf_mode, bpf_op, bpf_rval, bpf_size, bpf_src

MASK = 0xFFFFFFFF
_W = {0x00: 4, 0x08: 2, 0x10: 1}


def _alu(op: int, a: int, b: int) -> int | None:
    if op == 0x00:
        return (a + b) & MASK
    if op == 0x10:
        return (a - b) & MASK
    if op == 0x20:
        return (a * b) & MASK
    if op == 0x30:
        return None if b == 0 else a // b
    if op == 0x90:
        return None if b == 0 else a % b
    if op == 0x40:
        return a | b
    if op == 0x50:
        return a & b
    if op == 0xA0:
        return a ^ b
    if op == 0x60:
        return (a << (b & 31)) & MASK
    if op == 0x70:
        return a >> (b & 31)
    if op == 0x80:
        return (-a) & MASK
    raise ValueError(f"unknown ALU operation {op:#x}")


def run(insns: Sequence[Sequence[int]], pkt: bytes, wirelen: int | None = None) -> int:
    """The filter's return value for one packet."""
    n = len(pkt)
    wl = n if wirelen is None else wirelen
    a = x = 0
    mem = [0] * 16
    pc = 0
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        cls = bpf_class(code)
        if cls == Class.RET:
            rv = bpf_rval(code)
            return a if rv == 0x10 else (x if rv == 0x08 else k)
        if cls == Class.LD or cls == Class.LDX:
            mode = bpf_mode(code)
            if mode == Mode.IMM:
                v = k
            elif mode == Mode.LEN:
                v = wl
            elif mode == Mode.MEM:
                v = mem[k & 15]
            elif mode == Mode.MSH:
                if k >= n:
                    return 0
                v = (pkt[k] & 0xF) << 2
            else:
                off = k if mode == Mode.ABS else x + k
                w = _W[bpf_size(code)]
                if off + w > n:
                    return 0
                v = int.from_bytes(pkt[off : off + w], "big")
            if cls == Class.LD:
                a = v
            else:
                x = v
        elif cls == Class.ST:
            mem[k & 15] = a
        elif cls == Class.STX:
            mem[k & 15] = x
        elif cls == Class.ALU:
            v = _alu(bpf_op(code), a, x if bpf_src(code) else k)
            if v is None:
                return 0
            a = v
        elif cls == Class.JMP:
            op = bpf_op(code)
            if op == 0x00:
                pc = (pc + k) & MASK  # wraps like libpcap's pointer arithmetic (protochain loops)
                continue
            b = x if bpf_src(code) else k
            if op == 0x10:
                c = a == b
            elif op == 0x20:
                c = a > b
            elif op == 0x30:
                c = a >= b
            else:
                c = (a & b) != 0
            pc += jt if c else jf
        elif code & 0xF8 == 0x80:
            a = x
        else:
            x = a


def make_filter(insns: Sequence[Sequence[int]]) -> Callable[[bytes, int | None], int]:
    prog = [tuple(i) for i in insns]
    return lambda pkt, wirelen=None: run(prog, pkt, wirelen)
