"""What libpcap master's optimizer proves about a program: whether it refuses the filter.

libpcap refuses a filter, after optimizing it, when its optimizer reduces the whole program
to ``ret #0`` ("expression rejects all packets"), and while optimizing when a constant it
folds is a division or modulus by zero or a shift by more than 31 bits.  bpfc's own
optimizer (``bpfc.opt.manager``) is stronger and shaped differently: it proves more
programs constant-false than master does, and a few the other way round; it folds
constants by its own rules.  Deciding accept/reject by bpfc's optimizer therefore refuses
filters master compiles, and compiles filters master refuses.

So the decision is taken here by a model of master's optimizer, run on the unoptimized
control-flow graph (which equals master's: the unoptimized listings are byte-identical).
The model replays the algorithm of master's ``optimize.c``, written from its description
rather than its code: levels and dominators, block and edge dominators, use/def sets,
hash-consed value numbering with constant folding and its refusals, the peephole rules,
dead-store removal, jump threading along edge dominators (``fold_edge``/``opt_j``), the
``or``/``and`` pull-ups, the two fixed-point loops (branches only, then statements too,
each giving up after 100 rounds of nothing but branch movement), block interning and the
root's jump chain.  Every order the result depends on (block numbers in depth-first
preorder, edge numbers, the level lists, the order of in-edges) is master's, because a
different order can end in a different fixed point.  ``master_refusal`` answers "refused,
with which message" or "compiled" for bpfc's default mode, whose program is still its own
optimizer's; ``master_optimized`` hands the final graph itself to
``bpfc.opt.libpcap_layout``, which lays it out as master does (``optimizer="libpcap"``:
byte-identical to master on every corpus and upstream case).

Master skips its optimizer (and so every refusal it makes) once its code generator has
produced a jump inside a block's statements that the optimizer cannot follow:
``protochain``'s loop, Geneve's offsets, the 802.11 header-length prologue (the code
generator sets ``extra["no_optimize"]``, even where a constant operand drops the code
again), and for the outermost link type ``PRISM_HEADER`` (its prologue generator always
sets the flag).  The Linux ``vlan`` test's inner jumps do not: master optimizes those
graphs, reading such a jump as one more statement, and so does the model.

Why a model and not a rule: the differences are of several kinds (master folds ``0 / x``
to 0; it threads jumps along edge dominators computed before its peephole swapped a
``jset``'s targets, and so "proves" ``outbound and outbound`` false on Juniper links; it
refuses what it folds to a shift by X >= 32; bpfc's optimizer proves many filters false
that master's keeps), and only replaying master's fixed point tells which filters fall
on which side.  Checked against master itself on every generated expression of the
front-end differential (17,560 programs at seed 17: all agree).

The model is only run where it can change the answer: ``bpfc.compiler`` asks it when
bpfc itself would refuse and where :func:`worth_asking` finds what master alone may
refuse, since it costs about as much as a compile on small graphs and grows with
master's quadratic pull-ups (``MAX_BLOCKS`` caps it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfc.cfg import InnerJump
from bpfc.errors import REJECTS_ALL
from bpfc.isa.arith import shift
from bpfc.isa.insn import AluOp, Class, JmpOp, Mode, Src
from bpfc.isa.opcodes import (
    ABS_LOADS,
    BPF_MEMWORDS,
    CLASS_MASK,
    IND_LOADS,
    JA,
    LD_IMM,
    LD_LEN,
    LD_MEM,
    LDX_IMM,
    LDX_MEM,
    LDX_MSH,
    MODE_MASK,
    NEG,
    OP_MASK,
    RET_A,
    RET_K,
    RVAL_MASK,
    SIZE_MASK,
    SRC_MASK,
    ST,
    STX,
    TAX,
    TXA,
)

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.cfg import Block

__all__ = [
    "DLT_PRISM_HEADER",
    "MAX_BLOCKS",
    "Undecided",
    "Refusal",
    "master_optimized",
    "master_refusal",
    "worth_asking",
]

DLT_PRISM_HEADER = 119

NOP = -1
A_ATOM = BPF_MEMWORDS
X_ATOM = BPF_MEMWORDS + 1
N_ATOMS = BPF_MEMWORDS + 2
AX_ATOM = N_ATOMS
"""Register numbers of the use/def sets: scratch words 0..15, A, X; AX is "A and X"."""

MASK32 = 0xFFFFFFFF
BRANCH_ONLY_LIMIT = 100
"""Master's loop detection: rounds in a row with nothing but branch movement."""
ROUND_LIMIT = 100_000
"""A cap of our own on all rounds (master has none): beyond it the model gives up."""

