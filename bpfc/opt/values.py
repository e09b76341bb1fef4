"""Value numbering of cBPF statements: what each statement computes, as a number.

Equal numbers mean equal run-time values.  The packet never changes while a filter
runs, so a load of the same size at the same absolute offset always yields the same
value, and an indirect load is a function of its offset and of X's value number.
Constants get numbers too, and ALU results on constants fold.  ``step`` evaluates
one statement against the register file (A, X, M[0..15] as value numbers) and says
whether it is *pure*: a load that may run off the end of the packet makes the
filter return 0, so it is an effect unless the minimum packet length known on every
path already covers it; division by a possibly-zero X is an effect too.
"""

from __future__ import annotations

from functools import lru_cache

from bpfc.isa.arith import shift
from bpfc.isa.insn import (
    AluOp,
    Class,
    Insn,
    MiscOp,
    Mode,
    Size,
    Src,
    bpf_class,
    bpf_mode,
    bpf_op,
    bpf_src,
)
from bpfc.isa.opcodes import CLASS_MASK, MISCOP_MASK, MODE_MASK, NEGATIVE_OFF, OP_MASK, SIZE_MASK

MASK = 0xFFFFFFFF
A, X = 0, 1
NREGS = 18
WIDTH = {Size.W: 4, Size.H: 2, Size.B: 1}
_SMALL_OFFSET = 0x10000000  # below Linux's negative (ancillary) offset space


# Plain ints for the hot paths below: reading an IntEnum member costs several times a
# global's lookup, and ``step`` runs for every statement of every sweep.
_LD, _LDX, _ST, _STX, _ALU, _MISC = (
    int(c) for c in (Class.LD, Class.LDX, Class.ST, Class.STX, Class.ALU, Class.MISC)
)
_IMM, _ABS, _IND, _MEM, _LEN, _MSH = (
    int(m) for m in (Mode.IMM, Mode.ABS, Mode.IND, Mode.MEM, Mode.LEN, Mode.MSH)
)
_ADD, _SUB, _MUL, _DIV, _OR, _AND, _LSH, _RSH, _NEG, _MOD, _XOR = (
    int(o)
    for o in (
        AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND,
        AluOp.LSH, AluOp.RSH, AluOp.NEG, AluOp.MOD, AluOp.XOR,
    )
)  # fmt: skip
_SRC_X, _TXA = int(Src.X), int(MiscOp.TXA)
_ZERO_IS_IDENTITY = frozenset((_ADD, _SUB, _OR, _XOR, _LSH, _RSH))
_ONE_IS_IDENTITY = frozenset((_MUL, _DIV))
_ZERO_ABSORBS = frozenset((_AND, _MUL))
_COMMUTATIVE = frozenset((_ADD, _MUL, _AND, _OR, _XOR))
_SHIFTS = frozenset((_LSH, _RSH))
_DIVIDES = frozenset((_DIV, _MOD))
_WIDTH = {int(size): n for size, n in WIDTH.items()}
_WORD = int(Size.W)
WIDE_SPAN = 1024


ABS_LOADS = {Class.LD | Mode.ABS | size: size for size in (Size.W, Size.H, Size.B)}
"""``ld``/``ldh``/``ldb [k]`` codes and their size."""


def reg_of_mem(slot: int) -> int:
    return 2 + slot


_SEED: tuple[tuple, ...] = (("c", 0),) + tuple(("init", i) for i in range(NREGS - 2))
"""Numbered up front by every table: the registers' values on entry (``dataflow.initial``)."""
_SEED_IDS = {key: vn for vn, key in enumerate(_SEED)}
INITIAL_REGS: tuple[int, ...] = (0, 0) + tuple(range(1, NREGS - 1))
"""The register file on entry: A = X = 0 (number 0 is the constant 0), M[i] numbered 1 + i."""


