"""Targeted packets for a program: a small packet set that takes every branch it can reach.

A golden file is only as good as its packets: a verdict that never changes on the recorded
packets cannot catch a change.  :func:`targeted_packets_for` builds candidates with
:mod:`bpfc.packetgen` (the expression's constants, then mutations steered by the programs'
comparisons) and keeps, in generation order, each packet that takes an edge of one of the
programs that no packet kept before took: a conditional jump's true or false branch, a
``ret``, or a load past the end of the packet.  :func:`edges_of` counts the edges a program
has, so coverage can be reported as "18 of 20 edges".

The tracer runs the interpreter's own load and ALU helpers (:mod:`bpfc.vm.interp`), so a
path is the one the interpreter takes; it only adds the record of which edge each step took
(the property tests check it ends where the interpreter returns).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bpfc.isa.opcodes import (
    ABS_LOADS,
    ALU_K,
    ALU_X,
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
    JmpOp,
)
from bpfc.vm.interp import alu, ancillary, load

M32 = 0xFFFFFFFF
_LOADS = frozenset(int(c) for c in ABS_LOADS | IND_LOADS)
_JEQ, _JGT, _JGE = int(JmpOp.JEQ), int(JmpOp.JGT), int(JmpOp.JGE)

#: packets steered toward the programs' comparisons, on top of the expression's own
STEERED = 120

Edge = tuple[int, int]
"""``(pc, kind)``: kind 1/0 a conditional jump taken/not taken, 2 a ``ret``, 3 a failed load."""


def edges_of(insns: Sequence[Sequence[int]]) -> set[Edge]:
    """Every edge ``insns`` has (whether or not some packet can take it)."""
    out: set[Edge] = set()
    for pc, (code, jt, jf, _k) in enumerate(insns):
        if code in COND_JUMPS:
            out.add((pc, 1))
            if jt != jf:
                out.add((pc, 0))
        elif code in (RET_K, RET_A):
            out.add((pc, 2))
    return out


def path(
    insns: Sequence[Sequence[int]], data: bytes, wirelen: int, linux: bool = False
) -> frozenset[Edge]:
    """The edges ``insns`` takes on one packet (see :data:`Edge`)."""
    meta: dict[str, Any] = {}
    a = x = 0
    mem = [0] * 16
    pc, n, steps = 0, len(insns), 0
    taken: set[Edge] = set()
    while 0 <= pc < n and steps <= 4 * n + 64:
        here = pc
        code, jt, jf, k = insns[pc]
        pc += 1
        steps += 1
        if code in _LOADS:
            if code in IND_LOADS:
                offset = (x + k) & M32 if linux else x + k
            elif linux and k >= SKF_AD_OFF:
                value = ancillary(k - SKF_AD_OFF, a, x, data, meta)
                if value is None:
                    taken.add((here, 3))
                    break
                a = value
                continue
            else:
                offset = k
            value = load(data, offset, LOAD_WIDTH[code & SIZE_MASK], linux, meta)
            if value is None:
                taken.add((here, 3))
                break
            a = value
        elif code == LDX_MSH:
            value = load(data, k, 1, linux, meta)
            if value is None:
                taken.add((here, 3))
                break
            x = (value & 0xF) << 2
        elif code in (LD_IMM, LDX_IMM):
            a, x = (k, x) if code == LD_IMM else (a, k)
        elif code in (LD_LEN, LDX_LEN):
            a, x = (wirelen, x) if code == LD_LEN else (a, wirelen)
        elif code in (LD_MEM, LDX_MEM, ST, STX):
            if k >= 16:
                break
            if code == LD_MEM:
                a = mem[k]
            elif code == LDX_MEM:
                x = mem[k]
            else:
                mem[k] = a if code == ST else x
        elif code in ALU_K or code in ALU_X:
            value = alu(code & OP_MASK, a, x if code & SRC_MASK else k, linux)
            if value is None:
                taken.add((here, 3))
                break
            a = value
        elif code == JA:
            pc += k - (1 << 32) if k >= 0x80000000 else k
        elif code in COND_JUMPS:
            hit = _test(code & OP_MASK, a, x if code & SRC_MASK else k)
            taken.add((here, 1 if hit or jt == jf else 0))
            pc += jt if hit else jf
        elif code in (RET_K, RET_A):
            taken.add((here, 2))
            break
        elif code == TAX:
            x = a
        elif code == TXA:
            a = x
        else:
            break
    return frozenset(taken)


def _test(op: int, a: int, v: int) -> bool:
    """A conditional jump's test, as the interpreter makes it."""
    if op == _JEQ:
        return a == v
    if op == _JGT:
        return a > v
    if op == _JGE:
        return a >= v
    return bool(a & v)


@dataclass(frozen=True)
class Coverage:
    """Edges of one program taken by a packet set, of those it has."""

    taken: int
    total: int

    def __str__(self) -> str:
        return f"{self.taken}/{self.total}"


def select(
    programs: Sequence[Sequence[Sequence[int]]],
    candidates: Sequence[Any],
    linux: bool = False,
) -> tuple[list[Any], list[Coverage]]:
    """The candidates (``.data``, ``.wirelen``) that each take a new edge of some program,
    in order, and the coverage of each program by them."""
    seen: list[set[Edge]] = [set() for _ in programs]
    kept: list[Any] = []
    for pkt in candidates:
        new = False
        for prog, have in zip(programs, seen, strict=True):
            edges = path(prog, pkt.data, pkt.wirelen, linux)
            if not edges <= have:
                have |= edges
                new = True
        if new:
            kept.append(pkt)
    coverage = [
        Coverage(len(have & edges_of(prog)), len(edges_of(prog)))
        for prog, have in zip(programs, seen, strict=True)
    ]
    return kept, coverage


def seed_for(key: str) -> int:
    """A stable seed from a filter's id and expression (same filter, same packets)."""
    return zlib.crc32(key.encode())


def targeted_packets_for(
    expr: str,
    linktype: str,
    programs: Sequence[Sequence[Sequence[int]]],
    *,
    seed: int = 0,
    linux: bool = False,
    steered: int = STEERED,
) -> tuple[list[Any], list[Coverage]]:
    """A packet set for ``programs`` (compiled from ``expr`` on ``linktype``) reaching every
    edge the generated candidates reach, and each program's edge coverage.

    Deterministic for given arguments.  A link type :mod:`bpfc.packetgen` cannot frame gives
    no packets (the coverage then says 0 of N)."""
    from bpfc.packetgen import packet_set

    progs = [[tuple(i) for i in p] for p in programs]
    try:
        candidates = packet_set(expr, linktype, progs, seed=seed, steered=steered)
    except ValueError:  # packetgen has no framing for this link type
        candidates = []
    return select(progs, candidates, linux)
