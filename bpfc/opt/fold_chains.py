"""First step: fold a long ``or`` of terms that differ only in ``jeq`` constants into two terms.

``port 1 or port 2 or ... or port N`` is N copies of one *template* whose only
difference is the constant of the ``jeq`` tests that accept.  The passes would take
many rounds over N copies to find that out; this step sees it in one linear scan of
the unoptimized program and rewrites the chain ``T[v1] or T[v2] or ... or T[vN]`` as
``T[v1] or T[S]``, where ``T[S]`` is the template with each varying ``jeq #v`` replaced
by a membership test of the values the other terms compare at that place (a sorted
chain of ``jeq``, or a ``jge`` tree for big sets).

Why that keeps every verdict, including which loads happen before a load fails: a
packet leaves ``T[v1]`` for the next term only along a path on which every load
succeeded and every varying test was false.  Each later term walks the same path (its
statements and other jumps are the same, and it reads no register it did not set)
until one of its varying tests is true, so it does no load the first term did not.
So the rest of the chain accepts exactly when some varying test on that path holds
one of the later constants, which is what ``T[S]`` asks, walking the same path again.
That needs every varying test to jump to the same ``ret #k`` when true, the template
to read no register before writing it, and no jump into the first term except at its
entry; chains that do not qualify are left to the passes.

Terms are found without knowing the source: in program order (block ids) a *cut* is
a point no jump crosses except to a ``ret`` block; the pieces between cuts are
compared by a signature (statements, jumps as local indices, varying constants
masked), and a run of pieces repeating with a short period is a chain.
"""

from __future__ import annotations

from bpfc.isa.insn import Class, JmpOp, RVal, Src
from bpfc.opt.analyses import Analyses
from bpfc.opt.build_sets import membership
from bpfc.opt.dataflow import term_uses
from bpfc.opt.graph import JA, Block, Graph
from bpfc.opt.values import NREGS, A, defines, uses

JEQ = Class.JMP | JmpOp.JEQ | Src.K
RET_K = Class.RET | RVal.K
MIN_TERMS = 16
"""Shorter chains are left to the passes (their output for them is what the corpus pins)."""
MAX_PERIOD = 8
ALL_REGS = (1 << NREGS) - 1


def _resolve(block: Block) -> Block:
    """The block an edge to ``block`` really reaches, through empty ``ja`` blocks."""
    seen = 0
    while block.code == JA and not block.stmts and block.jt is not block and seen < 64:
        block = block.jt
        seen += 1
    return block


def _terminal(block: Block) -> bool:
    return block.jt is None and not block.stmts


class _Layout:
    """The reachable non-trivial blocks in program order, with resolved successors."""

    def __init__(self, graph: Graph) -> None:
        order = graph.order()
        self.seq = sorted(
            (
                b
                for b in order
                if not _terminal(b) and not (b.code == JA and not b.stmts and b.jt is not b)
            ),
            key=lambda b: b.id,
        )
        self.index = {b.id: i for i, b in enumerate(self.seq)}
        self.rank = {b.id: i for i, b in enumerate(order)}
        self.succ: dict[int, tuple[Block | None, Block | None]] = {}
        for b in self.seq:
            if b.jt is None:
                self.succ[b.id] = (None, None)
            else:
                self.succ[b.id] = (_resolve(b.jt), _resolve(b.jf))

    def cuts(self) -> list[int]:
        """Indices where a segment starts: no earlier block jumps past them (rets aside)."""
        starts = [0]
        reach = 0
        n = len(self.seq)
        for i, b in enumerate(self.seq):
            if i and reach <= i:
                starts.append(i)
            for t in self.succ[b.id]:
                if t is not None and not _terminal(t):
                    j = self.index.get(t.id)
                    if j is None:
                        return []  # a target outside the layout: give up
                    reach = max(reach, j)
        return [s for s in starts if s < n]


def _varying_candidate(block: Block, jt: Block | None) -> bool:
    return block.code == JEQ and jt is not None and _terminal(jt) and jt.code == RET_K


def _signature(layout: _Layout, lo: int, hi: int) -> tuple | None:
    """The piece ``seq[lo:hi]`` as data, or None when it jumps outside itself."""
    out = []
    for i in range(lo, hi):
        b = layout.seq[i]
        jt, jf = layout.succ[b.id]
        codes = []
        for t in (jt, jf):
            if t is None:
                codes.append(None)
            elif _terminal(t):
                codes.append(("t", t.id))
            else:
                j = layout.index[t.id]
                if j == hi:
                    codes.append(("n",))
                elif lo < j < hi:
                    codes.append(j - lo)
                else:
                    return None
        k = None if _varying_candidate(b, jt) else b.k
        out.append((tuple(b.stmts), b.code, k, codes[0], codes[1]))
    return tuple(out)


