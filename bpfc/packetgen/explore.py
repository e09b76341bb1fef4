"""Program-guided packets: mutate seed packets toward the comparisons a program makes.

Constants in the expression text do not say *where* a filter looks (``tcp[13]``,
802.11 header fields, link types bpfc's framers know only roughly).  The compiled
reference program does.  :func:`explore` runs a small tracing interpreter over each
seed packet, notes every conditional jump whose accumulator came straight from a
packet load (optionally masked), and writes the compared constant, its neighbours
and the jset bits into copies of the packet at that offset; a few rounds of this
walk into branches no generic generator would reach.  The interpreter is only a
guide: verdicts are always decided by the real interpreters under test.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from bpfc.isa.opcodes import (
    CLASS_MASK,
    LOAD_WIDTH,
    MISCOP_MASK,
    MODE_MASK,
    OP_MASK,
    SIZE_MASK,
    SRC_MASK,
    AluOp,
    Class,
    JmpOp,
    MiscOp,
    Mode,
)
from bpfc.packetgen.packet import Packet

_SIZES = LOAD_WIDTH
_GROW = 0  # Compare.op for "a load ran past the end of the packet"
MAX_GROW = 4096


class Compare(NamedTuple):
    """A conditional jump on a packet field: bytes [offset, offset+size) & mask vs value."""

    offset: int
    size: int
    mask: int
    op: int  # BPF_OP: 0x10 jeq, 0x20 jgt, 0x30 jge, 0x40 jset; 0 a load past the end
    value: int


def trace(insns: Sequence[Sequence[int]], data: bytes, wirelen: int) -> list[Compare]:
    """The packet-field comparisons ``insns`` makes on ``data``, in execution order.

    Provenance ``(offset, size, mask, addend)`` follows the accumulator through ``and #k``,
    ``add``/``sub`` of constants, ``tax``/``txa`` and the scratch memory, so that the
    unoptimized ``ldh [x+14]; st M[1]; ...; ld M[1]; sub x; jgt #k`` shape is seen too.
    """
    a = x = 0
    mem = [0] * 16
    src: _Src | None = None  # where A came from
    xsrc: _Src | None = None  # where X came from (None: a constant or unknown)
    msrc: list[_Src | None] = [None] * 16
    xconst = True  # X holds a value not derived from the packet
    out: list[Compare] = []
    pc = 0
    for _ in range(4 * len(insns) + 8):
        if not 0 <= pc < len(insns):
            return out
        code, jt, jf, k = insns[pc]
        cls = code & CLASS_MASK
        pc += 1
        if cls == Class.LD:
            mode = code & MODE_MASK
            if mode in (Mode.ABS, Mode.IND):
                size = _SIZES.get(code & SIZE_MASK, 4)
                off = k + (x if mode == Mode.IND else 0)
                if off + size > len(data):
                    out.append(Compare(off, size, -1, _GROW, 0))  # the packet is too short
                    return out
                a, src = int.from_bytes(data[off : off + size], "big"), (off, size, -1, 0)
            else:
                a = {Mode.IMM: k, Mode.LEN: wirelen, Mode.MEM: mem[k & 15]}.get(mode, 0)
                src = msrc[k & 15] if mode == Mode.MEM else None
        elif cls == Class.LDX:
            mode = code & MODE_MASK
            if mode == Mode.MSH:
                if k >= len(data):
                    out.append(Compare(k, 1, -1, _GROW, 0))
                    return out
                x, xsrc, xconst = (data[k] & 0xF) << 2, None, False
            else:
                x = {Mode.IMM: k, Mode.LEN: wirelen, Mode.MEM: mem[k & 15]}.get(mode, 0)
                xsrc = msrc[k & 15] if mode == Mode.MEM else None
                xconst = mode == Mode.IMM or (mode == Mode.MEM and msrc[k & 15] is None)
        elif cls in (Class.ST, Class.STX):
            mem[k & 15], msrc[k & 15] = (a, src) if cls == Class.ST else (x, xsrc)
        elif cls == Class.ALU:
            op, operand = code & OP_MASK, (x if code & SRC_MASK else k)
            src = _alu_src(src, op, operand, const=not code & SRC_MASK or xconst)
            a = _alu(op, a, operand)
            if a is None:
                return out
        elif cls == Class.JMP:
            op, operand = code & OP_MASK, (x if code & SRC_MASK else k)
            if op == JmpOp.JA:
                pc += k - (1 << 32) if k >= 1 << 31 else k  # protochain loops jump back
                continue
            if src is not None and (not code & SRC_MASK or xconst):
                value = (operand - src[3]) & 0xFFFFFFFF if op != JmpOp.JSET else operand
                out.append(Compare(src[0], src[1], src[2], op, value))
            taken = {JmpOp.JEQ: a == operand, JmpOp.JGT: a > operand, JmpOp.JGE: a >= operand,
                     JmpOp.JSET: bool(a & operand)}.get(op, False)  # fmt: skip
            pc += jt if taken else jf
        elif cls == Class.RET:
            return out
        elif code & MISCOP_MASK == MiscOp.TAX:
            x, xsrc, xconst = a, src, src is None and xconst
        elif code & MISCOP_MASK == MiscOp.TXA:
            a, src = x, xsrc
    return out


_Src = tuple[int, int, int, int]


def _alu_src(src: _Src | None, op: int, v: int, const: bool) -> _Src | None:
    """Provenance after an ALU op: masks and constant addends are followed, others lost."""
    if src is None or not const:
        return None
    off, size, mask, add = src
    if op == AluOp.AND and add == 0:
        return (off, size, mask & v, 0)
    if op == AluOp.ADD:
        return (off, size, mask, add + v)
    if op == AluOp.SUB:
        return (off, size, mask, add - v)
    return None


def _alu(op: int, a: int, v: int) -> int | None:
    m = 0xFFFFFFFF
    if op in (AluOp.DIV, AluOp.MOD) and v == 0:
        return None
    table = {
        AluOp.ADD: lambda: a + v, AluOp.SUB: lambda: a - v, AluOp.MUL: lambda: a * v,
        AluOp.DIV: lambda: a // v, AluOp.OR: lambda: a | v, AluOp.AND: lambda: a & v,
        AluOp.LSH: lambda: a << (v & 31) if v < 32 else 0,
        AluOp.RSH: lambda: a >> v if v < 32 else 0, AluOp.NEG: lambda: -a,
        AluOp.MOD: lambda: a % v, AluOp.XOR: lambda: a ^ v,
    }  # fmt: skip
    fn = table.get(op)
    return None if fn is None else fn() & m


def _targets(c: Compare) -> list[int]:
    full = (1 << (8 * c.size)) - 1
    mask = c.mask & full
    if c.op == JmpOp.JSET:
        return [c.value & mask, 0, mask & ~c.value]
    return [v for v in (c.value, c.value + 1, c.value - 1) if 0 <= v <= full]


def mutate(pkt: Packet, c: Compare) -> list[Packet]:
    """Copies of ``pkt`` with the field of ``c`` set to its compared value and neighbours."""
    full = (1 << (8 * c.size)) - 1
    mask = c.mask & full
    data = bytearray(pkt.data)
    if c.offset + c.size > len(data):
        # Only complete packets grow (zero padding, wire length with them): a truncated
        # capture is meant to stay short.
        if pkt.wirelen != len(data) or c.offset + c.size > MAX_GROW:
            return []
        extra = c.offset + c.size - len(data)
        grown = Packet(bytes(data) + bytes(extra), pkt.wirelen + extra, f"{pkt.label} [+{extra}]")
        return [grown] if c.op == _GROW else [grown, *mutate(grown, c)]
    if c.op == _GROW:
        return []
    old = int.from_bytes(data[c.offset : c.offset + c.size], "big")
    out = []
    for target in _targets(c):
        new = (old & ~mask) | (target & mask)
        data[c.offset : c.offset + c.size] = (new & full).to_bytes(c.size, "big")
        out.append(Packet(bytes(data), pkt.wirelen, f"{pkt.label} [@{c.offset}={new:#x}]"))
    return out


def explore(
    programs: Iterable[Sequence[Sequence[int]]],
    seeds: Sequence[Packet],
    *,
    rounds: int = 3,
    limit: int = 300,
    seed: int = 0,
) -> list[Packet]:
    """New packets (not in ``seeds``) that steer ``programs`` into their comparisons.

    Deterministic for given inputs; at most ``limit`` packets.
    """
    progs = [list(p) for p in programs]
    rng = random.Random(seed)
    seen = {p.data for p in seeds}
    frontier = list(seeds)
    found: list[Packet] = []
    budget = max(20, limit // 4)
    per_round = max(1, limit // max(1, rounds))
    for _ in range(rounds):
        if len(frontier) > 3 * budget:  # tracing every seed costs more than it finds
            frontier = rng.sample(frontier, 3 * budget)
        traced = [(pkt, [trace(prog, pkt.data, pkt.wirelen) for prog in progs]) for pkt in frontier]
        rng.shuffle(traced)
        # Half the budget on the packets that got deepest into a program, half at random.
        deep = sorted(traced, key=lambda t: -max((len(c) for c in t[1]), default=0))
        chosen = {id(t[0]): t for t in deep[: budget // 2]}
        for t in traced:
            if len(chosen) >= budget:
                break
            chosen.setdefault(id(t[0]), t)
        fresh: list[tuple[int, int, Packet]] = []  # (depth, order, packet)
        for pkt, traces in chosen.values():
            for compares in traces:
                for depth, cmp in enumerate(compares):
                    for new in mutate(pkt, cmp):
                        if new.data not in seen:
                            seen.add(new.data)
                            fresh.append((depth, len(fresh), new))
        if not fresh:
            break
        # The deepest comparisons are the branches the seeds did not reach: keep those first.
        fresh.sort(key=lambda t: (-t[0], t[1]))
        kept = [p for _, _, p in fresh]
        found += kept[:per_round]
        frontier = kept[: 4 * budget]
    return found[:limit]
