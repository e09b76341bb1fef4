"""One instruction as text: libpcap's ``bpf_image`` line, and the opcode table behind it.

``tcpdump -d`` prints each instruction through libpcap's ``bpf_image``; people diff
those listings, so ours must match byte for byte.  The table :data:`OPCODES` says,
for every opcode libpcap can name, its mnemonic and the *kind* of operand it shows;
the dumper (:mod:`bpfc.isa.dump`) and the assembler (:mod:`bpfc.isa.asm`) both read it, so
the text we print is exactly the text we parse.

Two flavours exist: ``"master"`` (libpcap 1.11, the default: no trailing spaces,
and ``ldx #pktlen`` for opcode 0x81) and ``"1.10"`` (what Debian's libpcap 1.10.3,
and so the local ``tcpdump``, prints: the mnemonic is padded to 8 columns even when
no operand follows, and 0x81 is ``unimp``).

>>> image((0x28, 0, 0, 12), 0)
'(000) ldh      [12]'
>>> image((0x15, 0, 6, 0x86DD), 1)
'(001) jeq      #0x86dd          jt 2\\tjf 8'
>>> image((0x87, 0, 0, 0), 5), image((0x87, 0, 0, 0), 5, flavor="1.10")
('(005) txa', '(005) txa      ')
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Protocol

from bpfc.isa.opcodes import (
    ANCILLARY_LIBPCAP,
    JA,
    LDX_LEN,
    SKF_AD_OFF,
    AluOp,
    Class,
    JmpOp,
    MiscOp,
    Mode,
    RVal,
    Size,
    Src,
    bpf_class,
    bpf_op,
)

FLAVORS = ("master", "1.10")
"""libpcap versions whose ``bpf_image`` text we reproduce."""


class Operand(Enum):
    """How an opcode shows its operand (and so how the assembler reads it back)."""

    NONE = "none"  # tax, txa, neg, ret a
    HEX = "hex"  # #0x%x
    DEC = "dec"  # #%d (k as a signed int, as C's %d prints a u32)
    ABS = "abs"  # [%d], or [name] for a Linux ancillary offset
    IND = "ind"  # [x + %d]
    MEM = "mem"  # M[%d]
    MSH = "msh"  # 4*([%d]&0xf)
    LEN = "len"  # #pktlen
    X = "x"  # x
    JA = "ja"  # absolute target n + 1 + k


def _build() -> dict[int, tuple[str, Operand]]:
    table: dict[int, tuple[str, Operand]] = {}
    for size, suffix in ((Size.W, ""), (Size.H, "h"), (Size.B, "b")):
        table[Class.LD | size | Mode.ABS] = ("ld" + suffix, Operand.ABS)
        table[Class.LD | size | Mode.IND] = ("ld" + suffix, Operand.IND)
    table[Class.LD | Size.W | Mode.LEN] = ("ld", Operand.LEN)
    table[Class.LD | Mode.IMM] = ("ld", Operand.HEX)
    table[Class.LD | Mode.MEM] = ("ld", Operand.MEM)
    table[Class.LDX | Mode.IMM] = ("ldx", Operand.HEX)
    table[Class.LDX | Mode.MEM] = ("ldx", Operand.MEM)
    table[Class.LDX | Size.W | Mode.LEN] = ("ldx", Operand.LEN)
    table[Class.LDX | Size.B | Mode.MSH] = ("ldxb", Operand.MSH)
    table[Class.ST] = ("st", Operand.MEM)
    table[Class.STX] = ("stx", Operand.MEM)
    hex_ops = {AluOp.AND, AluOp.OR, AluOp.XOR}
    for op in AluOp:
        if op is AluOp.NEG:
            table[Class.ALU | op] = ("neg", Operand.NONE)
            continue
        name = op.name.lower()
        table[Class.ALU | op | Src.K] = (name, Operand.HEX if op in hex_ops else Operand.DEC)
        table[Class.ALU | op | Src.X] = (name, Operand.X)
    table[JA] = ("ja", Operand.JA)
    for op in (JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET):
        table[Class.JMP | op | Src.K] = (op.name.lower(), Operand.HEX)
        table[Class.JMP | op | Src.X] = (op.name.lower(), Operand.X)
    table[Class.RET | RVal.K] = ("ret", Operand.DEC)
    table[Class.RET | RVal.A] = ("ret", Operand.NONE)
    table[Class.MISC | MiscOp.TAX] = ("tax", Operand.NONE)
    table[Class.MISC | MiscOp.TXA] = ("txa", Operand.NONE)
    return {int(code): entry for code, entry in sorted(table.items())}


OPCODES: dict[int, tuple[str, Operand]] = _build()
"""Every opcode libpcap master's ``bpf_image`` names (49): code -> (mnemonic, operand)."""