_JMP, _RET, _ALU = int(Class.JMP), int(Class.RET), int(Class.ALU)
_LD, _LDX = int(Class.LD), int(Class.LDX)
_K, _X = int(Src.K), int(Src.X)
_IMM, _IND, _MEM = int(Mode.IMM), int(Mode.IND), int(Mode.MEM)
_ABS_LOADS = frozenset(int(c) for c in ABS_LOADS)
_IND_LOADS = frozenset(int(c) for c in IND_LOADS)
_JEQ_K = int(Class.JMP | JmpOp.JEQ | Src.K)
_JSET_K = int(Class.JMP | JmpOp.JSET | Src.K)
_ADD, _SUB, _MUL, _DIV = int(AluOp.ADD), int(AluOp.SUB), int(AluOp.MUL), int(AluOp.DIV)
_OR, _AND, _LSH, _RSH = int(AluOp.OR), int(AluOp.AND), int(AluOp.LSH), int(AluOp.RSH)
_MOD, _XOR = int(AluOp.MOD), int(AluOp.XOR)
_ALU_ADD_X = int(Class.ALU | AluOp.ADD | Src.X)
_ALU_SUB_X = int(Class.ALU | AluOp.SUB | Src.X)
_ALU_SUB_K = int(Class.ALU | AluOp.SUB | Src.K)
_ALU_AND_K = int(Class.ALU | AluOp.AND | Src.K)
_FOLDING_OPS = frozenset({_DIV, _MOD, _LSH, _RSH})


class Refusal(Exception):
    """Master's optimizer stops with this message (``opt_error``)."""


class _GiveUp(Exception):
    """The model's own round cap was reached: no verdict."""


class _Edge:
    __slots__ = ("id", "pred", "succ", "code", "edom")

    def __init__(self, pred: _Node) -> None:
        self.id = 0
        self.pred = pred
        self.succ: _Node | None = None
        self.code = 0
        self.edom = -1


class _Node:
    """One block of master's graph with the optimizer's per-block state."""

    __slots__ = (
        "id",
        "stmts",
        "code",
        "k",
        "et",
        "ef",
        "level",
        "dom",
        "val",
        "oval",
        "in_edges",
        "defs",
        "kill",
        "in_use",
        "out_use",
        "link",
        "inner",
    )

    def __init__(self, stmts: list[list[int]], code: int, k: int) -> None:
        self.id = 0
        self.stmts = stmts  # [code, k] pairs; code NOP when deleted; [] is "no list"
        self.inner: dict[int, tuple[int, int]] = {}
        """Conditional jumps among the statements: index -> (jt index, jf index)."""
        self.code = code
        self.k = k
        self.et = _Edge(self)
        self.ef = _Edge(self)
        self.level = 0
        self.dom = -1
        self.val = [0] * N_ATOMS
        self.oval = 0
        self.in_edges: list[_Edge] = []  # master's list is this one reversed
        self.defs = self.kill = self.in_use = self.out_use = 0
        self.link: _Node | None = None

    @property
    def jt(self) -> _Node | None:
        return self.et.succ

    @property
    def jf(self) -> _Node | None:
        return self.ef.succ


def _atomuse(code: int, k: int) -> int:
    """The register a statement reads (AX_ATOM: both A and X), -1 for none."""
    if code == NOP:
        return -1
    cls = code & CLASS_MASK
    if cls == _RET:
        return A_ATOM if code & RVAL_MASK == RET_A & RVAL_MASK else -1
    if cls in (_LD, _LDX):
        mode = code & MODE_MASK
        return X_ATOM if mode == _IND else k if mode == _MEM else -1
    if cls == int(Class.ST):
        return A_ATOM
    if cls == int(Class.STX):
        return X_ATOM
    if cls in (_JMP, _ALU):
        return AX_ATOM if code & SRC_MASK == _X else A_ATOM
    return X_ATOM if code == TXA else A_ATOM  # misc


def _atomdef(code: int, k: int) -> int:
    """The register a statement writes, -1 for none."""
    if code == NOP:
        return -1
    cls = code & CLASS_MASK
    if cls in (_LD, _ALU):
        return A_ATOM
    if cls == _LDX:
        return X_ATOM
    if cls in (int(Class.ST), int(Class.STX)):
        return k
    if cls == int(Class.MISC):
        return X_ATOM if code == TAX else A_ATOM
    return -1


