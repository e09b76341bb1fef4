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

    The same graph ``build`` makes of their linearized program, without laying it out
    and reading it back (which costs more than the passes on big or-lists); None when a
    block holds an inner jump (a loop) or ends in ``ja``, which only the program shows.
    """
    index = {id(b): n for n, b in enumerate(blocks)}
    out = []
    for n, b in enumerate(blocks):
        stmts = b.stmts
        if b.code == _JA:
            return None
        for s in stmts:
            if type(s) is not Insn and not isinstance(s, Insn):
                return None
        out.append(Block(n, list(stmts), b.code, b.k & 0xFFFFFFFF, None, None))
    for b, new in zip(blocks, out, strict=True):
        if new.code & CLASS_MASK != _RET:
            jt, jf = b.jt, b.jf
            if jt is None or jf is None:
                return None
            t, f = index.get(id(jt)), index.get(id(jf))
            if t is None or f is None:
                return None
            new.jt, new.jf = out[t], out[f]
    return Graph(out[0], len(out)) if out else None
