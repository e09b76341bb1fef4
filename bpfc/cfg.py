"""Control-flow graph of a filter program under construction.

Code generation builds the program as a graph of :class:`Block` objects, the only
mutable structure in bpfc's back end.  A block is a straight run of non-jump
statements ended by one terminal: a conditional jump (``jeq``/``jgt``/``jge``/``jset``
against ``k`` or ``x``) with a true and a false successor, or a ``ret``.

Primitives are generated as :class:`Cond` sub-graphs: one entry block plus the
*dangling* true and false exits (``(block, slot)`` pairs whose successor is not yet
known).  ``and``/``or``/``not`` only patch or swap these exit lists, which is what
libpcap's ``backpatch``/``merge`` do with the ``sense`` bit and pointer punning, here
with explicit data.  Because libpcap lays out blocks by walking this graph, building
the same graph is what makes our unoptimized listings identical to libpcap's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from bpfc.isa.insn import Class, Insn, JmpOp, RVal, Src
from bpfc.isa.opcodes import CLASS_MASK, JA

#: slot names for an exit: the jump's true or false successor
JT = True
JF = False

Exit = tuple["Block", bool]


class InnerJump(NamedTuple):
    """A jump *inside* a block's statements (libpcap's ``protochain`` loop).

    ``jt``/``jf`` are indices into the same statement list (forward targets); an
    unconditional ``ja`` carries its own relative ``k``, which may be negative: a
    backward jump, which libpcap emits for ``protochain`` and no validator accepts.
    """

    code: int
    k: int
    jt: int = 0
    jf: int = 0


Stmt = Insn | InnerJump


@dataclass(eq=False, slots=True)  # slots: big or-lists make 100,000s of blocks
class Block:
    """A basic block: ``stmts`` then a jump (``code``/``k`` with ``jt``/``jf``) or a ``ret``."""

    stmts: list[Stmt]
    code: int
    k: int = 0
    jt: Block | None = None
    jf: Block | None = None
    uid: int = field(default=0)

    @property
    def is_ret(self) -> bool:
        return self.code & CLASS_MASK == Class.RET

    def successors(self) -> tuple[Block, ...]:
        if self.is_ret:
            return ()
        return tuple(b for b in (self.jt, self.jf) if b is not None)

    def set_exit(self, slot: bool, target: Block) -> None:
        if slot:
            self.jt = target
        else:
            self.jf = target

    def terminal(self) -> Insn:
        return Insn(self.code, 0, 0, self.k & 0xFFFFFFFF)


@dataclass(frozen=True)
class Cond:
    """A sub-graph with one entry and dangling true/false exits.

    ``const`` is the value of a condition known at compile time (libpcap master's
    ``gen_true``/``gen_false`` blocks, e.g. ``ip6`` on an IPv4-only link), else None.
    """

    entry: Block
    true: tuple[Exit, ...]
    false: tuple[Exit, ...]
    const: bool | None = None


def prepend(block: Block, stmts: list[Stmt]) -> None:
    """Put ``stmts`` in front of ``block``'s statements (a prologue).

    Conditional inner jumps name statement indices, so they move along by ``len(stmts)``;
    an inner ``ja`` carries a relative offset and stays as it is.
    """
    if not stmts:
        return
    shift = len(stmts)
    ja = JA
    moved = [
        s._replace(jt=s.jt + shift, jf=s.jf + shift)
        if isinstance(s, InnerJump) and s.code != ja
        else s
        for s in block.stmts
    ]
    block.stmts[:] = list(stmts) + moved


def jmp_block(stmts: list[Insn], op: int, k: int = 0, src: int = Src.K) -> Cond:
    """A one-block condition: ``stmts`` then ``j<op> k`` (or ``x``)."""
    block = Block(list(stmts), Class.JMP | op | src, k & 0xFFFFFFFF)
    return Cond(block, ((block, JT),), ((block, JF),))


def ret_block(k: int = 0, accumulator: bool = False) -> Block:
    code = Class.RET | (RVal.A if accumulator else RVal.K)
    return Block([], code, 0 if accumulator else k)


def patch(exits: tuple[Exit, ...], target: Block) -> None:
    for block, slot in exits:
        block.set_exit(slot, target)


def and_(a: Cond, b: Cond) -> Cond:
    """``a and b``: a's true exits enter b.

    A constant operand folds away as in libpcap master: ``true and b`` is ``b``,
    ``false and b`` is ``false`` (b's code is dropped), and symmetrically.
    """
    if a.const is not None:
        return b if a.const else a
    if b.const is not None:
        return a if b.const else b
    patch(a.true, b.entry)
    return Cond(a.entry, b.true, a.false + b.false)


def or_(a: Cond, b: Cond) -> Cond:
    """``a or b``: a's false exits enter b (constants fold as in :func:`and_`)."""
    if a.const is not None:
        return a if a.const else b
    if b.const is not None:
        return b if b.const else a
    patch(a.false, b.entry)
    return Cond(a.entry, a.true + b.true, b.false)


def not_(a: Cond) -> Cond:
    """``not a``: swap the exit lists; the jump instructions stay as they are."""
    return Cond(a.entry, a.false, a.true, None if a.const is None else not a.const)


def true_cond() -> Cond:
    """Always true, as libpcap spells it: ``ld #0; jeq #0``."""
    block = jmp_block([Insn(Class.LD, 0, 0, 0)], JmpOp.JEQ, 0)
    return Cond(block.entry, block.true, block.false, True)


def false_cond() -> Cond:
    """Always false: ``ld #1; jeq #0``."""
    block = jmp_block([Insn(Class.LD, 0, 0, 1)], JmpOp.JEQ, 0)
    return Cond(block.entry, block.true, block.false, False)


def finish(cond: Cond, accept: int) -> Block:
    """Close a condition: true exits return ``accept``, false exits return 0."""
    patch(cond.true, ret_block(accept))
    patch(cond.false, ret_block(0))
    return cond.entry


def walk(root: Block) -> Iterator[Block]:
    """Every block reachable from ``root``, each once, depth first (true side first)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        block = stack.pop()
        if id(block) in seen:
            continue
        seen.add(id(block))
        yield block
        stack.extend(reversed(block.successors()))


def to_dot(root: Block) -> str:
    """The graph in Graphviz dot: one box per block, green/red edges for true/false.

    The drawing is :mod:`bpfc.isa.dot`'s; this side only names blocks, labels them
    (instructions without index or jump targets: jumps are the edges) and lists edges.
    """
    from bpfc.isa.dot import block_lines, digraph
    from bpfc.isa.listing import insn_text

    names = {id(b): f"b{i}" for i, b in enumerate(walk(root))}
    lines: list[str] = []
    for block in walk(root):
        text = [insn_text(s) for s in block.stmts] + [insn_text(block.terminal())]
        edges = []
        if block.jt is not None and not block.is_ret:
            edges.append((names[id(block.jt)], "green", "T"))
        if block.jf is not None and not block.is_ret:
            edges.append((names[id(block.jf)], "red", "F"))
        lines += block_lines("  ", names[id(block)], text, edges)
    return digraph("cfg", lines)
