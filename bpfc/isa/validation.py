"""Static checks on a cBPF program, in libpcap's and in the Linux kernel's flavour.

Two checkers exist in the wild and they disagree.  libpcap's ``bpf_validate``
(1.10.3, the default here) looks only at the parts it needs for memory safety:
scratch indexes, constant division by zero, jump targets, a final ``ret``; it
passes unknown ``ret``/``misc`` codes and odd load modes.  The kernel's
``bpf_check_classic`` (``strict=True``) allows only the opcodes its interpreter
implements, bounds the length and constant shifts, knows the ancillary offsets
and refuses to read a scratch slot that some path has not written.

Every failure is a :class:`~bpfc.errors.ValidationError` naming the instruction
index and a ``rule`` (see :data:`RULES`), never another exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bpfc.argcheck import check_flag
from bpfc.errors import ValidationError
from bpfc.isa.opcodes import (
    ABS_LOADS,
    ALU_K,
    ALU_X,
    ANCILLARY,
    BPF_MAXINSNS,
    BPF_MEMWORDS,
    CLASS_MASK,
    COND_JUMP_OPS,
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
    MODE_MASK,
    OP_MASK,
    RET_A,
    RET_K,
    RET_X,
    SKF_AD_OFF,
    ST,
    STX,
    TAX,
    TXA,
    AluOp,
    Class,
    JmpOp,
    Mode,
    Src,
    bpf_class,
)

__all__ = ["KERNEL_CODES", "RULES", "validate"]

RULES: dict[str, str] = {
    "malformed": "an instruction is not four integers",
    "field-range": "code, jt, jf or k does not fit struct sock_filter",
    "empty": "a program needs at least one instruction",
    "too-long": "the kernel accepts at most 4096 instructions",
    "opcode": "the opcode is not one the checker accepts",
    "scratch-index": "M[] index is not below 16",
    "div-by-zero": "division or modulo by the constant 0",
    "shift-range": "constant shift by 32 or more",
    "ancillary": "load from the ancillary area at an offset the kernel does not know",
    "jump-out-of-range": "a jump lands past the last instruction",
    "last-not-ret": "the last instruction is not a return",
    "uninit-scratch": "M[] is read before a store on some path",
    "ebpf-jump-range": "after Linux's conversion to eBPF a jump spans more than 32767 insns",
}
"""Rule names carried by ``ValidationError.rule``, with what each one means."""

_ALU_OPS = frozenset(int(op) for op in AluOp)
_JMP_OPS = frozenset({int(JmpOp.JA)} | {int(op) for op in COND_JUMP_OPS})
_LOAD_MODES = frozenset(int(mode) for mode in Mode)
_COND_JUMPS = COND_JUMPS

KERNEL_CODES: frozenset[int] = frozenset(
    {RET_K, RET_A}
    | ABS_LOADS
    | IND_LOADS
    | {LD_IMM, LD_MEM, LD_LEN}
    | {LDX_IMM, LDX_MEM, LDX_LEN, LDX_MSH}
    | {ST, STX, TAX, TXA}
    | ALU_K  # NEG included
    | ALU_X
    | {JA}
    | _COND_JUMPS
)
"""Opcodes the Linux checker (``chk_code_allowed``) accepts."""

_ABS_LOADS = ABS_LOADS
_MEM_LOADS = frozenset({LD_MEM, LDX_MEM})
_STORES = frozenset({ST, STX})
_DIV_K = frozenset(int(Class.ALU | op | Src.K) for op in (AluOp.DIV, AluOp.MOD))
_DIV_X = frozenset(int(Class.ALU | op | Src.X) for op in (AluOp.DIV, AluOp.MOD))
_SHIFT_K = frozenset(int(Class.ALU | op | Src.K) for op in (AluOp.LSH, AluOp.RSH))
_LDX, _STX, _ALU, _JMP = int(Class.LDX), int(Class.STX), int(Class.ALU), int(Class.JMP)
_MEM = int(Mode.MEM)
_JA_OP = int(JmpOp.JA)
_NAMED_REJECTS = {RET_X: "(ret x)", int(Class.LDX | Mode.ABS): "(ldx [k])"}


def validate(insns: Iterable[Sequence[int]], strict: bool = False) -> None:
    """Raise :class:`ValidationError` unless ``insns`` passes the checker.

    ``strict=False`` applies libpcap 1.10.3's ``bpf_validate`` rules exactly;
    ``strict=True`` those of the Linux kernel's ``bpf_check_classic``.

    >>> validate([(0x06, 0, 0, 0)])
    >>> validate([(0x15, 0, 3, 0x800), (0x06, 0, 0, 1)])
    Traceback (most recent call last):
    ...
    bpfc.errors.ValidationError: insn 0: jump false target 4 is past the last instruction 1
    """
    check_flag("strict", strict)
    prog = _fields(insns)
    n = len(prog)
    if n == 0:
        raise ValidationError("empty program", None, "empty")
    if strict and n > BPF_MAXINSNS:
        raise ValidationError(f"{n} instructions, more than {BPF_MAXINSNS}", None, "too-long")
    check = _check_strict if strict else _check_libpcap
    for index, insn in enumerate(prog):
        check(index, insn, n)
    last = prog[-1][0]
    if (last not in (RET_K, RET_A)) if strict else (bpf_class(last) != Class.RET):
        raise ValidationError(
            f"last instruction (code {last:#06x}) is not ret", n - 1, "last-not-ret"
        )
    if strict:
        _check_scratch_flow(prog)
        _check_converted_jumps(prog)


def _fields(insns: Iterable[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """The program as plain int 4-tuples, with every field range-checked."""
    out: list[tuple[int, int, int, int]] = []
    try:
        items = list(insns)
    except TypeError as err:
        raise ValidationError(
            f"program is not a sequence of instructions ({err})", None, "malformed"
        ) from None
    for index, insn in enumerate(items):
        try:
            code, jt, jf, k = insn
        except (TypeError, ValueError):
            raise ValidationError(
                f"{insn!r} is not a (code, jt, jf, k) tuple", index, "malformed"
            ) from None
        if not all(isinstance(f, int) for f in (code, jt, jf, k)):
            raise ValidationError(f"{insn!r} has a non-integer field", index, "malformed")
        for name, value, top in (("code", code, 0xFFFF), ("jt", jt, 0xFF), ("jf", jf, 0xFF)):
            if not 0 <= value <= top:
                raise ValidationError(
                    f"{name} {value} is outside 0..{top:#x}", index, "field-range"
                )
        if not 0 <= k <= 0xFFFFFFFF:
            raise ValidationError(f"k {k} is outside 0..0xffffffff", index, "field-range")
        out.append((int(code), int(jt), int(jf), int(k)))
    return out


def _bad_opcode(index: int, code: int, why: str) -> ValidationError:
    return ValidationError(f"opcode {code:#06x} {why}", index, "opcode")


def _check_jump_targets(
    index: int, insn: tuple[int, int, int, int], n: int, wrap: bool = False
) -> None:
    code, jt, jf, k = insn
    last = n - 1
    if code & OP_MASK == _JA_OP:  # ja: 32-bit offset; libpcap's u_int sum wraps, the kernel's not
        target = (index + 1 + k) & 0xFFFFFFFF if wrap else index + 1 + k
        if target >= n:
            raise ValidationError(
                f"ja offset {k} lands past the last instruction {last}", index, "jump-out-of-range"
            )
        return
    for label, offset in (("true", jt), ("false", jf)):
        if index + 1 + offset >= n:
            raise ValidationError(
                f"jump {label} target {index + 1 + offset} is past the last instruction {last}",
                index,
                "jump-out-of-range",
            )


def _check_libpcap(index: int, insn: tuple[int, int, int, int], n: int) -> None:
    code, _jt, _jf, k = insn
    cls = code & CLASS_MASK  # plain ints below: this runs on every compiled program
    if cls <= _LDX:  # ld, ldx: any size; mode decides
        mode = code & MODE_MASK
        if mode == _MEM and k >= BPF_MEMWORDS:
            raise ValidationError(f"M[{k}] is out of range 0..15", index, "scratch-index")
        if mode not in _LOAD_MODES:
            raise _bad_opcode(index, code, f"has an unknown load mode {mode:#04x}")
    elif cls <= _STX:
        if k >= BPF_MEMWORDS:
            raise ValidationError(f"M[{k}] is out of range 0..15", index, "scratch-index")
    elif cls == _ALU:
        op = code & OP_MASK
        if op not in _ALU_OPS:
            raise _bad_opcode(index, code, f"has an unknown ALU operation {op:#04x}")
        if code in _DIV_K and k == 0:
            raise ValidationError("division or modulo by constant 0", index, "div-by-zero")
    elif cls == _JMP:
        if code & OP_MASK not in _JMP_OPS:
            raise _bad_opcode(index, code, f"has an unknown jump test {code & OP_MASK:#04x}")
        _check_jump_targets(index, insn, n, wrap=True)


def _check_strict(index: int, insn: tuple[int, int, int, int], n: int) -> None:
    code, _jt, _jf, k = insn
    if code not in KERNEL_CODES:
        why = _NAMED_REJECTS.get(code, "is not a Linux cBPF instruction")
        raise _bad_opcode(index, code, why if why.startswith("is") else f"{why} is not allowed")
    if code in _DIV_K and k == 0:
        raise ValidationError("division or modulo by constant 0", index, "div-by-zero")
    if code in _SHIFT_K and k >= 32:
        raise ValidationError(f"constant shift by {k} (must be below 32)", index, "shift-range")
    if code in _MEM_LOADS or code in _STORES:
        if k >= BPF_MEMWORDS:
            raise ValidationError(f"M[{k}] is out of range 0..15", index, "scratch-index")
    if code & CLASS_MASK == _JMP:
        _check_jump_targets(index, insn, n)
    if code in _ABS_LOADS and k >= SKF_AD_OFF and (k - SKF_AD_OFF) not in ANCILLARY:
        raise ValidationError(
            f"unknown ancillary offset SKF_AD_OFF+{k - SKF_AD_OFF}", index, "ancillary"
        )


def _check_scratch_flow(prog: list[tuple[int, int, int, int]]) -> None:
    """The kernel's ``check_load_and_stores``: a forward pass over the jump DAG.

    ``valid`` is the set of slots written on every path reaching the instruction;
    each jump target keeps the intersection over its incoming edges.
    """
    full = (1 << BPF_MEMWORDS) - 1
    masks = [full] * len(prog)
    valid = 0
    for pc, (code, jt, jf, k) in enumerate(prog):
        valid &= masks[pc]
        if code in _STORES:
            valid |= 1 << k
        elif code in _MEM_LOADS:
            if not valid >> k & 1:
                raise ValidationError(
                    f"M[{k}] is read before a store on some path", pc, "uninit-scratch"
                )
        elif code == JA:
            masks[pc + 1 + k] &= valid
            valid = full
        elif code in _COND_JUMPS:
            masks[pc + 1 + jt] &= valid
            masks[pc + 1 + jf] &= valid
            valid = full


S16_MAX = 32767


def _ebpf_lower_bound(code: int, k: int) -> int:
    """Fewest eBPF instructions Linux (>= 4.18) turns one cBPF instruction into.

    Packet loads become a helper call (8 instructions at least, the inline fast
    path adds more), ``ldxb 4*([k]&0xf)`` wraps such a load in 6 more, division by
    X adds a zero test, ``ret #k`` a move.  Ancillary loads count 1 (a lower bound).
    """
    if code in _ABS_LOADS or code in IND_LOADS:
        return 1 if code in _ABS_LOADS and k >= SKF_AD_OFF else 8
    if code == LDX_MSH:
        return 14
    if code in _DIV_X:
        return 5
    if code == RET_K:
        return 2
    return 1


def _check_converted_jumps(prog: list[tuple[int, int, int, int]]) -> None:
    """Linux converts cBPF to eBPF, whose jump offsets are signed 16-bit: a jump over
    too much code (e.g. 4094 ``ldxb`` instructions) is rejected with EINVAL even
    though every cBPF rule holds.  Only jumps that certainly overflow are reported.
    """
    before = [0]
    for code, _jt, _jf, k in prog:
        before.append(before[-1] + _ebpf_lower_bound(code, k))
    for pc, (code, jt, jf, k) in enumerate(prog):
        if code == JA:
            targets = [pc + 1 + k]
        elif code in _COND_JUMPS:
            targets = [pc + 1 + jt, pc + 1 + jf]
        else:
            continue
        for target in targets:
            span = before[target] - before[pc + 1]
            if span > S16_MAX:
                raise ValidationError(
                    f"jump to insn {target} spans at least {span} eBPF instructions"
                    f" (Linux allows {S16_MAX})",
                    pc,
                    "ebpf-jump-range",
                )