def _runs(sigs: list[int]) -> list[tuple[int, int, int]]:
    """Non-overlapping (start, period, terms) runs of repeating segment signatures."""
    used = [False] * len(sigs)
    found = []
    for q in range(1, MAX_PERIOD + 1):
        i = 0
        while i + q < len(sigs):
            if sigs[i] != sigs[i + q] or sigs[i] < 0:
                i += 1
                continue
            j = i
            while j + q < len(sigs) and sigs[j] == sigs[j + q] and sigs[j] >= 0:
                j += 1
            terms = (j + q - i) // q
            if terms >= MIN_TERMS and not any(used[i : i + terms * q]):
                found.append((i, q, terms))
                for p in range(i, i + terms * q):
                    used[p] = True
            i = j + 1
    return found


def _live_map(layout: _Layout, blocks: list[Block], beyond: int = 0) -> dict[int, int]:
    """Registers live on entry to each template block; exits to blocks past the template
    read ``beyond``, exits to ``ret`` blocks what they return."""
    inside = {b.id for b in blocks}
    live: dict[int, int] = {}
    for b in sorted(blocks, key=lambda b: -layout.rank[b.id]):
        out = term_uses(b)
        for t in layout.succ[b.id]:
            if t is not None:
                out |= live[t.id] if t.id in inside else term_uses(t) if _terminal(t) else beyond
        for ins in reversed(b.stmts):
            out = (out & ~(1 << defines(ins))) | uses(ins)
        live[b.id] = out
    return live


def _self_contained(block: Block) -> tuple[bool, int]:
    """Whether the block's statements and test read only what it wrote; and what it writes."""
    need, wrote = 1 << A, 0
    for ins in reversed(block.stmts):
        bit = 1 << defines(ins)
        need = (need & ~bit) | uses(ins)
        wrote |= bit
    return need == 0, wrote


def _rotations(
    layout: _Layout, first: list[Block], varying: dict[int, set[int]], after: Block | None
) -> dict[int, int]:
    """Which template place each copy takes its test from (identity unless rotated).

    A straight run of varying tests (each one's false side is the next, which has no
    other way in) asks one question of already loaded fields, so in the copy it may ask
    them in any order; starting with the field the first term loaded last lets the
    passes keep that load instead of repeating it.  Only for self-contained tests whose
    registers are dead where the run ends.
    """
    pos = {b.id: p for p, b in enumerate(first)}
    # where the copy ends, registers are as the rotated tests left them: whatever comes
    # after the chain must not read them (unknown code counts as reading everything)
    beyond = 0 if after is None else term_uses(after) if _terminal(after) else ALL_REGS
    live = _live_map(layout, first, beyond)
    npreds = [0] * len(first)
    for b in first:
        for t in set(layout.succ[b.id]):
            if t is not None and t.id in pos:
                npreds[pos[t.id]] += 1
    follows = {}
    for p in varying:
        jf = layout.succ[first[p].id][1]
        if jf is not None and jf.id in pos and pos[jf.id] in varying and npreds[pos[jf.id]] == 1:
            follows[p] = pos[jf.id]
    heads = set(varying) - set(follows.values())
    source = {}
    for head in sorted(heads):
        run = [head]
        while run[-1] in follows:
            run.append(follows[run[-1]])
        if len(run) < 2:
            continue
        wrote = 0
        for p in run:
            ok, w = _self_contained(first[p])
            if not ok:
                break
            wrote |= w
        else:
            out = layout.succ[first[run[-1]].id][1]
            if out.id in pos:
                dead = not live[out.id] & wrote
            else:
                dead = not (term_uses(out) if _terminal(out) else beyond) & wrote
            if dead:
                for dst, src in zip(run, run[-1:] + run[:-1], strict=True):
                    source[dst] = src
    return source


def _relabel(sig: tuple, code: tuple | None) -> tuple:
    """``sig`` with its exits to the next segment sent to ``code`` instead."""
    if code is None:
        return sig
    nxt = ("n",)
    return tuple(
        (stmts, op, k, code if jt == nxt else jt, code if jf == nxt else jf)
        for stmts, op, k, jt, jf in sig
    )