class Values:
    """The value-number table of one optimizer run; numbers are never reused."""

    def __init__(self) -> None:
        # copying a seeded table is much cheaper than numbering the 17 seeds one by one,
        # and every forward sweep starts with them (small programs pay this per pass)
        self._ids: dict[tuple, int] = _SEED_IDS.copy()
        self.const: dict[int, int] = {0: 0}
        self.keys: list[tuple] = list(_SEED)
        self.wide_w = 0
        """Bit ``off`` set: some numbered ``ld [k]``, k < ``WIDE_SPAN``, reads the packet
        byte at ``off`` (``dataflow.within``'s cheap first check)."""

    def copy(self) -> Values:
        """An independent table holding the same numbers (later numbering diverges)."""
        new = Values.__new__(Values)
        new._ids, new.const, new.keys = self._ids.copy(), self.const.copy(), self.keys.copy()
        new.wide_w = self.wide_w
        return new

    def number(self, key: tuple) -> int:
        vn = self._ids.get(key)
        if vn is None:
            vn = self._ids[key] = len(self._ids)
            self.keys.append(key)
            kind = key[0]
            if kind == "c":
                self.const[vn] = key[1]
            elif kind == "ld" and key[1] == _WORD and key[2] < WIDE_SPAN:
                self.wide_w |= 15 << key[2]
        return vn

    def find(self, key: tuple) -> int | None:
        """The number of ``key`` if some statement already computed it (never numbers it)."""
        return self._ids.get(key)

    def of_const(self, c: int) -> int:
        return self.number(("c", c & MASK))

    def alu(self, op: int, a: int, b: int) -> int:
        """The number of ``a op b``, folding constants and algebraic identities."""
        ca, cb = self.const.get(a), self.const.get(b)
        if ca is not None and cb is not None:
            folded = fold(op, ca, cb)
            if folded is not None:
                return self.of_const(folded)
        if ca is not None and cb is None and op in _COMMUTATIVE:
            a, b, cb = b, a, ca  # the constant on the right: ``ld #0; add x`` is X
        if cb is not None:
            if cb == 0 and op in _ZERO_IS_IDENTITY:
                return a
            if cb == 1 and op in _ONE_IS_IDENTITY:
                return a
            if cb == MASK and op == _AND:
                return a
            if cb == 0 and op in _ZERO_ABSORBS:
                return self.of_const(0)
            if cb >= 32 and op in _SHIFTS:  # all bits out (bpfc.isa.arith.shift)
                return self.of_const(0)
        if op == _NEG:
            return self.number(("neg", a))
        if op in _COMMUTATIVE and a > b:
            a, b = b, a
        return self.number(("alu", op, a, b))


def fold(op: int, a: int, b: int) -> int | None:
    """``a op b`` on 32-bit unsigned values; None when it is not a plain value."""
    if op == _ADD:
        return (a + b) & MASK
    if op == _SUB:
        return (a - b) & MASK
    if op == _MUL:
        return (a * b) & MASK
    if op == _DIV:
        return None if b == 0 else a // b
    if op == _MOD:
        return None if b == 0 else a % b
    if op == _OR:
        return a | b
    if op == _AND:
        return a & b
    if op == _XOR:
        return a ^ b
    if op == _LSH or op == _RSH:
        return shift(op, a, b)  # 32 or more gives 0: bpfc.isa.arith.shift says why
    if op == _NEG:
        return (-a) & MASK
    return None


Effect = tuple  # (dest, vn, pure, minlen, insn): the fields of ``Step``, in order


class Step:
    """The effect of one statement: register written, its value number, purity, new minlen."""

    __slots__ = ("dest", "vn", "pure", "minlen", "insn")

    def __init__(self, dest: int | None, vn: int, pure: bool, minlen: int, insn: Insn) -> None:
        self.dest = dest
        self.vn = vn
        self.pure = pure
        self.minlen = minlen
        self.insn = insn


def _load_abs(vals: Values, size: int, off: int, minlen: int, ins: Insn) -> Effect:
    vn = vals.number(("ld", size, off))
    if off >= NEGATIVE_OFF:  # Linux metadata, not packet bytes: may fail, proves no length
        return (A, vn, False, minlen, ins)
    end = off + _WIDTH[size]
    return (A, vn, end <= minlen, max(minlen, end), ins)


def step(vals: Values, regs: list[int], minlen: int, ins: Insn, where: tuple) -> Step:
    """Evaluate ``ins`` (a non-jump, non-ret statement); ``where`` makes opaque values unique.

    ``Step.insn`` may be a cheaper equivalent of ``ins`` (an indirect load at a known
    offset becomes absolute; an ALU op on a known X takes the constant).
    """
    return Step(*effect(vals, regs, minlen, ins, where))