def is_conditional_jump(code: int) -> bool:
    """True for jeq/jgt/jge/jset (k or x): the instructions whose jt/jf matter."""
    return bpf_class(code) == Class.JMP and bpf_op(code) != JmpOp.JA


def signed32(value: int) -> int:
    """``value`` (mod 2**32) as C's ``%d`` prints an unsigned 32-bit int."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def lookup(code: int, flavor: str = "master") -> tuple[str, Operand] | None:
    """The (mnemonic, operand kind) libpcap of ``flavor`` prints for ``code``, or None."""
    if flavor == "1.10" and code == LDX_LEN:
        return None
    return OPCODES.get(code)


def operand_text(code: int, k: int, n: int, flavor: str = "master") -> tuple[str, str]:
    """The mnemonic and operand text of instruction ``n``; ``("unimp", "0x..")`` if unnamed."""
    entry = lookup(code, flavor)
    if entry is None:
        return "unimp", f"0x{code:x}"
    name, kind = entry
    k &= 0xFFFFFFFF
    if kind is Operand.NONE:
        text = ""
    elif kind is Operand.HEX:
        text = f"#0x{k:x}"
    elif kind is Operand.DEC:
        text = f"#{signed32(k)}"
    elif kind is Operand.ABS:
        ext = ANCILLARY_LIBPCAP.get(k - SKF_AD_OFF) if k >= SKF_AD_OFF else None
        text = f"[{ext}]" if ext else f"[{signed32(k)}]"
    elif kind is Operand.IND:
        text = f"[x + {signed32(k)}]"
    elif kind is Operand.MEM:
        text = f"M[{signed32(k)}]"
    elif kind is Operand.MSH:
        text = f"4*([{signed32(k)}]&0xf)"
    elif kind is Operand.LEN:
        text = "#pktlen"
    elif kind is Operand.X:
        text = "x"
    else:  # Operand.JA: C computes n + 1 + k in unsigned arithmetic, prints it with %d
        text = str(signed32(n + 1 + k))
    return name, text


def image(insn: Sequence[int], n: int, flavor: str = "master") -> str:
    """The ``bpf_image`` line for ``insn`` = (code, jt, jf, k) at index ``n``."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown libpcap flavor {flavor!r} (choose from {', '.join(FLAVORS)})")
    code, jt, jf, k = insn
    name, operand = operand_text(code, k, n, flavor)
    if is_conditional_jump(code):
        return f"({n:03d}) {name:<8s} {operand:<16s} jt {n + 1 + jt}\tjf {n + 1 + jf}"
    line = f"({n:03d}) {name:<8s} {operand}"
    return line if flavor == "1.10" else line.rstrip(" ")


class HasCodeAndK(Protocol):
    """An instruction, or the CFG's not-yet-placed jump: anything with ``code`` and ``k``."""

    @property
    def code(self) -> int: ...

    @property
    def k(self) -> int: ...


def insn_text(insn: HasCodeAndK) -> str:
    """An instruction as ``bpf_image`` names it, without index or jump targets (for
    graph labels, where jumps between blocks are drawn as edges)."""
    name, operand = operand_text(insn.code, insn.k, 0)
    return f"{name} {operand}".rstrip()
