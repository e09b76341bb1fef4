"""Translate a validated cBPF program into the source of one Python function.

cBPF jumps only forward, so the program is a DAG and can be written as nested
``if`` statements with no loop and no program counter.  Each *run* (straight-line
instructions up to a jump or ``ret``) becomes plain assignments; its constant
packet loads share one hoisted bounds check (any failing load ends the program
with 0, so checking the largest offset first gives the same answer).  At a
conditional jump the smaller of the two subtrees is nested under ``if`` and the
other continues at the same indentation: every subtree ends in a return, so no
``else`` is needed and nesting stays logarithmic.  Targets reached from several
places are written out once per path; when that expansion would exceed
:data:`LINE_BUDGET` lines the caller falls back to the reference interpreter.

Four shapes share the body: ``single`` (``return v``), ``batch`` (a ``for`` loop
appending each verdict), ``count`` (a loop counting accepted packets) and ``offset``
(like ``batch``, but the packets lie in one buffer ``p`` at offsets ``o`` with captured
lengths ``n``: loads read ``p[o + k]`` and bounds are checked against ``n``, the packet's
own length, never the buffer's end; no per-packet view is made).  The
generated code refers to helpers through the namespace :func:`namespace` builds.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from bpfc.isa.opcodes import (
    CLASS_MASK,
    COND_JUMPS,
    JA,
    LD_ABS,
    LD_IMM,
    LD_IND,
    LD_LEN,
    LD_MEM,
    LDB_ABS,
    LDB_IND,
    LDH_ABS,
    LDH_IND,
    LDX_IMM,
    LDX_LEN,
    LDX_MEM,
    LDX_MSH,
    OP_MASK,
    RET_A,
    RET_K,
    SKF_AD_OFF,
    SRC_MASK,
    ST,
    STX,
    TAX,
    TXA,
    AluOp,
    Class,
    JmpOp,
    Src,
)
from bpfc.vm import ancillary, interp

__all__ = ["LINE_BUDGET", "expansion_size", "namespace", "registers_read_first", "source"]

LINE_BUDGET = 20000
"""Largest translated body (in lines) before we prefer the interpreter."""

M32 = "0xFFFFFFFF"
_ABS = {LD_ABS: 4, LDH_ABS: 2, LDB_ABS: 1}
_IND = {LD_IND: 4, LDH_IND: 2, LDB_IND: 1}
_JUMP_TESTS = {JmpOp.JEQ: ("==", "!="), JmpOp.JGT: (">", "<="), JmpOp.JGE: (">=", "<")}
_COND = COND_JUMPS
_ALU_LAST = int(Class.ALU | AluOp.XOR | Src.X)
"""The highest ALU opcode (``xor x``); larger ALU-class codes are not instructions."""


def namespace() -> dict[str, object]:
    """Globals for the generated code."""
    return {
        "_W": struct.Struct(">I").unpack_from,  # twice as fast as four indexes and shifts
        "_load": interp.load,
        "_anc": interp.ancillary,
        "_check_meta": ancillary.check_meta,
        "_reject_meta": ancillary.reject_meta,
        "__builtins__": {"len": len, "zip": zip},
    }


def _is_terminator(code: int) -> bool:
    return code in (RET_K, RET_A, JA) or code in _COND


def expansion_size(insns: Sequence[Sequence[int]]) -> int | None:
    """Lines the tree expansion would take, or None when a ``ja`` goes backward."""
    n = len(insns)
    size = [0] * (n + 1)
    size[n] = 1
    for pc in range(n - 1, -1, -1):
        code, jt, jf, k = insns[pc]
        if code == JA:
            if pc + 1 + k >= n:
                return None
            size[pc] = size[pc + 1 + k]
        elif code in _COND:
            t, f = pc + 1 + jt, pc + 1 + jf
            size[pc] = 1 + (size[t] if t == f else size[t] + size[f])
        elif code in (RET_K, RET_A):
            size[pc] = 1
        else:
            size[pc] = 1 + size[pc + 1]
    return size[0]


_READ_A, _READ_X = 1, 2
_LOADS = {LD_ABS: 0, LDH_ABS: 0, LDB_ABS: 0, LD_IND: _READ_X, LDH_IND: _READ_X, LDB_IND: _READ_X}


def registers_read_first(insns: Sequence[Sequence[int]], linux: bool = False) -> int:
    """Which of A (bit 1) and X (bit 2) some path may read before writing it.

    Only those need setting to 0 per packet.  Anything this does not recognise counts as
    reading both and writing neither, which is always safe.
    """
    n = len(insns)
    both = _READ_A | _READ_X
    need = [0] * (n + 1)  # falling off the end returns 0 and reads nothing
    for pc in range(n - 1, -1, -1):
        code, jt, jf, k = (int(f) for f in insns[pc])
        after = need[pc + 1]
        if code == JA:
            target = pc + 1 + k
            need[pc] = need[target] if pc < target <= n else both
        elif code in _COND:
            t, f = pc + 1 + jt, pc + 1 + jf
            need[pc] = _READ_A | (code & SRC_MASK and _READ_X) | need[t] | need[f]
        elif code == RET_K:
            need[pc] = 0
        elif code == RET_A:
            need[pc] = _READ_A
        elif code in _LOADS:
            need[pc] = both if linux else _LOADS[code] | (after & ~_READ_A)
        elif code == LDX_MSH:
            need[pc] = both if linux else after & ~_READ_X
        elif code in (LD_IMM, LD_LEN) or (code == LD_MEM and k < 16):
            need[pc] = after & ~_READ_A
        elif code in (LDX_IMM, LDX_LEN) or (code == LDX_MEM and k < 16):
            need[pc] = after & ~_READ_X
        elif code == TAX:
            need[pc] = _READ_A | (after & ~_READ_X)
        elif code == TXA:
            need[pc] = _READ_X | (after & ~_READ_A)
        elif code == ST and k < 16:
            need[pc] = _READ_A | after
        elif code == STX and k < 16:
            need[pc] = _READ_X | after
        elif code & CLASS_MASK == Class.ALU and code <= _ALU_LAST:
            need[pc] = _READ_A | (code & SRC_MASK and _READ_X) | after
        else:
            need[pc] = both
    return need[0]


class _Writer:
    """Emits the body; ``mode`` decides how a verdict leaves the function."""

    def __init__(
        self, insns: Sequence[Sequence[int]], linux: bool, mode: str, header: int = 0
    ) -> None:
        self.insns = [tuple(int(f) for f in insn) for insn in insns]
        self.linux = linux
        self.mode = mode
        self.at = "o + " if mode == "offset" else ""  # packets lie at offset o of buffer p
        self.skip = header  # offset shape: o and n count this many bytes before the packet
        self.lines: list[str] = []
        n = len(self.insns)
        self.size = [0] * (n + 1)
        self.size[n] = 1
        for pc in range(n - 1, -1, -1):  # same recurrence as expansion_size
            code, jt, jf, k = self.insns[pc]
            if code == JA:
                self.size[pc] = self.size[pc + 1 + k]
            elif code in _COND:
                t, f = pc + 1 + jt, pc + 1 + jf
                self.size[pc] = 1 + (self.size[t] if t == f else self.size[t] + self.size[f])
            elif code in (RET_K, RET_A):
                self.size[pc] = 1
            else:
                self.size[pc] = 1 + self.size[pc + 1]

    def put(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def ret(self, depth: int, value: str) -> None:
        if self.mode == "single":
            self.put(depth, f"return {value}")
            return
        if self.mode in ("batch", "offset"):
            self.put(depth, f"_append({value})")
        elif value == "A":
            self.put(depth, "if A:")
            self.put(depth + 1, "c += 1")
        elif value != "0":
            self.put(depth, "c += 1")
        self.put(depth, "continue")

    def fail_if(self, depth: int, cond: str) -> None:
        self.put(depth, f"if {cond}:")
        self.ret(depth + 1, "0")

    def emit(self, pc: int, depth: int, known: int = 0) -> None:
        """Write the code reached at ``pc``; nested branches recurse, the rest loops.

        ``known`` is a length the packet is already known to have on this path,
        so a bounds check it implies is not written again.
        """
        n = len(self.insns)
        while True:
            if pc >= n:
                self.ret(depth, "0")
                return
            end = pc
            while end < n and not _is_terminator(self.insns[end][0]):
                end += 1
            need = 0
            for code, _jt, _jf, k in self.insns[pc : end + 1]:
                if code in _ABS and not (self.linux and k >= 0x80000000):
                    need = max(need, k + _ABS[code])
                elif code == LDX_MSH and not (self.linux and k >= 0x80000000):
                    need = max(need, k + 1)
            if need > known:
                self.fail_if(depth, f"n < {need + self.skip}")
                known = need
            for index in range(pc, min(end, n)):
                if self.straight(index, depth):
                    return
            if end >= n:
                self.ret(depth, "0")
                return
            code, jt, jf, k = self.insns[end]
            if code == RET_K:
                self.ret(depth, str(k))
                return
            if code == RET_A:
                self.ret(depth, "A")
                return
            if code == JA:
                pc = end + 1 + k
                continue
            t, f = end + 1 + jt, end + 1 + jf
            if t == f:
                pc = t
                continue
            operand = "X" if code & SRC_MASK else hex(k)
            op = code & OP_MASK
            if op == JmpOp.JSET:
                yes, no = f"A & {operand}", f"not A & {operand}"
            else:
                sym_yes, sym_no = _JUMP_TESTS[op]
                yes, no = f"A {sym_yes} {operand}", f"A {sym_no} {operand}"
            if self.size[t] <= self.size[f]:
                self.put(depth, f"if {yes}:")
                self.emit(t, depth + 1, known)
                pc = f
            else:
                self.put(depth, f"if {no}:")
                self.emit(f, depth + 1, known)
                pc = t

    def straight(self, index: int, depth: int) -> bool:
        """Write one non-jump instruction; True when it ends the program (unknown code)."""
        code, _jt, _jf, k = self.insns[index]
        put = self.put
        if code in _ABS:
            size = _ABS[code]
            if self.linux and k >= SKF_AD_OFF:
                put(depth, f"v = _anc({k - SKF_AD_OFF}, A, X, p, meta)")
                self.fail_if(depth, "v is None")
                put(depth, "A = v")
            elif self.linux and k >= 0x80000000:
                put(depth, f"v = _load(p, {k}, {size}, True, meta)")
                self.fail_if(depth, "v is None")
                put(depth, "A = v")
            else:
                put(depth, f"A = {_const_load(k + self.skip, size, self.at)}")
        elif code in _IND:
            size = _IND[code]
            if self.linux:
                put(depth, f"v = _load(p, (X + {k}) & {M32}, {size}, True, meta)")
                self.fail_if(depth, "v is None")
                put(depth, "A = v")
            else:
                put(depth, f"i = X + {k + self.skip}")
                self.fail_if(depth, f"i > n - {size}")
                put(depth, f"A = {_var_load(size, self.at)}")
        elif code == LDX_MSH:
            if self.linux and k >= 0x80000000:
                put(depth, f"v = _load(p, {k}, 1, True, meta)")
                self.fail_if(depth, "v is None")
                put(depth, "X = (v & 15) << 2")
            else:
                put(depth, f"X = (p[{self.at}{k + self.skip}] & 15) << 2")
        elif code in (LD_IMM, LDX_IMM):
            put(depth, f"{'A' if code == LD_IMM else 'X'} = {hex(k)}")
        elif code in (LD_LEN, LDX_LEN):
            put(depth, f"{'A' if code == LD_LEN else 'X'} = wl")
        elif code in (LD_MEM, LDX_MEM, ST, STX):
            if k >= 16:
                self.ret(depth, "0")
                return True
            dst, src = {LD_MEM: ("A", f"m{k}"), LDX_MEM: ("X", f"m{k}")}.get(
                code, (f"m{k}", "A" if code == ST else "X")
            )
            put(depth, f"{dst} = {src}")
        elif code == TAX:
            put(depth, "X = A")
        elif code == TXA:
            put(depth, "A = X")
        elif code & CLASS_MASK == Class.ALU and code <= _ALU_LAST:
            return self.alu(code, k, depth)
        else:
            self.ret(depth, "0")
            return True
        return False

    def alu(self, code: int, k: int, depth: int) -> bool:
        op, use_x = code & OP_MASK, bool(code & SRC_MASK)
        v = "X" if use_x else hex(k)
        put = self.put
        if op == AluOp.NEG and not use_x:
            put(depth, f"A = -A & {M32}")
        elif op in (AluOp.ADD, AluOp.SUB, AluOp.MUL):
            sign = {AluOp.ADD: "+", AluOp.SUB: "-", AluOp.MUL: "*"}[op]
            put(depth, f"A = (A {sign} {v}) & {M32}")
        elif op in (AluOp.OR, AluOp.AND, AluOp.XOR):
            put(depth, f"A {({AluOp.OR: '|', AluOp.AND: '&', AluOp.XOR: '^'})[op]}= {v}")
        elif op in (AluOp.DIV, AluOp.MOD):
            if use_x:
                self.fail_if(depth, "not X")
            elif k == 0:
                self.ret(depth, "0")
                return True
            put(depth, f"A {'//' if op == AluOp.DIV else '%'}= {v}")
        elif op in (AluOp.LSH, AluOp.RSH):
            shift = "<<" if op == AluOp.LSH else ">>"
            mask = f" & {M32}" if op == AluOp.LSH else ""
            if use_x and self.linux:
                put(depth, f"A = (A {shift} (X & 31)){mask}")
            elif use_x:
                put(depth, f"A = (A {shift} X){mask} if X < 32 else 0")
            elif k < 32:
                put(depth, f"A = (A {shift} {k}){mask}")
            else:
                put(depth, "A = 0")
        else:
            self.ret(depth, "0")
            return True
        return False


def _const_load(k: int, size: int, at: str = "") -> str:
    if size == 1:
        return f"p[{at}{k}]"
    if size == 2:
        return f"p[{at}{k}] << 8 | p[{at}{k + 1}]"
    return f"_W(p, {at}{k})[0]"


def _var_load(size: int, at: str = "") -> str:
    if size == 1:
        return f"p[{at}i]"
    if size == 2:
        return f"p[{at}i] << 8 | p[{at}i + 1]"
    return f"_W(p, {at}i)[0]"


def source(
    insns: Sequence[Sequence[int]], linux: bool = False, mode: str = "single", header: int = 0
) -> str:
    """The Python source of the function ``_bpf`` for a validated, forward-only program.

    ``header`` (offset shape only): each offset and length counts that many bytes
    before the packet (a record header), folded into the constants.
    """
    if mode not in ("single", "batch", "count", "offset"):
        raise ValueError(f"unknown mode {mode!r}")
    if mode == "offset" and linux:
        raise ValueError("the offset shape has no Linux loads (they need a packet object)")
    if header and mode != "offset":
        raise ValueError("only the offset shape takes a header length")
    writer = _Writer(insns, linux, mode, header)
    loop = mode != "single"
    depth = 2 if loop else 1
    uses_len = any(insn[0] in (LD_LEN, LDX_LEN) for insn in writer.insns)
    slots = sorted({k for code, _, _, k in writer.insns if code in (LD_MEM, LDX_MEM) and k < 16})
    writer.emit(0, depth)
    pad = "    " * depth
    if mode == "offset":
        head = ["def _bpf(p, offsets, caplens, wirelens=None):"]
    else:
        head = ["def _bpf(items, **meta):" if loop else "def _bpf(p, wirelen=None, **meta):"]
        head.append(f"    if meta:\n        {'_check_meta' if linux else '_reject_meta'}(meta)")
    if mode in ("batch", "offset"):
        head += ["    out = []", "    _append = out.append"]
    elif mode == "count":
        head.append("    c = 0")
    if mode == "offset" and uses_len:
        default = f"[c - {header} for c in caplens]" if header else "caplens"
        head.append(f"    wirelens = {default} if wirelens is None else wirelens")
        head.append("    for o, n, wl in zip(offsets, caplens, wirelens):")
    elif mode == "offset":
        head.append("    for o, n in zip(offsets, caplens):")
    elif loop:
        head.append("    for p, wirelen in items:")
    if mode != "offset":
        head.append(f"{pad}n = len(p)")
    if uses_len and mode != "offset":
        head.append(f"{pad}wl = n if wirelen is None else wirelen")
    first = registers_read_first(writer.insns, linux)
    zeroed = [r for r, bit in (("A", _READ_A), ("X", _READ_X)) if first & bit]
    if zeroed:  # a register no path reads before writing it is not reset per packet
        head.append(f"{pad}{' = '.join(zeroed)} = 0")
    head += [f"{pad}m{slot} = 0" for slot in slots]
    tail = ["    return c"] if mode == "count" else ["    return out"] if loop else []
    return "\n".join(head + writer.lines + tail) + "\n"
