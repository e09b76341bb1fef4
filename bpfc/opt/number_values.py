"""Pass: global value numbering, constant propagation and branch folding.

One forward sweep (see ``dataflow``) knows, on entry to every block, which value each
register holds on *all* paths.  A statement whose destination already holds its value
is dropped (a repeated load already succeeded on every path, so dropping it cannot
change a verdict); a load or ALU result already held elsewhere becomes a register
move; a constant result becomes an immediate; an indirect load at a known X becomes
absolute and an ALU/jump on a known X takes the constant.  A conditional jump whose
outcome the facts on entry decide becomes an unconditional edge, and ``ret a`` with a
known A becomes ``ret #k`` (on an edge into a ``ret a`` shared by paths where A
differs, the edge goes to a new ``ret #k`` when A is known on that edge).

Why it is safe: every rewrite computes the same value into the same register on every
path into the block, and a statement is only dropped or replaced by one that cannot
fail when the value it computes was already computed on every path (so a load it
replaces already succeeded).  A branch is folded only when its outcome is the same on
every path, so no path changes direction.  The rewrites change no state, so the
sweep's states stay those of the graph it leaves: running the pass again at once finds
nothing (it is idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.isa.insn import Class, Insn, MiscOp, Mode, RVal, Src
from bpfc.isa.opcodes import CLASS_MASK, JA, MODE_MASK, RVAL_MASK
from bpfc.opt.analyses import Analyses, topo_order
from bpfc.opt.dataflow import State, computed, decided, forward, out_edges
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import ABS_LOADS, NEGATIVE_OFF, WIDTH, A, Values, X, effect

_LD_IMM = Class.LD | Mode.IMM
_LDX_IMM = Class.LDX | Mode.IMM
_REG_MOVES = {Class.MISC | MiscOp.TAX, Class.MISC | MiscOp.TXA}
_MEM_LOADS = {Class.LD | Mode.MEM, Class.LDX | Mode.MEM}


_ALU, _LD, _LDX = int(Class.ALU), int(Class.LD), int(Class.LDX)
_IMM, _MEM = int(Mode.IMM), int(Mode.MEM)
_RVAL_A, _RET_K, _SRC_X = int(RVal.A), int(Class.RET | RVal.K), int(Src.X)
_RET_A = int(Class.RET | RVal.A)
_RET, _JMP, _JA = int(Class.RET), int(Class.JMP), JA


def _replaceable(ins: Insn) -> bool:
    """Loads from the packet/length and ALU ops: worth turning into a move."""
    code = ins.code
    cls = code & CLASS_MASK
    if cls == _ALU:
        return True
    if cls == _LD or cls == _LDX:
        return code & MODE_MASK not in (_IMM, _MEM)
    return False


def _kept_load(ins: Insn) -> bool:
    """An absolute packet load (``ld [x + k]`` at a known X comes out as one): kept as a
    load even when a register holds its value, as the ``ld [k]`` fast path in ``_rewrite``
    keeps it (``ip[19] >> 1 = 1 or ip[19] % 2 = 1``: a reload of ``[40]`` rather than
    ``st M[1]`` ... ``ld M[1]``, which ``promote_scratch`` makes ``tax`` ... ``txa``)."""
    code = ins.code
    return code in ABS_LOADS and ins.k < NEGATIVE_OFF


def _move(regs: list[int], dest: int, vn: int) -> Insn | None:
    """A register move producing ``vn`` in ``dest`` (A or X), if some register holds it."""
    if vn not in regs:  # the usual answer, found without the slot scan below
        return None
    if dest == A:
        if regs[X] == vn:
            return Insn(Class.MISC | MiscOp.TXA, 0, 0, 0)
        for slot in range(16):
            if regs[2 + slot] == vn:
                return Insn(Class.LD | Mode.MEM, 0, 0, slot)
    elif dest == X:
        if regs[A] == vn:
            return Insn(Class.MISC | MiscOp.TAX, 0, 0, 0)
        for slot in range(16):
            if regs[2 + slot] == vn:
                return Insn(Class.LDX | Mode.MEM, 0, 0, slot)
    return None


def _rewrite(
    vals: Values, block: Block, state: State
) -> tuple[list[Insn], list[int], int, dict, bool]:
    regs = list(state.regs)
    minlen = state.minlen
    facts = state.facts
    out: list[Insn] = []
    changed = False
    number = vals.number
    for i, ins in enumerate(block.stmts):
        code, _, _, k = ins
        size = ABS_LOADS.get(code)
        if size is not None and k < NEGATIVE_OFF:  # ``ld [k]``: the general case below, inlined
            vn = number(("ld", size, k))
            if regs[A] == vn:
                changed = True
                continue
            # kept as a load even when another register holds the value: a repeated load
            # cannot fail, costs what a move costs, and leaves that register free to die
            out.append(ins)
            regs[A] = vn
            end = k + WIDTH[size]
            if end > minlen:
                minlen = end
            continue
        dest, vn, pure, after, new = effect(vals, regs, minlen, ins, (block.id, i))
        if dest is not None and regs[dest] == vn:
            changed = True
            continue
        const = vals.const.get(vn)
        if const is not None and dest in (A, X) and pure:
            new = Insn(_LD_IMM if dest == A else _LDX_IMM, 0, 0, const)
        elif dest in (A, X) and _replaceable(ins) and not _kept_load(new):
            new = _move(regs, dest, vn) or new
        elif dest in (A, X) and ins.code in _MEM_LOADS:
            move = _move(regs, dest, vn)
            if move is not None and move.code in _REG_MOVES:
                new = move
        if new != ins:
            changed = True
        out.append(new)
        regs[dest] = vn
        minlen = after
        if not pure and vn not in facts:
            facts = computed(vals, facts, state.facts, vn)
    return out, regs, minlen, facts, changed


def _fold_terminator(vals: Values, block: Block, regs: Sequence[int], facts: dict) -> bool:
    """``ret a`` with A known becomes ``ret #k``, a jump on a known X takes the constant,
    and a jump the facts decide becomes an unconditional edge; ``regs`` are the registers
    after the block."""
    code = block.code
    const = vals.const
    if code & CLASS_MASK == _RET:
        if code & RVAL_MASK == _RVAL_A and regs[A] in const:
            block.code, block.k = _RET_K, const[regs[A]]
            return True
        return False
    if code & CLASS_MASK != _JMP or code == _JA:
        return False
    changed = False
    if code & _SRC_X and regs[X] in const:
        block.code, block.k = code & ~_SRC_X, const[regs[X]]
        changed = True
    taken = decided(vals, regs, facts, block.code, block.k)
    if taken is not None or block.jt is block.jf:
        block.set_goto(block.jt if taken in (True, None) else block.jf)
        changed = True
    return changed


def _visit(vals: Values, block: Block, state: State) -> tuple[bool, State]:
    """Rewrite ``block`` given the state on entry; (changed, the state after its statements)."""
    changed = False
    if block.stmts:
        stmts, regs, minlen, facts, touched = _rewrite(vals, block, state)
        if touched:
            block.stmts = stmts
            changed = True
        after = State(tuple(regs), facts, minlen)
    else:
        after = state
    if _fold_terminator(vals, block, after.regs, after.facts):
        changed = True
    return changed, after


def _return_constants(graph: Graph, vals: Values, block: Block, edges: list) -> bool:
    """Send each edge into a bare ``ret a`` on which A is a known constant c to a new
    ``ret #c`` instead; True if one moved.

    ``_fold_terminator`` folds a ``ret a`` whose A is known on every path into it; a
    ``ret a`` shared by paths on which A differs keeps its ``ret a``, yet emission gives
    each jump to a lone ``ret`` its own copy (``linearize``), where each copy's A is
    known again.  Folding per edge finds here what optimizing the output again would
    (``optimize(optimize(p)) == optimize(p)``); ``merge_blocks`` shares the new returns.
    """
    changed = False
    for n, (succ, state) in enumerate(edges):
        if succ.code != _RET_A or succ.stmts:
            continue
        value = vals.const.get(state.regs[A])
        if value is None:
            continue
        target = graph.new_block([], _RET_K, value)
        block.redirect(n, len(edges), succ, target)
        edges[n] = (target, state)
        changed = True
    return changed


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    vals = Values()
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        touched, after = _visit(vals, block, state)
        if touched:
            changed = True
        if block.jt is None:
            return []
        edges = out_edges(vals, block, after)
        if _return_constants(graph, vals, block, edges):
            changed = True
        return edges

    # a folded branch only drops an edge: the order still covers and orders the graph
    forward(graph, Analyses.of(graph, analyses).get(topo_order), vals, visit)
    return changed
