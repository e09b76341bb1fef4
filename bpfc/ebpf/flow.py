"""Facts about a cBPF program that the eBPF translation needs: which instructions run, which
registers may be read before they are written, and where packet guards go.

A validated cBPF program's jumps go forward (a backward ``ja`` is refused before this
runs), so one pass in index order (or in reverse) computes every fact exactly.

**Guards.**  cBPF checks each packet load at run time; eBPF's verifier wants a proof
before the load that the bytes are there (``data + N <= data_end``), and a failed proof
must reject the packet as the cBPF load would.  One guard may cover several loads:
``need[i]`` is a length every path from instruction ``i`` checks by a load before it can
accept (a path ending in ``ret #0`` needs nothing: it rejects whatever the length, so it
counts as "any length").  A packet shorter than ``need[i]`` is rejected by every path
from ``i``, so rejecting it at ``i`` is exact.  The translator emits a guard at a load
only where ``need`` exceeds what every path to it has already checked
(:func:`plan_guards`); ``mode="per-load"`` guards each load with its own end (cbpfc's
way), for comparison.  Indirect loads ``[x + k]`` get the same treatment with lengths
counted from X, starting over wherever X is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

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
)

__all__ = ["A", "MAX_PACKET_OFF", "X", "Facts", "analyse", "plan_guards"]

MAX_PACKET_OFF = 0xFFFF
"""The verifier's bound on a packet offset it can prove (``MAX_PACKET_OFF``): a load
ending past it cannot be guarded, and no XDP frame or skb head is that long."""

A, X = 16, 17
"""Register numbers beside the scratch slots 0..15 in the read-before-write analysis."""

_INF = 1 << 40
_LOADS = frozenset(int(c) for c in ABS_LOADS | IND_LOADS)


Insn4 = tuple[int, int, int, int]


class Facts(NamedTuple):
    """What :func:`analyse` found."""

    reachable: list[bool]
    uninit: frozenset[int]
    """Scratch slots (0..15), :data:`A` and :data:`X` some path reads before writing."""
    backward: int | None
    """The index of the first backward ``ja``, or None."""


def successors(index: int, insn: Insn4, n: int) -> list[int]:
    """Where control goes after ``insn`` (none for ``ret`` or an opcode that rejects)."""
    code, jt, jf, k = insn
    if code == JA:
        return [(index + 1 + k) & 0xFFFFFFFF]
    if code in COND_JUMPS:
        return [index + 1 + jt, index + 1 + jf]
    if not implemented(code) or code in (RET_K, RET_A):
        return []
    return [index + 1] if index + 1 < n else []


_IMPLEMENTED = (
    _LOADS
    | ALU_K
    | ALU_X
    | COND_JUMPS
    | {LDX_MSH, LD_IMM, LDX_IMM, LD_LEN, LDX_LEN, LD_MEM, LDX_MEM, ST, STX, JA, RET_K, RET_A}
    | {TAX, TXA}
)


def implemented(code: int) -> bool:
    """Whether the interpreter implements ``code`` (any other opcode returns 0 there)."""
    return code in _IMPLEMENTED


def reads_writes(insn: Insn4) -> tuple[set[int], set[int]]:
    """The registers (:data:`A`, :data:`X`) and scratch slots ``insn`` reads and writes."""
    code, _, _, k = insn
    if code in _LOADS:
        if (
            code in ABS_LOADS
            and k >= SKF_AD_OFF
            and ANCILLARY.get(k - SKF_AD_OFF)
            in (
                "alu_xor_x",
                "nlattr",
                "nlattr_nest",
            )
        ):
            return {A, X}, {A}
        return ({X} if code in IND_LOADS else set()), {A}
    if code in (LD_IMM, LD_LEN):
        return set(), {A}
    if code in (LDX_IMM, LDX_LEN, LDX_MSH):
        return set(), {X}
    if code == LD_MEM:
        return {k}, {A}
    if code == LDX_MEM:
        return {k}, {X}
    if code == ST:
        return {A}, {k}
    if code == STX:
        return {X}, {k}
    if code in ALU_K:
        return {A}, {A}
    if code in ALU_X:
        return {A, X}, {A}
    if code in COND_JUMPS:
        return ({A, X} if code & SRC_MASK else {A}), set()
    if code == RET_A:
        return {A}, set()
    if code == TAX:
        return {A}, {X}
    if code == TXA:
        return {X}, {A}
    return set(), set()


def analyse(insns: Sequence[Insn4]) -> Facts:
    """Reachability, the first backward jump, and the registers read before written.

    A worklist fixpoint, so loops (backward ``ja``) are handled: a register counts as
    written on entry to an instruction only when every path to it, around loops too,
    has written it.
    """
    n = len(insns)
    reachable = [False] * n
    written: list[frozenset[int] | None] = [None] * n  # definitely written on entry
    backward = None
    for i, insn in enumerate(insns):
        if any(t <= i for t in successors(i, insn, n)) and backward is None:
            backward = i
    todo = [0] if n else []
    if n:
        written[0] = frozenset()
    while todo:
        i = todo.pop()
        reachable[i] = True
        have = written[i]
        assert have is not None
        after = have | reads_writes(insns[i])[1]
        for t in successors(i, insns[i], n):
            if not 0 <= t < n:
                continue
            prev = written[t]
            new = after if prev is None else prev & after
            if new != prev or not reachable[t]:
                written[t] = new
                todo.append(t)
    uninit: set[int] = set()
    for i, insn in enumerate(insns):
        if reachable[i]:
            have = written[i]
            assert have is not None
            uninit |= reads_writes(insn)[0] - have
    return Facts(reachable, frozenset(uninit), backward)


def load_end(insn: Insn4) -> int | None:
    """Bytes a direct packet load needs (offset + width), ``_INF`` when it can never
    succeed on a packet the verifier can bound; None for an instruction that is not one."""
    code, _, _, k = insn
    if code in ABS_LOADS:
        if k >= SKF_AD_OFF:
            return None  # ancillary: not a packet load
        end = k + LOAD_WIDTH[code & SIZE_MASK]
    elif code == LDX_MSH:
        end = k + 1
    else:
        return None
    return end if end <= MAX_PACKET_OFF else _INF


def ind_end(insn: Insn4) -> int | None:
    """``k + width`` of an indirect load ``[x + k]`` (``_INF`` past what the verifier can
    bound), or None for an instruction that is not one."""
    code, _, _, k = insn
    if code not in IND_LOADS:
        return None
    end = k + LOAD_WIDTH[code & SIZE_MASK]
    return end if end <= MAX_PACKET_OFF else _INF


def plan_guards(
    insns: Sequence[Insn4], reachable: Sequence[bool], mode: str, *, indirect: bool = False
) -> dict[int, int]:
    """``{index: length}``: the guard to check before the load at ``index``; a length past
    :data:`MAX_PACKET_OFF` means "always rejects".  A load not in the result is covered
    by a guard every path to it has checked.

    Direct loads (``indirect=False``): ``data + length <= data_end``.  Indirect loads
    (``indirect=True``): ``data + X + length <= data_end``, the same reasoning with the
    lengths counted from X, where an instruction that writes X starts over (a guard for
    one value of X says nothing about the next).
    ``mode`` is ``"merged"`` (see the module docstring) or ``"per-load"``.
    """
    n = len(insns)
    measure = ind_end if indirect else load_end
    ends = {i: e for i, insn in enumerate(insns) if reachable[i] and (e := measure(insn))}
    if mode not in ("merged", "per-load"):
        raise ValueError(f"guard mode must be 'merged' or 'per-load', not {mode!r}")
    if mode == "per-load" or any(
        t <= i for i, insn in enumerate(insns) if reachable[i] for t in successors(i, insn, n)
    ):
        return dict(ends)  # with a loop, each load is guarded where it stands
    resets = (
        {i for i, insn in enumerate(insns) if X in reads_writes(insn)[1]} if indirect else set()
    )
    finite = [e for e in ends.values() if e <= MAX_PACKET_OFF]
    cap = max(finite, default=0)
    need = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        code, _, _, k = insn = insns[i]
        if not reachable[i]:
            continue
        nexts = successors(i, insn, n)
        if code == RET_K:
            value = _INF if k == 0 else 0
        elif not nexts:
            value = 0 if code == RET_A else _INF
        else:
            value = min(need[t] if t < n else _INF for t in nexts)
            if i in resets and value < _INF:
                value = 0  # the loads after this one use another X
        if i in ends:
            value = max(value, ends[i])
        need[i] = value
    # what every path into an instruction has checked, and where to check more
    checked: list[int | None] = [None] * n
    checked[0] = 0
    guards: dict[int, int] = {}
    for i in range(n):
        have = checked[i]
        if have is None or not reachable[i]:
            continue
        if i in ends and ends[i] > have:
            want = ends[i] if ends[i] > MAX_PACKET_OFF else max(min(need[i], cap), ends[i])
            guards[i] = want
            have = want
        if i in resets:
            have = 0
        for t in successors(i, insns[i], n):
            if i < t < n:
                prev = checked[t]
                checked[t] = have if prev is None else min(prev, have)
    return guards


def is_div_x(code: int) -> bool:
    return code in ALU_X and code & OP_MASK in (AluOp.DIV, AluOp.MOD)