def _last_exit(template: tuple, sig: tuple | None) -> tuple | None:
    """The ``ret`` a final term sends to where the template goes on, if that is the only change."""
    if sig is None or len(sig) != len(template):
        return None
    for a, b in zip(template, sig, strict=True):
        for x, y in ((a[3], b[3]), (a[4], b[4])):
            if x == ("n",) and y is not None and y[0] == "t":
                return y if _relabel(template, y) == sig else None
    return None


def _extend(layout: _Layout, bounds: list[int], start: int, q: int, n: int) -> Block | None:
    """The ``ret`` the term right after a run ends in, when it is the template but for that."""
    lo, mid = bounds[start], bounds[start + q]
    size = mid - lo
    hi = lo + n * size
    if hi + size > len(layout.seq):
        return None
    template = _signature(layout, lo, mid)
    code = None if template is None else _last_exit(template, _signature(layout, hi, hi + size))
    if code is None:
        return None
    return next(t for b in layout.seq[hi : hi + size] if (t := _target_id(layout, b, code[1])))


def _target_id(layout: _Layout, block: Block, bid: int) -> Block | None:
    for t in layout.succ[block.id]:
        if t is not None and t.id == bid:
            return t
    return None


def _fold(
    graph: Graph, layout: _Layout, seg: list[int], start: int, q: int, n: int, end: Block | None
) -> bool:
    """Fold terms ``start``.. (``n`` of them, ``q`` segments each); ``end`` is where a final
    extra term (counted in ``n``) goes instead of on to the next segment."""
    lo, mid = seg[start], seg[start + q]
    size = mid - lo
    hi = lo + n * size
    seq = layout.seq
    first = seq[lo:mid]
    # which places vary, with which values, and whether they all accept the same way
    varying: dict[int, set[int]] = {}
    target = None
    for p, b in enumerate(first):
        jt = layout.succ[b.id][0]
        if not _varying_candidate(b, jt):
            continue
        values = {seq[lo + t * size + p].k for t in range(1, n)}
        if values == {b.k}:
            continue
        if target is not None and jt is not target:
            return False
        target = jt
        values.discard(b.k)
        varying[p] = values
    if not varying or _live_map(layout, first)[first[0].id]:
        return False
    inside = {b.id for b in first}
    if graph.entry.id in inside and graph.entry is not first[0]:
        return False  # pragma: no cover - the program starts inside the term
    for b in seq:  # nothing outside the first term jumps into it but to its entry
        if b.id not in inside:
            for t in layout.succ[b.id]:
                if t is not None and t.id in inside and t is not first[0]:
                    return False
    after = end if end is not None else (seq[hi] if hi < len(seq) else None)
    nxt = seq[mid]
    source = _rotations(layout, first, varying, after)
    copies = [
        graph.new_block(list(first[source.get(p, p)].stmts), b.code, b.k)
        for p, b in enumerate(first)
    ]

    def mapped(t: Block | None) -> Block | None:
        if t is None or _terminal(t):
            return t
        j = layout.index[t.id]
        if j == mid:
            return after
        return copies[j - lo]

    for p, (b, c) in enumerate(zip(first, copies, strict=True)):
        jt, jf = layout.succ[b.id]
        c.jt, c.jf = mapped(jt), mapped(jf)
        if c.jt is None and b.jt is not None:
            return False  # pragma: no cover - an exit past the run with nothing after it
        if p in varying:
            root = membership(graph, sorted(varying[source.get(p, p)]), c.jt, c.jf)
            if root is c.jf:  # nothing left to test: the statements still run
                c.set_goto(c.jf)
            else:
                c.code, c.k, c.jt, c.jf = root.code, root.k, root.jt, root.jf
    for b in first:
        if b.jt is not None:
            if _resolve(b.jt) is nxt:
                b.jt = copies[0]
            if _resolve(b.jf) is nxt:
                b.jf = copies[0]
    return True


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    """Fold every qualifying chain; True when something changed."""
    if graph._next_id <= MIN_TERMS:  # fewer blocks than a chain has terms
        return False
    layout = _Layout(graph)
    seg = layout.cuts()
    if len(seg) < MIN_TERMS:
        return False
    bounds = seg + [len(layout.seq)]
    table: dict[tuple, int] = {}
    sigs = []
    for i in range(len(seg)):
        sig = _signature(layout, bounds[i], bounds[i + 1])
        sigs.append(-1 if sig is None else table.setdefault(sig, len(table)))
    changed = False
    for start, q, n in _runs(sigs):
        end = _extend(layout, bounds, start, q, n)
        if _fold(graph, layout, bounds, start, q, n + (end is not None), end):
            changed = True
    return changed