class _Model:
    """Master's optimizer state over one graph (``opt_state_t``)."""

    def __init__(self, root: _Node) -> None:
        self.root = root
        self.blocks = self._number(root)
        n = len(self.blocks)
        self.edges: list[_Edge] = [b.et for b in self.blocks] + [b.ef for b in self.blocks]
        for i, b in enumerate(self.blocks):
            b.et.id, b.ef.id = i, n + i
        self.levels: list[list[_Node]] = []
        self.order: list[_Node] = []
        self.done = True
        self.moved_only = True  # no change this round but branch movement
        self.values: dict[tuple[int, int, int], int] = {}
        self.consts: dict[int, int] = {}
        self.rounds = 0
        self.dom_stale = False

    # --- numbering, levels, dominators, use/def ---------------------------------

    @staticmethod
    def _number(root: _Node) -> list[_Node]:
        """Blocks in depth-first preorder, true side first (``number_blks_r``)."""
        order: list[_Node] = []
        seen: set[int] = set()
        stack = [root]
        while stack:
            b = stack.pop()
            if id(b) in seen:
                continue
            seen.add(id(b))
            b.id = len(order)
            order.append(b)
            if b.et.succ is not None:
                stack.append(b.ef.succ)  # type: ignore[arg-type]
                stack.append(b.et.succ)
        return order

    def find_levels(self) -> None:
        """Level 0 at the leaves; each level's list in master's order (last finished
        first: ``find_levels_r`` pushes a block on its list after both children)."""
        levels: list[list[_Node]] = []
        seen = {id(self.root)}
        stack: list[list] = [[self.root, 0]]
        while stack:
            top = stack[-1]
            b, phase = top
            if phase < 2 and b.et.succ is not None:
                top[1] += 1
                child = b.et.succ if phase == 0 else b.ef.succ
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append([child, 0])
                continue
            stack.pop()
            b.link = None
            b.level = 0 if b.et.succ is None else max(b.et.succ.level, b.ef.succ.level) + 1
            while len(levels) <= b.level:
                levels.append([])
            levels[b.level].append(b)
        for row in levels:
            row.reverse()
        self.levels = levels
        self.order = [b for level in range(self.root.level, -1, -1) for b in levels[level]]

    def top_down(self) -> list[_Node]:
        """The blocks of levels root.level down to 0, in master's order (this round's
        levels: pull-ups move blocks without master recomputing them)."""
        return self.order

    def find_dom(self) -> None:
        """Block dominators, over this round's levels (as master does after a pull-up too,
        though the pull-up moved blocks between levels)."""
        self.dom_stale = False
        for b in self.blocks:
            b.dom = -1
        self.root.dom = 0
        for b in self.order:
            dom = b.dom = b.dom | 1 << b.id
            jt = b.et.succ
            if jt is not None:
                jt.dom &= dom
                b.ef.succ.dom &= dom  # type: ignore[union-attr]

    def dominates(self, b: _Node, d: _Node) -> bool:
        """Whether ``b`` dominates ``d``; dominators are recomputed after a pull-up only
        when next asked for (master recomputes them at once: the same sets)."""
        if self.dom_stale:
            self.find_dom()
        return bool(d.dom >> b.id & 1)

    def find_edom(self) -> None:
        for e in self.edges:
            e.edom = -1
        self.root.et.edom = self.root.ef.edom = 0
        for b in self.top_down():
            for e in (b.et, b.ef):
                e.edom |= 1 << e.id
                if e.succ is not None:
                    e.succ.et.edom &= e.edom
                    e.succ.ef.edom &= e.edom

    @staticmethod
    def _local_ud(b: _Node) -> None:
        defs = use = killed = 0

        def used(atom: int) -> None:
            nonlocal use
            if atom == AX_ATOM:
                for a in (X_ATOM, A_ATOM):
                    if not defs >> a & 1:
                        use |= 1 << a
            elif atom >= 0 and not defs >> atom & 1:
                use |= 1 << atom

        for code, k in b.stmts:
            if code == NOP:
                continue
            used(_atomuse(code, k))
            atom = _atomdef(code, k)
            if atom >= 0:
                if not use >> atom & 1:
                    killed |= 1 << atom
                defs |= 1 << atom
        if b.code & CLASS_MASK == _JMP:
            used(_atomuse(b.code, b.k))
        b.defs, b.kill, b.in_use = defs, killed, use

    def find_ud(self) -> None:
        for b in self.top_down():
            self._local_ud(b)
            b.out_use = 0
        for level in range(1, self.root.level + 1):
            for b in self.levels[level]:
                b.out_use |= b.et.succ.in_use | b.ef.succ.in_use  # type: ignore[union-attr]
                b.in_use |= b.out_use & ~b.kill

    def find_inedges(self) -> None:
        for b in self.blocks:
            b.in_edges = []
        for level in range(self.root.level, 0, -1):
            for b in self.levels[level]:
                b.et.succ.in_edges.append(b.et)  # type: ignore[union-attr]
                b.ef.succ.in_edges.append(b.ef)  # type: ignore[union-attr]

    # --- value numbering and statements -----------------------------------------

    def value(self, code: int, v0: int, v1: int) -> int:
        """The value number of ``code(v0, v1)`` (``F``): equal operations, equal numbers."""
        key = (code, v0, v1)
        val = self.values.get(key)
        if val is None:
            val = self.values[key] = len(self.values) + 1  # 0 is "unknown"
            cls = code & CLASS_MASK
            if code & MODE_MASK == _IMM and cls in (_LD, _LDX):
                self.consts[val] = v0
        return val

    def const(self, k: int) -> int:
        return self.value(LD_IMM, k & MASK32, 0)

    def changed(self) -> None:
        self.done = False
        self.moved_only = False

    @staticmethod
    def store(s: list[int] | None, vals: list[int], atom: int, new: int, alter: bool) -> None:
        """``vstore``: a statement that reloads the value already there is deleted."""
        if alter and new and vals[atom] == new and s is not None:
            s[0] = NOP
        else:
            vals[atom] = new

    def fold(self, s: list[int], v0: int, v1: int) -> None:
        """Constant-fold ``s`` over the constants numbered v0 and v1 (``fold_op``)."""
        a, b = self.consts.get(v0, 0), self.consts.get(v1, 0)
        op = s[0] & OP_MASK
        if op == _DIV or op == _MOD:
            if b == 0:
                raise Refusal("division by zero" if op == _DIV else "modulus by zero")
            a = a // b if op == _DIV else a % b
        else:
            a = fold_constant(op, a, b)
        s[0], s[1] = LD_IMM, a & MASK32
        self.changed()

    def opt_stmt(self, s: list[int], vals: list[int], alter: bool) -> None:
        code, k = s
        consts = self.consts
        if code in _ABS_LOADS:
            self.store(s, vals, A_ATOM, self.value(code, k, 0), alter)
        elif code in _IND_LOADS:
            v = vals[X_ATOM]
            if alter and v in consts:
                s[0] = _LD | (code & SIZE_MASK) | int(Mode.ABS)
                s[1] = (k + consts[v]) & MASK32
                v = self.value(s[0], s[1], 0)
                self.changed()
            else:
                v = self.value(code, k, v)
            self.store(s, vals, A_ATOM, v, alter)
        elif code == LD_LEN:
            self.store(s, vals, A_ATOM, self.value(code, 0, 0), alter)
        elif code == LD_IMM:
            self.store(s, vals, A_ATOM, self.const(k), alter)
        elif code == LDX_IMM:
            self.store(s, vals, X_ATOM, self.const(k), alter)
        elif code == LDX_MSH:
            self.store(s, vals, X_ATOM, self.value(code, k, 0), alter)
        elif code == NEG:
            if alter and vals[A_ATOM] in consts:
                s[0], s[1] = LD_IMM, -consts[vals[A_ATOM]] & MASK32
                vals[A_ATOM] = self.const(s[1])
            else:
                vals[A_ATOM] = self.value(code, vals[A_ATOM], 0)
        elif code & CLASS_MASK == _ALU and code & SRC_MASK == _K:
            self._alu_k(s, vals, alter)
        elif code & CLASS_MASK == _ALU:
            self._alu_x(s, vals, alter)
        elif code == TXA:
            self.store(s, vals, A_ATOM, vals[X_ATOM], alter)
        elif code in (LD_MEM, LDX_MEM):
            atom = A_ATOM if code == LD_MEM else X_ATOM
            v = vals[k]
            if alter and v in consts:
                s[0], s[1] = (LD_IMM if code == LD_MEM else LDX_IMM), consts[v]
                self.changed()
            self.store(s, vals, atom, v, alter)
        elif code == TAX:
            self.store(s, vals, X_ATOM, vals[A_ATOM], alter)
        elif code == ST:
            self.store(s, vals, k, vals[A_ATOM], alter)
        elif code == STX:
            self.store(s, vals, k, vals[X_ATOM], alter)
        # anything else (ldx len, ...) leaves the values as they are, as in master

    def _alu_k(self, s: list[int], vals: list[int], alter: bool) -> None:
        op = s[0] & OP_MASK
        if alter:
            if s[1] == 0:
                if op in (_ADD, _LSH, _RSH, _OR, _XOR):
                    s[0] = NOP
                    return
                if op in (_MUL, _AND):
                    s[0] = LD_IMM
                    vals[A_ATOM] = self.const(0)
                    return
                if op == _DIV:
                    raise Refusal("division by zero")
                if op == _MOD:
                    raise Refusal("modulus by zero")
            if vals[A_ATOM] in self.consts:
                self.fold(s, vals[A_ATOM], self.const(s[1]))
                vals[A_ATOM] = self.const(s[1])
                return
        vals[A_ATOM] = self.value(s[0], vals[A_ATOM], self.const(s[1]))

    def _alu_x(self, s: list[int], vals: list[int], alter: bool) -> None:
        op = s[0] & OP_MASK
        consts = self.consts
        if alter and vals[X_ATOM] in consts:
            if vals[A_ATOM] in consts:
                self.fold(s, vals[A_ATOM], vals[X_ATOM])
                vals[A_ATOM] = self.const(s[1])
            else:
                s[0], s[1] = _ALU | _K | op, consts[vals[X_ATOM]]
                if op in (_LSH, _RSH) and s[1] > 31:
                    raise Refusal("shift by more than 31 bits")
                self.changed()
                vals[A_ATOM] = self.value(s[0], vals[A_ATOM], self.const(s[1]))
            return
        if alter and consts.get(vals[A_ATOM], 1) == 0:
            if op in (_ADD, _OR, _XOR):
                s[0] = TXA
                self.store(s, vals, A_ATOM, vals[X_ATOM], alter)
                return
            if op in (_MUL, _DIV, _MOD, _AND, _LSH, _RSH):
                s[0], s[1] = LD_IMM, 0
                self.store(s, vals, A_ATOM, self.const(0), alter)
                return
        vals[A_ATOM] = self.value(s[0], vals[A_ATOM], vals[X_ATOM])

    # --- one block ----------------------------------------------------------------

    def opt_peep(self, b: _Node) -> None:
        stmts = b.stmts
        if not stmts:
            return
        last = stmts[0]
        real = self._real
        i = real(stmts, 0)
        while i is not None:
            j = real(stmts, i + 1)
            if j is None:
                break
            s, nxt = stmts[i], stmts[j]
            last = nxt
            if s[0] == ST and nxt[0] == LDX_MEM and s[1] == nxt[1]:
                nxt[0] = TAX
                self.changed()
            if s[0] == LD_IMM and nxt[0] == TAX:
                s[0], nxt[0] = LDX_IMM, TXA
                self.changed()
            if s[0] == LD_IMM and not b.out_use >> X_ATOM & 1:
                self._fold_index(stmts, i, j)
            i = real(stmts, j)
        self._peep_jump(b, last)

    def _fold_index(self, stmts: list[list[int]], i: int, j: int) -> None:
        """``ld #k; [ldxb 4*([n]&0xf);] add x; tax; ld [x + m]`` -> ``[ldxb ...;] ld
        [x + m + k]`` (the ``tcp[k]`` idiom)."""
        add = j if stmts[j][0] != LDX_MSH else self._real(stmts, j + 1)
        if add is None or stmts[add][0] != _ALU_ADD_X:
            return
        tax = self._real(stmts, add + 1)
        if tax is None or stmts[tax][0] != TAX:
            return
        ild = self._real(stmts, tax + 1)
        if ild is None or stmts[ild][0] not in _IND_LOADS:
            return
        stmts[ild][1] = (stmts[ild][1] + stmts[i][1]) & MASK32
        stmts[i][0] = stmts[add][0] = stmts[tax][0] = NOP
        self.changed()

    @staticmethod
    def _real(stmts: list[list[int]], j: int) -> int | None:
        """The index of the first statement at or after ``j`` not deleted (``this_op``)."""
        while j < len(stmts) and stmts[j][0] == NOP:
            j += 1
        return j if j < len(stmts) else None

    def _peep_jump(self, b: _Node, last: list[int]) -> None:
        consts = self.consts
        if b.code == _JEQ_K and not b.out_use >> A_ATOM & 1:
            if last[0] == _ALU_SUB_X:
                val = b.val[X_ATOM]
                if val in consts:
                    b.k = (b.k + consts[val]) & MASK32
                    last[0] = NOP
                    self.changed()
                elif b.k == 0:
                    last[0] = NOP
                    b.code = int(Class.JMP | JmpOp.JEQ | Src.X)
                    self.changed()
            elif last[0] == _ALU_SUB_K:
                last[0] = NOP
                b.k = (b.k + last[1]) & MASK32
                self.changed()
            elif last[0] == _ALU_AND_K and b.k == 0:
                b.k, b.code = last[1], _JSET_K
                last[0] = NOP
                self.changed()
                b.et.succ, b.ef.succ = b.ef.succ, b.et.succ
        if b.code == _JSET_K:
            if b.k == 0:
                b.et.succ = b.ef.succ
            elif b.k == MASK32:
                b.code, b.k = _JEQ_K, 0
                b.et.succ, b.ef.succ = b.ef.succ, b.et.succ
                self.changed()
        val = b.val[X_ATOM]
        if val in consts and b.code & SRC_MASK == _X:
            b.code &= ~_X
            b.k = consts[val]
        val = b.val[A_ATOM]
        if val in consts and b.code & SRC_MASK == _K:
            v, op = consts[val], b.code & OP_MASK
            if op == int(JmpOp.JEQ):
                taken = v == b.k
            elif op == int(JmpOp.JGT):
                taken = v > b.k
            elif op == int(JmpOp.JGE):
                taken = v >= b.k
            else:  # jset; master aborts on anything else (a ret block never gets here
                taken = bool(v & b.k)  # with a constant A: its statements are gone)
            if b.ef.succ is not b.et.succ:
                self.changed()
            if taken:
                b.ef.succ = b.et.succ
            else:
                b.et.succ = b.ef.succ

    def opt_deadstores(self, b: _Node) -> None:
        last: list[list[int] | None] = [None] * N_ATOMS

        def dead(code: int, k: int, s: list[int] | None) -> None:
            atom = _atomuse(code, k)
            if atom == AX_ATOM:
                last[X_ATOM] = last[A_ATOM] = None
            elif atom >= 0:
                last[atom] = None
            atom = _atomdef(code, k)
            if atom >= 0:
                prev = last[atom]
                if prev is not None:
                    prev[0] = NOP
                    self.changed()
                last[atom] = s

        for s in b.stmts:
            dead(s[0], s[1], s)
        dead(b.code, b.k, None)
        for atom in range(N_ATOMS):
            s = last[atom]
            if s is not None and not b.out_use >> atom & 1:
                s[0] = NOP
                b.val[atom] = 0
                self.changed()

    def opt_blk(self, b: _Node, do_stmts: bool) -> None:
        edges = b.in_edges
        if not edges:
            b.val = [0] * N_ATOMS
        else:
            vals = list(edges[-1].pred.val)
            for e in edges[:-1]:
                other = e.pred.val
                for i in range(N_ATOMS):
                    if vals[i] != other[i]:
                        vals[i] = 0
            b.val = vals
        aval, xval = b.val[A_ATOM], b.val[X_ATOM]
        for s in b.stmts:
            self.opt_stmt(s, b.val, do_stmts)
        if do_stmts and (
            (b.out_use == 0 and aval and b.val[A_ATOM] == aval and xval and b.val[X_ATOM] == xval)
            or b.code & CLASS_MASK == _RET
        ):
            if b.stmts:
                b.stmts = []
                self.changed()
        else:
            self.opt_peep(b)
            self.opt_deadstores(b)
        b.oval = self.const(b.k) if b.code & SRC_MASK == _K else b.val[X_ATOM]
        b.et.code, b.ef.code = b.code, -b.code

    # --- branches -----------------------------------------------------------------

    @staticmethod
    def use_conflict(b: _Node, succ: _Node) -> bool:
        use = succ.out_use
        if not use:
            return False
        return any(use >> a & 1 and b.val[a] != succ.val[a] for a in range(N_ATOMS))

    @staticmethod
    def fold_edge(child: _Node, ep: _Edge) -> _Node | None:
        """A child of ``child`` that an edge dominated by ``ep`` may go to directly."""
        code, sense = (-ep.code, False) if ep.code < 0 else (ep.code, True)
        if child.code != code:
            return None
        if child.val[A_ATOM] != ep.pred.val[A_ATOM]:
            return None
        if child.oval == ep.pred.oval:
            return child.et.succ if sense else child.ef.succ
        if sense and code == _JEQ_K:
            return child.ef.succ
        return None

    def opt_j(self, ep: _Edge) -> None:
        succ = ep.succ
        assert succ is not None
        if succ.et.succ is None:
            return
        if succ.et.succ is succ.ef.succ and not self.use_conflict(ep.pred, succ.et.succ):
            self.changed()
            ep.succ = succ.et.succ
        edges = self.edges
        for _ in range(len(self.blocks) + 2):  # each restart moves the edge down a level
            x = ep.edom
            moved = False
            while x:
                low = x & -x
                x ^= low
                target = self.fold_edge(ep.succ, edges[low.bit_length() - 1])  # type: ignore[arg-type]
                if target is not None and not self.use_conflict(ep.pred, target):
                    self.done = False
                    ep.succ = target
                    if target.et.succ is None:
                        return
                    moved = True
                    break
            if not moved:
                return
        raise _GiveUp

    def pullup(self, b: _Node, along_false: bool) -> None:
        """``or_pullup`` (along_false: chains of false edges sharing b's true target) or
        ``and_pullup`` (the mirror image)."""
        edges = b.in_edges
        if not edges:
            return
        first = edges[-1].pred
        val = first.val[A_ATOM]
        if any(e.pred.val[A_ATOM] != val for e in edges):
            return
        chain, same = ("ef", "et") if along_false else ("et", "ef")
        target = getattr(b, same).succ

        def get(ref: tuple[_Node, str]) -> _Node | None:
            return getattr(ref[0], ref[1]).succ

        def put(ref: tuple[_Node, str], node: _Node | None) -> None:
            getattr(ref[0], ref[1]).succ = node

        diffp = (first, "et" if first.et.succ is b else "ef")
        at_top = True
        while True:
            d = get(diffp)
            if d is None or getattr(d, same).succ is not target or not self.dominates(b, d):
                return
            if d.val[A_ATOM] != val:
                break
            diffp = (d, chain)
            at_top = False
        samep = (get(diffp), chain)
        while True:
            s = get(samep)  # type: ignore[arg-type]
            if s is None or getattr(s, same).succ is not target or not self.dominates(b, s):
                return
            if s.val[A_ATOM] == val:
                break
            samep = (s, chain)
        pull = get(samep)  # type: ignore[arg-type]
        assert pull is not None
        put(samep, getattr(pull, chain).succ)  # type: ignore[arg-type]
        getattr(pull, chain).succ = get(diffp)
        if at_top:
            for e in reversed(edges):
                if e.pred.et.succ is b:
                    e.pred.et.succ = pull
                else:
                    e.pred.ef.succ = pull
        else:
            put(diffp, pull)
        self.done = False
        self.dom_stale = True

    # --- the loops ------------------------------------------------------------------

    def opt_blks(self, do_stmts: bool) -> None:
        self.values = {}
        self.consts = {}
        self.find_inedges()
        for b in self.top_down():
            self.opt_blk(b, do_stmts)
        if do_stmts:
            return
        for level in range(1, self.root.level + 1):
            for b in self.levels[level]:
                self.opt_j(b.et)
                self.opt_j(b.ef)
        self.find_inedges()
        for level in range(1, self.root.level + 1):
            for b in self.levels[level]:
                self.pullup(b, along_false=True)
                self.pullup(b, along_false=False)

    def opt_loop(self, do_stmts: bool) -> None:
        idle = 0
        while True:
            self.rounds += 1
            if self.rounds > ROUND_LIMIT:
                raise _GiveUp
            self.moved_only = True
            self.done = True
            self.find_levels()
            self.find_dom()
            self.find_ud()
            self.find_edom()
            self.opt_blks(do_stmts)
            if self.done:
                return
            if not self.moved_only:
                idle = 0
            else:
                idle += 1
                if idle >= BRANCH_ONLY_LIMIT:
                    return

    def intern_blocks(self) -> None:
        """Share equal blocks (same statements, jump and successors) until none are left.

        Master compares each live block with every later one and links it to the first
        equal one (or to where that one links); grouping the live blocks by what
        ``eq_blk`` compares finds the same first equal block without the quadratic scan,
        which dominated the whole model's time on long ``or`` lists."""
        blocks = self.blocks
        while True:
            for b in blocks:
                b.link = None
            live = self._reachable()
            later: dict[tuple, _Node] = {}  # key -> the live block of that key seen last
            for i in range(len(blocks) - 1, -1, -1):
                b = blocks[i]
                if id(b) not in live:
                    continue
                key = _blk_key(b)
                twin = later.get(key)
                if twin is not None:
                    b.link = twin.link or twin
                later[key] = b
            again = False
            for b in blocks:
                if b.et.succ is None:
                    continue
                if b.et.succ.link is not None:
                    again = True
                    b.et.succ = b.et.succ.link
                if b.ef.succ.link is not None:  # type: ignore[union-attr]
                    again = True
                    b.ef.succ = b.ef.succ.link  # type: ignore[union-attr]
            if not again:
                return

    def _reachable(self) -> set[int]:
        seen: set[int] = set()
        stack = [self.root]
        while stack:
            b = stack.pop()
            if id(b) in seen:
                continue
            seen.add(id(b))
            if b.code & CLASS_MASK != _RET:
                stack.extend((b.et.succ, b.ef.succ))  # type: ignore[arg-type]
        return seen

    def final_root(self) -> _Node:
        """``opt_root``: the root after following jumps whose two targets are one block."""
        b = self.root
        while b.code & CLASS_MASK == _JMP and b.et.succ is b.ef.succ:
            b = b.et.succ  # type: ignore[assignment]
        return b


