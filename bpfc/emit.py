"""Linearize a CFG into a flat list of instructions with relative jumps.

The block order is libpcap's (``icode_to_fcode``/``convert_code_r`` in optimize.c,
which unoptimized code also goes through): the program is filled from its end, each
block placed after everything reachable through its false successor and then its true
successor have been placed.  So a block comes first, then its true side, then its
false side, and a block shared by several paths sits where its first (false-first,
depth-first) visit put it.  Keeping that order is what makes our unoptimized listings
byte-identical to libpcap's.

cBPF conditional jumps reach at most 255 instructions ahead.  When a target is
further, the jump gets a ``ja`` trampoline right after it (as libpcap's ``longjt``/
``longjf``) and the layout is redone, until every jump fits.
"""

from __future__ import annotations

import warnings

from bpfc.cfg import Block, InnerJump
from bpfc.errors import InternalError
from bpfc.isa.insn import BPF_MAXINSNS, Insn
from bpfc.isa.opcodes import JA

#: the longest forward distance a conditional jump can encode
MAX_COND_JUMP = 255


class BpfcWarning(UserWarning):
    """A program bpfc produced that some consumer (the Linux kernel) will refuse."""


def block_order(root: Block) -> list[Block]:
    """Blocks in libpcap's layout order (reverse of a false-first post-order)."""
    order: list[Block] = []
    seen: set[int] = set()
    # iterative post-order: visit jf, then jt, then the block itself
    stack: list[tuple[Block, int]] = [(root, 0)]
    seen.add(id(root))
    while stack:
        block, state = stack.pop()
        if state == 0:
            stack.append((block, 1))
            nxt = None if block.is_ret else block.jf
        elif state == 1:
            stack.append((block, 2))
            nxt = None if block.is_ret else block.jt
        else:
            order.append(block)
            continue
        if nxt is not None and id(nxt) not in seen:
            seen.add(id(nxt))
            stack.append((nxt, 0))
    order.reverse()
    return order


def linearize(root: Block, *, warn: bool = True, blocks: list[Block] | None = None) -> list[Insn]:
    """The flat program for the graph at ``root``; warns past the kernel's 4,096 limit.

    ``blocks`` is ``root``'s layout order when the caller has it already."""
    if blocks is None:
        blocks = block_order(root)
    long_jt: set[int] = set()
    long_jf: set[int] = set()
    while True:
        offsets: dict[int, int] = {}
        pos = 0
        for block in blocks:
            offsets[id(block)] = pos
            pos += len(block.stmts) + 1 + (id(block) in long_jt) + (id(block) in long_jf)
        if not _mark_long(blocks, offsets, long_jt, long_jf):
            break
    program = _place(blocks, offsets, long_jt, long_jf)
    if program is None:  # pragma: no cover - _mark_long found every long jump
        raise InternalError("a long jump was found only while placing")
    if warn:
        warn_if_too_long(program, stacklevel=4)
    return program


def warn_if_too_long(program: list[Insn], stacklevel: int = 3) -> None:
    """Warn (:class:`BpfcWarning`) when Linux would refuse the program for its length."""
    if len(program) > BPF_MAXINSNS:
        warnings.warn(
            f"program has {len(program)} instructions; Linux loads at most {BPF_MAXINSNS}",
            BpfcWarning,
            stacklevel=stacklevel,
        )


def _mark_long(
    blocks: list[Block], offsets: dict[int, int], long_jt: set[int], long_jf: set[int]
) -> bool:
    """Mark every jump too long for the layout ``offsets``; True when some mark is new.

    The same test as ``_place`` makes, on offsets alone: big programs need several
    rounds (each trampoline moves what follows it), and emitting each round would
    cost a full copy of the program per round.
    """
    grown = False
    for block in blocks:
        if block.is_ret or block.jt is None or block.jf is None:
            continue
        key = id(block)
        here = offsets[key] + len(block.stmts)
        if offsets[id(block.jt)] - here - 1 > MAX_COND_JUMP and key not in long_jt:
            long_jt.add(key)
            grown = True
        if offsets[id(block.jf)] - here - 1 > MAX_COND_JUMP and key not in long_jf:
            long_jf.add(key)
            grown = True
    return grown


def _place(
    blocks: list[Block], offsets: dict[int, int], long_jt: set[int], long_jf: set[int]
) -> list[Insn] | None:
    """Emit the program; ``None`` after marking the jumps that need a trampoline.

    Every jump found too long in this pass is marked before re-placing (offsets only grow
    as trampolines are added, so a long jump stays long): re-placing once per long jump
    would make big programs quadratic.
    """
    out: list[Insn] = []
    grown = False
    for block in blocks:
        out.extend(_stmts(block.stmts))
        if block.is_ret:
            out.append(block.terminal())
            continue
        if block.jt is None or block.jf is None:
            raise InternalError("unpatched jump in control-flow graph")
        here = len(out)
        extra: list[Insn] = []
        rel: list[int] = []
        for target, marks in ((block.jt, long_jt), (block.jf, long_jf)):
            off = offsets[id(target)] - here - 1
            if off > MAX_COND_JUMP:
                if id(block) not in marks:
                    marks.add(id(block))
                    grown = True
                rel.append(len(extra))
                extra.append(Insn(JA, 0, 0, off - len(extra) - 1))
            elif off < 0 and not grown:  # once grown, this pass's offsets are stale
                raise InternalError("backward jump in control-flow graph")
            else:
                rel.append(off)
        reserved = (id(block) in long_jt) + (id(block) in long_jf)
        # a reserved but unneeded slot stays zero, as in libpcap's calloc'd program
        extra.extend([Insn(0, 0, 0, 0)] * (reserved - len(extra)))
        out.append(Insn(block.code, rel[0], rel[1], block.k))
        out.extend(extra)
    return None if grown else out


def _stmts(stmts: list) -> list[Insn]:
    """A block's statements as instructions, resolving jumps between statements."""
    out: list[Insn] = []
    for pos, stmt in enumerate(stmts):
        if isinstance(stmt, InnerJump):
            if stmt.code == JA:
                out.append(Insn(stmt.code, 0, 0, stmt.k & 0xFFFFFFFF))
            else:
                out.append(Insn(stmt.code, stmt.jt - pos - 1, stmt.jf - pos - 1, stmt.k))
        else:
            out.append(stmt)
    return out
