"""The optimizer's control-flow graph: basic blocks built from a flat cBPF program.

cBPF only jumps forward, so every program is a DAG and any reverse postorder is a
topological order: one forward sweep is a complete dataflow solution.  A block is a
run of straight-line statements plus one terminator: a ``ret``, an unconditional
edge (``ja``, or falling into the next block), or a conditional jump with a true and
a false successor.  Blocks are the only mutable structure of the optimizer; the
graph itself is just the entry block, and a block is in the program exactly when it
is reachable from there, so removing unreachable code is free.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bpfc.errors import ValidationError
from bpfc.isa.insn import Class, Insn, JmpOp, bpf_class, bpf_op
from bpfc.isa.opcodes import CLASS_MASK, JA

# plain ints: the properties below are the optimizer's hottest calls
_RET, _JMP, _JA = int(Class.RET), int(Class.JMP), JA


class Block:
    """Statements plus a terminator; ``code`` is a RET code, ``JA`` or a conditional jump code.

    For ``ret`` blocks ``jt`` and ``jf`` are None; for ``JA`` blocks both are the single
    successor; conditional blocks have a true (``jt``) and a false (``jf``) successor.
    """

    __slots__ = ("id", "stmts", "code", "k", "jt", "jf")

    def __init__(
        self, bid: int, stmts: list[Insn], code: int, k: int, jt: Block | None, jf: Block | None
    ) -> None:
        self.id = bid
        self.stmts = stmts
        self.code = code
        self.k = k
        self.jt = jt
        self.jf = jf

    @property
    def is_ret(self) -> bool:
        return self.code & CLASS_MASK == _RET

    @property
    def is_cond(self) -> bool:
        code = self.code
        return code & CLASS_MASK == _JMP and code != _JA

    def succs(self) -> tuple[Block, ...]:
        if self.jt is None:
            return ()
        if self.jt is self.jf or self.jf is None:
            return (self.jt,)
        return (self.jt, self.jf)

    def set_goto(self, target: Block) -> None:
        """Make this block end in an unconditional edge to ``target``."""
        self.code, self.k, self.jt, self.jf = JA, 0, target, target

    def redirect(self, n: int, edge_count: int, old: Block, new: Block) -> None:
        """Move out edge ``n`` of ``edge_count`` (``dataflow.out_edges``' numbering) from
        ``old`` to ``new``: of an undecided branch's two edges, 0 is the true side and 1 the
        false; a block with one edge has every successor slot leading to ``old`` moved."""
        if edge_count == 2:
            if n == 0:
                self.jt = new
            else:
                self.jf = new
            return
        if self.jt is old:
            self.jt = new
        if self.jf is old:
            self.jf = new

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        succ = ",".join(str(s.id) for s in self.succs())
        return f"<B{self.id} {len(self.stmts)} stmts {self.code:#x}/{self.k:#x} -> {succ}>"


class Graph:
    """A program as blocks; ``entry`` is the first block, ``new_block`` hands out fresh ids.

    The graph holds nothing but its blocks: what passes work out about it lives in the
    pass manager's ``analyses.Analyses`` cache, dropped when a pass changes the graph.
    """

    def __init__(self, entry: Block, next_id: int) -> None:
        self.entry = entry
        self._next_id = next_id

    def new_block(
        self, stmts: list[Insn], code: int, k: int = 0, jt: Block | None = None, jf=None
    ) -> Block:
        block = Block(self._next_id, stmts, code, k, jt, jt if jf is None else jf)
        self._next_id += 1
        return block

    def order(self) -> list[Block]:
        """Reachable blocks in reverse postorder (a topological order; false side first).

        Computed afresh on every call; ``analyses.order`` keeps it while nothing changes.
        """
        # depth first, true side before false side; the path so far is the stack, and a
        # block is finished (appended) once both its successors are seen
        entry = self.entry
        seen = {entry.id}
        stack = [entry]
        post: list[Block] = []
        push, add = stack.append, seen.add
        while stack:
            block = stack[-1]
            nxt = block.jt
            if nxt is not None and nxt.id not in seen:
                add(nxt.id)
                push(nxt)
                continue
            nxt = block.jf
            if nxt is not None and nxt.id not in seen:
                add(nxt.id)
                push(nxt)
                continue
            post.append(stack.pop())
        post.reverse()
        return post

    def preds(self, order: Sequence[Block]) -> dict[int, list[Block]]:
        """Predecessors of every block in ``order`` (a block with jt == jf is listed once)."""
        result: dict[int, list[Block]] = {b.id: [] for b in order}
        for block in order:
            for succ in block.succs():
                result[succ.id].append(block)
        return result

    def size(self) -> int:
        """Instructions the blocks hold (statements plus one per terminator), before linearizing."""
        return sum(len(b.stmts) + (0 if b.code == JA else 1) for b in self.order())


def _leaders(insns: Sequence[Insn]) -> list[int]:
    n = len(insns)
    starts = {0}
    for i, ins in enumerate(insns):
        cls = bpf_class(ins.code)
        if cls == Class.JMP:
            if bpf_op(ins.code) == JmpOp.JA:
                targets = [i + 1 + ins.k]
            else:
                targets = [i + 1 + ins.jt, i + 1 + ins.jf]
            for t in targets:
                if t >= n:
                    raise ValidationError("jump past end of program", i, "jump-bounds")
                starts.add(t)
            starts.add(i + 1)
        elif cls == Class.RET:
            starts.add(i + 1)
    return sorted(s for s in starts if s < n)


def build(insns: Sequence[Insn]) -> Graph:
    """The graph of a program; raises ValidationError for jumps out of range or a missing ret."""
    insns = [Insn(*i) for i in insns]
    if not insns:
        raise ValidationError("empty program", None, "nonempty")
    starts = _leaders(insns)
    index_of = {s: n for n, s in enumerate(starts)}
    blocks = [Block(n, [], 0, 0, None, None) for n in range(len(starts))]
    bounds = list(zip(starts, starts[1:] + [len(insns)], strict=True))
    for n, (lo, hi) in enumerate(bounds):
        block = blocks[n]
        last = insns[hi - 1]
        cls = bpf_class(last.code)
        if cls == Class.RET:
            block.stmts = insns[lo : hi - 1]
            block.code, block.k = last.code, last.k
        elif cls == Class.JMP:
            block.stmts = insns[lo : hi - 1]
            if bpf_op(last.code) == JmpOp.JA:
                block.set_goto(blocks[index_of[hi + last.k]])
            else:
                block.code, block.k = last.code, last.k
                block.jt = blocks[index_of[hi + last.jt]]
                block.jf = blocks[index_of[hi + last.jf]]
        else:
            if hi >= len(insns):
                raise ValidationError("program does not end with ret", hi - 1, "ends-with-ret")
            block.stmts = insns[lo:hi]
            block.set_goto(blocks[index_of[hi]])
    return Graph(blocks[0], len(blocks))


def from_cfg(blocks: Sequence[Any]) -> Graph | None:
    """The graph of code generation's blocks (``bpfc.cfg.Block``, in layout order), or None.

    The same graph ``build`` makes of their linearized program, block ids included,
    without laying it out and reading it back (which costs more than the passes on big
    or-lists).  A block whose statements hold inner jumps (``bpfc.cfg.InnerJump``: radio
    headers, ``--linux`` VLAN tests) is split where ``build`` would split its listing.
    None for what is no DAG of blocks: a backward inner jump (protochain's loop), an
    inner jump out of its block, or a block ending in ``ja``.
    """
    index = {id(b): n for n, b in enumerate(blocks)}
    pieces: list[list[_Piece]] = []
    for b in blocks:
        if b.code == _JA:
            return None
        split = _pieces(b.stmts)
        if split is None:
            return None
        pieces.append(split)
    # every piece becomes a block, numbered in layout order as ``build`` numbers them
    made: list[list[Block]] = []
    next_id = 0
    for split in pieces:
        row = []
        for stmts, _, _ in split:
            row.append(Block(next_id, stmts, 0, 0, None, None))
            next_id += 1
        made.append(row)
    for b, split, row in zip(blocks, pieces, made, strict=True):
        starts = {start: block for (_, start, _), block in zip(split, row, strict=True)}
        for i, ((_, _, jump), block) in enumerate(zip(split, row, strict=True)):
            if i + 1 < len(row):  # a piece ends in an inner jump or falls into the next
                if jump is None:
                    block.set_goto(row[i + 1])
                elif jump[0] == _JA:
                    block.set_goto(starts[jump[2]])
                else:
                    block.code, block.k = jump[0], jump[1] & 0xFFFFFFFF
                    block.jt, block.jf = starts[jump[2]], starts[jump[3]]
                continue
            block.code, block.k = b.code, b.k & 0xFFFFFFFF  # the block's own terminator
            if block.code & CLASS_MASK != _RET:
                t, f = index.get(id(b.jt)), index.get(id(b.jf))
                if t is None or f is None:
                    return None
                block.jt, block.jf = made[t][0], made[f][0]
    return Graph(made[0][0], next_id) if made else None


_Piece = tuple[list[Insn], int, tuple[int, int, int, int] | None]
"""One block of the split: its statements, where they start in the cfg block's list, and
the inner jump ending it as (code, k, true target, false target), statement indices
(None: it falls into the next piece, or it is the last and ends as the cfg block does)."""


def _is_insn(stmt: object) -> bool:
    return type(stmt) is Insn or isinstance(stmt, Insn)


def _pieces(stmts: Sequence[Any]) -> list[_Piece] | None:
    """A cfg block's statements cut where ``build`` would cut its listing, or None.

    An inner jump ends a piece, and its targets (statement indices; ``len(stmts)`` is the
    block's terminator) start one; a target not strictly after the jump, or past the
    terminator, is no DAG of blocks.
    """
    n = len(stmts)
    leaders = {0}
    for pos, stmt in enumerate(stmts):
        if _is_insn(stmt):
            continue
        if stmt.code == _JA:
            targets = (pos + 1 + stmt.k,)
        else:
            targets = (stmt.jt, stmt.jf)
        for t in targets:
            if not pos < t <= n:
                return None
        leaders.update(targets)
        leaders.add(pos + 1)
    if len(leaders) == 1:
        return [(list(stmts), 0, None)]
    cuts = sorted(leaders)
    out: list[_Piece] = []
    for start, stop in zip(cuts, cuts[1:] + [n + 1], strict=True):
        body = list(stmts[start:stop])
        jump = None
        if body and not _is_insn(body[-1]):
            last, pos = body.pop(), start + len(body)  # the inner jump ends the piece
            if last.code == _JA:
                jump = (last.code, 0, pos + 1 + last.k, pos + 1 + last.k)
            else:
                jump = (last.code, last.k, last.jt, last.jf)
        out.append((body, start, jump))
    return out