def _blk_key(b: _Node) -> tuple:
    """What ``eq_blk`` compares: jump, successors and the statements left."""
    stmts = tuple((s[0], s[1]) for s in b.stmts if s[0] != NOP)
    return (b.code, b.k, id(b.et.succ), id(b.ef.succ), stmts)


def fold_constant(op: int, a: int, b: int) -> int:
    """``a op b`` as master's optimizer folds it (division and modulus by zero excluded).

    Shifts by 32 or more give 0: master's ``fold_op`` says so (C leaves it undefined), and
    bpfc's interpreter and its own folding use the same rule (``bpfc.isa.arith.shift``).
    """
    if op == _ADD:
        return (a + b) & MASK32
    if op == _SUB:
        return (a - b) & MASK32
    if op == _MUL:
        return (a * b) & MASK32
    if op == _DIV:
        return a // b
    if op == _MOD:
        return a % b
    if op == _AND:
        return a & b
    if op == _OR:
        return a | b
    if op == _XOR:
        return a ^ b
    if op == _LSH or op == _RSH:
        return shift(op, a, b)
    raise ValueError(f"not a binary ALU operation: {op:#x}")


def _copy_graph(root: Block) -> _Node:
    """Our own nodes for the blocks reachable from ``root`` (the graph is left as it is)."""
    nodes: dict[int, _Node] = {}
    order: list[Block] = []
    stack = [root]
    while stack:
        b = stack.pop()
        if id(b) in nodes:
            continue
        stmts: list[list[int]] = []
        inner: dict[int, tuple[int, int]] = {}
        for i, s in enumerate(b.stmts):  # an inner jump is a statement to master's optimizer
            if isinstance(s, InnerJump):
                code, k = s.code, s.k
                if code != JA:
                    inner[i] = (s.jt, s.jf)
            else:
                code, k = s[0], s[3]
            stmts.append([int(code), int(k) & MASK32])
        node = nodes[id(b)] = _Node(stmts, int(b.code), int(b.k) & MASK32)
        node.inner = inner
        order.append(b)
        if not b.is_ret:
            assert b.jt is not None and b.jf is not None
            stack.extend((b.jf, b.jt))
    for b in order:
        if not b.is_ret:
            node = nodes[id(b)]
            node.et.succ = nodes[id(b.jt)]
            node.ef.succ = nodes[id(b.jf)]
    return nodes[id(root)]