def effect(vals: Values, regs: list[int], minlen: int, ins: Insn, where: tuple) -> Effect:
    """``step`` as a plain ``(dest, vn, pure, minlen, insn)`` tuple, for the hot loops."""
    code, _, _, k = ins
    size = ABS_LOADS.get(code)
    if size is not None and k < NEGATIVE_OFF:  # the common case, inlined: ld/ldh/ldb [k]
        end = k + _WIDTH[size]
        return (A, vals.number(("ld", size, k)), end <= minlen, max(minlen, end), ins)
    cls = code & CLASS_MASK
    if cls == _LD:
        mode = code & MODE_MASK
        if mode == _IMM:
            return (A, vals.of_const(k), True, minlen, ins)
        if mode == _ABS:
            return _load_abs(vals, code & SIZE_MASK, k, minlen, ins)
        if mode == _IND:
            cx = vals.const.get(regs[X])
            size = code & SIZE_MASK
            if cx is not None and cx + k < _SMALL_OFFSET and size in _WIDTH:
                direct = Insn(_LD | _ABS | size, 0, 0, cx + k)
                return _load_abs(vals, size, cx + k, minlen, direct)
            return (A, vals.number(("ldi", size, k, regs[X])), False, minlen, ins)
        if mode == _MEM:
            return (A, regs[2 + (k & 15)], True, minlen, ins)
        if mode == _LEN:
            return (A, vals.number(("len",)), True, minlen, ins)
        return (A, vals.number(("opaque",) + where), False, minlen, ins)
    if cls == _LDX:
        mode = code & MODE_MASK
        if mode == _IMM:
            return (X, vals.of_const(k), True, minlen, ins)
        if mode == _MEM:
            return (X, regs[2 + (k & 15)], True, minlen, ins)
        if mode == _LEN:
            return (X, vals.number(("len",)), True, minlen, ins)
        if mode == _MSH:
            end = k + 1
            return (X, vals.number(("msh", k)), end <= minlen, max(minlen, end), ins)
        return (X, vals.number(("opaque",) + where), False, minlen, ins)
    if cls == _ST:
        return (2 + (k & 15), regs[A], True, minlen, ins)
    if cls == _STX:
        return (2 + (k & 15), regs[X], True, minlen, ins)
    if cls == _ALU:
        op = code & OP_MASK
        if op == _NEG:
            return (A, vals.alu(op, regs[A], regs[A]), True, minlen, ins)
        if code & _SRC_X:
            cx = vals.const.get(regs[X])
            if cx is None:
                if op in _DIVIDES:
                    return (A, vals.number(("opaque",) + where), False, minlen, ins)
                return (A, vals.alu(op, regs[A], regs[X]), True, minlen, ins)
            if op in _DIVIDES and cx == 0:
                return (A, vals.number(("opaque",) + where), False, minlen, ins)
            ins = Insn(_ALU | op, 0, 0, cx)  # Src.K is 0
            k = cx
        if op in _DIVIDES and k == 0:
            return (A, vals.number(("opaque",) + where), False, minlen, ins)
        return (A, vals.alu(op, regs[A], vals.of_const(k)), True, minlen, ins)
    if cls == _MISC:
        if code & MISCOP_MASK == _TXA:
            return (A, regs[X], True, minlen, ins)
        return (X, regs[A], True, minlen, ins)
    return (None, 0, False, minlen, ins)


@lru_cache(maxsize=4096)  # pure in the instruction, and on every pass's hot path
def uses(ins: Insn) -> int:
    """Bitmask of registers (bit r) a statement reads."""
    code, _, _, k = ins
    cls = code & CLASS_MASK
    if cls == Class.LD:
        mode = bpf_mode(code)
        if mode == Mode.IND:
            return 1 << X
        if mode == Mode.MEM:
            return 1 << reg_of_mem(k & 15)
        return 0
    if cls == Class.LDX:
        return 1 << reg_of_mem(k & 15) if bpf_mode(code) == Mode.MEM else 0
    if cls == Class.ST:
        return 1 << A
    if cls == Class.STX:
        return 1 << X
    if cls == Class.ALU:
        if bpf_op(code) != AluOp.NEG and bpf_src(code) == Src.X:
            return (1 << A) | (1 << X)
        return 1 << A
    if cls == Class.MISC:
        return 1 << X if code & MISCOP_MASK == MiscOp.TXA else 1 << A
    return 0


@lru_cache(maxsize=4096)
def defines(ins: Insn) -> int:
    """The register a statement writes (A, X or M slot index)."""
    code, _, _, k = ins
    cls = bpf_class(code)
    if cls in (Class.LD, Class.ALU):
        return A
    if cls == Class.LDX:
        return X
    if cls in (Class.ST, Class.STX):
        return reg_of_mem(k & 15)
    return X if code & MISCOP_MASK == MiscOp.TAX else A
