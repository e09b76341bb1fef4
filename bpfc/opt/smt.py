"""Symbolic equivalence of two cBPF programs with an SMT solver (optional: needs ``z3-solver``).

The strongest check the optimizer has: instead of a packet sample, both programs are
run on one *symbolic* packet (an array of bytes, a captured length ``L`` and a wire
length) with the same unknown initial scratch memory, and the solver is asked for a
packet on which their return values differ.  Semantics are libpcap's ``bpf_filter``
(and ``interp.py``): a load needing more than ``L`` bytes, or a division by zero,
returns 0; a shift by 32 or more gives 0 (``bpfc.isa.arith.shift``).  The encoding is
linear in the program: instructions are visited in order (jumps only go forward) and the
states of joining edges are merged with ``If`` on their reach conditions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bpfc.isa.insn import Class, Mode, bpf_class, bpf_mode, bpf_op, bpf_rval, bpf_size, bpf_src
from bpfc.isa.opcodes import LOAD_WIDTH, MISCOP_MASK, AluOp, JmpOp, MiscOp

_W = LOAD_WIDTH


def _alu(z3: Any, op: int, a: Any, b: Any) -> Any:
    if op == AluOp.ADD:
        return a + b
    if op == AluOp.SUB:
        return a - b
    if op == AluOp.MUL:
        return a * b
    if op == AluOp.OR:
        return a | b
    if op == AluOp.AND:
        return a & b
    if op == AluOp.XOR:
        return a ^ b
    if op == AluOp.LSH:  # SMT-LIB: a count of 32 or more gives 0, as bpfc.isa.arith.shift
        return a << b
    return z3.LShR(a, b)


def _test(z3: Any, op: int, a: Any, b: Any) -> Any:
    if op == JmpOp.JEQ:
        return a == b
    if op == JmpOp.JGT:
        return z3.UGT(a, b)
    if op == JmpOp.JGE:
        return z3.UGE(a, b)
    return (a & b) != 0


def _encode(z3: Any, insns: Sequence[Sequence[int]], pkt, caplen, wirelen, mem0) -> Any:
    bv = z3.BitVecVal
    n = len(insns)
    incoming: list[list[tuple[Any, tuple]]] = [[] for _ in range(n + 1)]
    incoming[0].append((z3.BoolVal(True), (bv(0, 32), bv(0, 32), tuple(mem0))))
    results: list[tuple[Any, Any]] = []
    cap64 = z3.ZeroExt(32, caplen)

    def load(off32, width):
        data = [z3.Select(pkt, off32 + i) for i in range(width)]
        return (
            z3.ZeroExt(32 - 8 * width, z3.Concat(*data)) if width > 1 else z3.ZeroExt(24, data[0])
        )

    for i in range(n):
        edges = incoming[i]
        if not edges:
            continue
        reach = z3.Or(*[c for c, _ in edges]) if len(edges) > 1 else edges[0][0]
        cond0, (a, x, mem) = edges[-1]
        for c, (ea, ex, emem) in edges[:-1]:
            a = a if z3.eq(a, ea) else z3.If(c, ea, a)
            x = x if z3.eq(x, ex) else z3.If(c, ex, x)
            mem = tuple(
                m if z3.eq(m, e) else z3.If(c, e, m) for m, e in zip(mem, emem, strict=True)
            )
        code, jt, jf, k = insns[i]
        cls = bpf_class(code)
        ok = None
        if cls == Class.RET:
            rv = bpf_rval(code)
            results.append((reach, a if rv == 0x10 else (x if rv == 0x08 else bv(k, 32))))
            continue
        if cls in (Class.LD, Class.LDX):
            mode = bpf_mode(code)
            if mode == Mode.IMM:
                v = bv(k, 32)
            elif mode == Mode.LEN:
                v = wirelen
            elif mode == Mode.MEM:
                v = mem[k & 15]
            elif mode == Mode.MSH:
                ok = z3.ULT(bv(k, 64), cap64)
                v = (load(bv(k, 32), 1) & 0xF) << 2
            else:
                w = _W[bpf_size(code)]
                if mode == Mode.ABS:
                    ok = z3.ULE(bv(k + w, 64), cap64)
                    v = load(bv(k, 32), w)
                else:
                    ok = z3.ULE(z3.ZeroExt(32, x) + bv(k + w, 64), cap64)
                    v = load(x + bv(k, 32), w)
            if cls == Class.LD:
                a = v
            else:
                x = v
        elif cls == Class.ST:
            mem = mem[: k & 15] + (a,) + mem[(k & 15) + 1 :]
        elif cls == Class.STX:
            mem = mem[: k & 15] + (x,) + mem[(k & 15) + 1 :]
        elif cls == Class.ALU:
            op = bpf_op(code)
            b = x if bpf_src(code) else bv(k, 32)
            if op in (AluOp.DIV, AluOp.MOD):
                ok = b != 0
                a = z3.UDiv(a, b) if op == AluOp.DIV else z3.URem(a, b)
            elif op == AluOp.NEG:
                a = -a
            else:
                a = _alu(z3, op, a, b)
        elif cls == Class.JMP:
            op = bpf_op(code)
            if op == JmpOp.JA:
                incoming[i + 1 + k].append((reach, (a, x, mem)))
                continue
            b = x if bpf_src(code) else bv(k, 32)
            test = _test(z3, op, a, b)
            incoming[i + 1 + jt].append((z3.And(reach, test), (a, x, mem)))
            incoming[i + 1 + jf].append((z3.And(reach, z3.Not(test)), (a, x, mem)))
            continue
        elif code & MISCOP_MASK == MiscOp.TXA:
            a = x
        else:
            x = a
        if ok is not None:
            results.append((z3.And(reach, z3.Not(ok)), bv(0, 32)))
            reach = z3.And(reach, ok)
        incoming[i + 1].append((reach, (a, x, mem)))
    out = bv(0, 32)
    for cond, value in results:
        out = z3.If(cond, value, out)
    return out


def counterexample(
    a: Sequence[Sequence[int]], b: Sequence[Sequence[int]], *, timeout_ms: int = 20000
) -> tuple[str, bytes | None]:
    """``("equal", None)``, ``("differ", packet)`` or ``("unknown", None)`` (solver gave up).

    The packet is captured length bytes from the model (wire length = captured length
    is not assumed; the returned bytes are what a capture of that length holds).
    """
    import z3

    pkt = z3.Array("pkt", z3.BitVecSort(32), z3.BitVecSort(8))
    caplen, wirelen = z3.BitVec("caplen", 32), z3.BitVec("wirelen", 32)
    mem0 = [z3.BitVec(f"m{i}", 32) for i in range(16)]
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(z3.ULE(caplen, 4096))
    solver.add(
        _encode(z3, a, pkt, caplen, wirelen, mem0) != _encode(z3, b, pkt, caplen, wirelen, mem0)
    )
    verdict = solver.check()
    if verdict == z3.unsat:
        return "equal", None
    if verdict == z3.unknown:
        return "unknown", None
    model = solver.model()
    size = model.eval(caplen, model_completion=True).as_long()
    data = bytes(
        model.eval(z3.Select(pkt, i), model_completion=True).as_long() for i in range(size)
    )
    return "differ", data