def worth_asking(root: Block) -> bool:
    """Whether master's optimizer may refuse a filter that bpfc's optimizer accepts: the
    graph divides, takes a modulus or shifts by X, or divides by a constant 0 (master
    refuses what it folds to such an operation, and folds ``0 / x`` to 0 where x may be
    0), or it has a test that master's peephole turns into a ``jset`` with its targets
    swapped (``and #k; jeq #0``, ``jset #0xffffffff``) and another ``jset`` it could be
    threaded against: master threads jumps along edge dominators computed before the
    swap, and so proves things about such pairs that are not so.  Everywhere else
    master's optimizer proves a subset of what bpfc's does (the front-end differential
    keeps checking that), so bpfc's own verdict stands without running the model."""
    swapped = jsets = 0
    stack, seen = [root], set()
    while stack:
        b = stack.pop()
        if id(b) in seen:
            continue
        seen.add(id(b))
        masked = False
        for s in b.stmts:
            code = s[0]
            if code & CLASS_MASK != _ALU:
                continue
            op = code & OP_MASK
            if code & SRC_MASK == _X:
                if op in _FOLDING_OPS:
                    return True
            elif op == _AND:
                masked = True
            elif (op == _DIV or op == _MOD) and s[3] == 0:
                return True
        if b.code == _JEQ_K and b.k == 0 and masked or b.code == _JSET_K and b.k == MASK32:
            swapped += 1
        elif b.code == _JSET_K:
            jsets += 1
        if swapped and swapped + jsets > 1:
            return True
        stack.extend(b.successors())
    return False


