"""Pass: global value numbering, constant propagation and branch folding.

One forward sweep (see ``dataflow``) knows, on entry to every block, which value each
register holds on *all* paths.  A statement whose destination already holds its value
is dropped (a repeated load already succeeded on every path, so dropping it cannot
change a verdict); a load or ALU result already held elsewhere becomes a register
move; a constant result becomes an immediate; an indirect load at a known X becomes
absolute and an ALU/jump on a known X takes the constant.  A conditional jump whose
outcome the facts on entry decide becomes an unconditional edge, and ``ret a`` with a
known A becomes ``ret #k``.

None of these rewrites changes a state, so on a graph no pass changed since the last
sweep the pass reuses that sweep's entry states (``sweeps``), and the sweep stays valid
for the rewritten graph.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.isa.insn import AluOp, Class, Insn, MiscOp, Mode, RVal, Src
from bpfc.isa.opcodes import CLASS_MASK, CLASS_RVAL_MASK, JA, MODE_MASK, RVAL_MASK
from bpfc.opt.dataflow import State, decided, forward, out_edges, run_block
from bpfc.opt.graph import Block, Graph
from bpfc.opt.sweeps import Edges, Sweep, recall, recording, remember, worth_keeping
from bpfc.opt.values import ABS_LOADS, NEGATIVE_OFF, WIDTH, A, Values, X, effect

_LD_IMM = Class.LD | Mode.IMM
_LDX_IMM = Class.LDX | Mode.IMM
_REG_MOVES = {Class.MISC | MiscOp.TAX, Class.MISC | MiscOp.TXA}
_MEM_LOADS = {Class.LD | Mode.MEM, Class.LDX | Mode.MEM}


_ALU, _LD, _LDX = int(Class.ALU), int(Class.LD), int(Class.LDX)
_IMM, _MEM = int(Mode.IMM), int(Mode.MEM)
_RVAL_A, _RET_K, _SRC_X = int(RVal.A), int(Class.RET | RVal.K), int(Src.X)
_RET, _JMP, _JA = int(Class.RET), int(Class.JMP), JA
_MASKED = ("alu", int(AluOp.AND))  # the start of a ``v & m`` value's key


def _replaceable(ins: Insn) -> bool:
    """Loads from the packet/length and ALU ops: worth turning into a move."""
    code = ins.code
    cls = code & CLASS_MASK
    if cls == _ALU:
        return True
    if cls == _LD or cls == _LDX:
        return code & MODE_MASK not in (_IMM, _MEM)
    return False


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


def _rewrite(vals: Values, block: Block, state: State) -> tuple[list[Insn], list[int], int, bool]:
    regs = list(state.regs)
    minlen = state.minlen
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
        elif dest in (A, X) and _replaceable(ins):
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
    return out, regs, minlen, changed


def rewritten(vals: Values, block: Block, state: State) -> tuple[State, list[Insn] | None]:
    """The state after ``block``'s statements and, when this pass would rewrite them, the
    new statements (None otherwise); the block itself is left as it is.

    ``thread_jumps`` calls this instead of ``run_block`` in its sweep and keeps the new
    statements with the sweep (``Sweep.rewrites``): the rewrites never change a state, so
    this pass, run next on the unchanged graph, only has to install them.
    """
    stmts = block.stmts
    if not stmts:
        return state, None
    minlen = state.minlen
    if len(stmts) == 1:  # most blocks are one ``ld [k]`` in front of a test: ``run_block``'s path
        code, _, _, k = stmts[0]
        size = ABS_LOADS.get(code)
        if size is not None and k < NEGATIVE_OFF:
            vn = vals.number(("ld", size, k))
            regs = state.regs
            end = k + WIDTH[size]
            after = State((vn,) + regs[1:], state.facts, end if end > minlen else minlen)
            if regs[A] == vn:
                return after, []
            return after, None  # ``_rewrite`` keeps a load (see there)
    new, regs, minlen, touched = _rewrite(vals, block, state)
    return State(tuple(regs), state.facts, minlen), new if touched else None


def _fold_terminator(
    vals: Values, block: Block, regs: Sequence[int], facts: dict, undecided: bool = False
) -> bool:
    """``ret a`` with A known becomes ``ret #k``, a jump on a known X takes the constant,
    and a jump the facts decide becomes an unconditional edge; ``regs`` are the registers
    after the block.  ``undecided``: a sweep already followed both edges, so only a masked
    value (``v & m``, whose facts ``decided`` derives from v's) may still be decided."""
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
    if undecided and vals.keys[regs[A]][:2] != _MASKED and block.jt is not block.jf:
        return changed
    taken = decided(vals, regs, facts, block.code, block.k)
    if taken is not None or block.jt is block.jf:
        block.set_goto(block.jt if taken in (True, None) else block.jf)
        changed = True
    return changed


def _visit(vals: Values, block: Block, state: State) -> tuple[bool, Sequence[int], int]:
    """Rewrite ``block`` given the state on entry; (changed, registers and length after)."""
    changed = False
    if block.stmts:
        stmts, regs, minlen, touched = _rewrite(vals, block, state)
        if touched:
            block.stmts = stmts
            changed = True
    else:
        regs, minlen = state.regs, state.minlen
    if _fold_terminator(vals, block, regs, state.facts):
        changed = True
    return changed, regs, minlen


def _install(vals: Values, sweep: Sweep, rewrites: dict[int, list[Insn]]) -> bool:
    """``_visit`` over a sweep whose statement rewrites are known: install them, then fold
    terminators with the registers after each block (read from its recorded out edges)."""
    changed = False
    entries, edges = sweep.entries, sweep.edges
    for block in sweep.order:
        state = entries.get(block.id)
        if state is None:
            continue
        new = rewrites.get(block.id)
        if new is not None:
            block.stmts = new
            changed = True
        out = edges.get(block.id)
        if out:  # every edge carries the registers after the block
            if _fold_terminator(vals, block, out[0][1].regs, state.facts, len(out) == 2):
                changed = True
        elif (
            block.code & CLASS_RVAL_MASK == _RET | _RVAL_A
        ):  # ``ret a`` (rare): work the registers out
            if _fold_terminator(vals, block, run_block(vals, block, state).regs, state.facts):
                changed = True
    return changed


def run(graph: Graph) -> bool:
    sweep = recall(graph)
    if sweep is not None and sweep.settled:
        # the graph is this pass's own output, untouched since: rewriting it again with
        # the same states finds nothing (every rewrite's result rewrites to itself)
        return False
    if sweep is not None:
        # Nothing changed since the last sweep, so its entry states are this graph's.  They
        # stay valid after the rewrites below: those keep every register's value (and the
        # proven length) and only drop branch edges the states already never followed.
        changed = False
        vals, entries = sweep.vals, sweep.entries
        rewrites = sweep.rewrites
        if rewrites is not None:  # worked out already by ``thread_jumps``' sweep
            changed = _install(vals, sweep, rewrites)
        else:
            for block in sweep.order:
                state = entries.get(block.id)
                if state is not None and _visit(vals, block, state)[0]:
                    changed = True
        if changed:  # the old order still covers (and orders) every reachable block
            sweep.stamp(graph, sweep.order)
        sweep.settled = True
        return changed

    vals = Values()
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        touched, regs, minlen = _visit(vals, block, state)
        if touched:
            changed = True
        if block.jt is None:
            return []
        after = state if regs is state.regs else State(tuple(regs), state.facts, minlen)
        return out_edges(vals, block, after)

    order = graph.order()
    if not worth_keeping(order):
        forward(graph, order, vals, visit)
        return changed
    entries: dict[int, State] = {}
    edges: dict[int, Edges] = {}
    forward(graph, order, vals, recording(entries, edges, visit))
    # decided branches only drop edges: ``order`` still covers and orders the graph
    sweep = Sweep(graph, order, vals, entries, edges)
    sweep.settled = True
    remember(sweep, graph)
    return changed