class Undecided(Exception):
    """The model declines the graph (too big to model in reasonable time, or its round cap
    was reached): the caller keeps its own verdict."""


MAX_BLOCKS = 400
"""Graphs with more blocks are not modelled: master's optimizer is quadratic or worse in
the blocks (pull-ups recompute dominators), the model about a hundred times slower than
master (0.7 s for 360 blocks)."""


def master_refusal(root: Block, dlt: int | None = None, no_optimize: bool = False) -> str | None:
    """libpcap master's message refusing the unoptimized graph ``root`` (optimizing, for
    outermost link type ``dlt``), or None where master compiles it.  ``no_optimize``: the
    code generator met a primitive after which master does not optimize (``protochain``,
    even where a constant operand dropped its code).  Raises :class:`Undecided` for a
    graph of more than ``MAX_BLOCKS`` blocks."""
    try:
        final = master_optimized(root, dlt, no_optimize, max_blocks=MAX_BLOCKS)
    except Refusal as err:
        return str(err)
    if final is not None and final.code == RET_K and final.k == 0:
        return REJECTS_ALL
    return None


def master_optimized(
    root: Block, dlt: int | None = None, no_optimize: bool = False, max_blocks: int | None = None
) -> _Node | None:
    """The root of master's optimized graph for the unoptimized graph ``root`` (see
    :func:`master_refusal`), None where master does not optimize it.  Raises
    :class:`Refusal` with master's message where its optimizer stops, and
    :class:`Undecided` past ``max_blocks`` blocks or the model's round cap.

    The result is the graph as ``icode_to_fcode`` receives it: ``opt_root`` has moved the
    root's statements onto the first block that is not a jump to one place (and dropped
    them where that block returns); deleted statements are still there as ``NOP``s."""
    if no_optimize or dlt == DLT_PRISM_HEADER:
        return None
    model = _Model(_copy_graph(root))
    if max_blocks is not None and len(model.blocks) > max_blocks:
        raise Undecided(f"{len(model.blocks)} blocks")
    try:
        model.opt_loop(do_stmts=False)
        model.opt_loop(do_stmts=True)
    except _GiveUp:
        raise Undecided("round cap") from None
    model.intern_blocks()
    first = model.root
    final = model.final_root()
    if final is not first:
        moved, here = first.stmts, final.stmts
        shift_by = len(moved)
        final.inner = {
            i + shift_by: (jt + shift_by, jf + shift_by) for i, (jt, jf) in final.inner.items()
        }
        final.inner.update(first.inner)
        final.stmts = moved + here  # master appends the block's list onto the root's
        first.stmts, first.inner = [], {}
    if final.code & CLASS_MASK == _RET:
        final.stmts, final.inner = [], {}
    return final
