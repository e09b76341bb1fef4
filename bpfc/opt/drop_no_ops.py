"""Pass: drop runs of statements that leave every live register as it was.

``number_values`` drops a single statement whose destination already holds its
value.  A run of several statements can be just as useless while no single one of
them is: the false edge of ``ldb [21]; and #0x1f; jeq #0x1a`` goes on to
``ldb [21]; and #0x1f; jeq #0x18`` — the load changes A, and only the ``and`` brings
it back to the value it had.  Likewise a variable-offset header recomputes
``ldx M[0]; ldb [x+0]; and #0xf; lsh #2; add x; tax`` into an X that already holds
that value, and a load whose result nobody reads is dead.

For every block the pass knows, from one forward sweep, the value number of each
register before and after each statement, and which statements cannot fail (a
failing load ends the filter with 0, so only loads proven in bounds on every path
may go).  A run ``i..j`` goes when every statement in it cannot fail and every
register live after it holds the same value number after ``j`` as before ``i``: the
rest of the program then sees exactly the state it saw before.

Absolute loads are proven by ``minlen``; indirect loads ``[x + k]`` by an earlier
load at the same X (value number) on every path whose byte range contains this one's
(``proven``).  Within the byte range of one successful load every narrower load at
the same base succeeds too, under libpcap's bounds check and under Linux's.
"""

from __future__ import annotations

from bpfc.insn import Class, Mode, bpf_mode, bpf_size
from bpfc.opt.dataflow import State, forward, live_ins, out_edges, term_uses
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import WIDTH, Values, X, defines, step, uses

_LD_IND = int(Class.LD | Mode.IND)
_SMALL_OFFSET = 0x10000000  # larger offsets may address Linux's ancillary areas
_CAP = 8  # proven ranges kept per X value: enough for header chains, keeps joins cheap
_MAX_RUN = 48  # the interval search is quadratic in a block's statements

Proven = dict[int, tuple[tuple[int, int], ...]]


def _indirect(ins) -> tuple[int, int] | None:
    """The byte range ``(k, k + size)`` of an indirect packet load, else None."""
    if ins.code & 7 != Class.LD or bpf_mode(ins.code) != Mode.IND:
        return None
    width = WIDTH.get(bpf_size(ins.code))
    if width is None or ins.k >= _SMALL_OFFSET:
        return None
    return ins.k, ins.k + width


def _covered(ranges: tuple[tuple[int, int], ...], lo: int, hi: int) -> bool:
    return any(a <= lo and hi <= b for a, b in ranges)


def _meet(a: Proven, b: Proven) -> Proven:
    """Ranges proven on both of two joining paths."""
    if a is b:
        return a
    out: Proven = {}
    for xvn, ranges in a.items():
        other = b.get(xvn)
        if other is not None:
            kept = tuple(r for r in ranges if _covered(other, *r))
            if kept:
                out[xvn] = kept
    return out


def _run_to_drop(
    snaps: list[tuple[int, ...]], safe: list[bool], live: list[int]
) -> tuple[int, int] | None:
    """The longest ``(i, j)`` whose statements cannot fail and change nothing live."""
    best = None
    n = len(safe)
    for j in range(n, 0, -1):
        mask = live[j]
        after = snaps[j]
        regs = [r for r in range(len(after)) if mask >> r & 1]
        i = j
        lowest = None
        while i > 0 and safe[i - 1]:
            i -= 1
            before = snaps[i]
            if all(before[r] == after[r] for r in regs):
                lowest = i
        if lowest is not None and (best is None or j - lowest > best[1] - best[0]):
            best = (lowest, j)
    return best


def _repeats(order: list[Block]) -> bool:
    """Whether some statement occurs twice, or one indirect load's bytes contain
    another's.  A run can only bring a register back to a value it held by recomputing
    it, which means executing again a statement that computed it (value numbers are
    keyed on the operation); an indirect load is only proven by an earlier one whose
    bytes contain it.  Programs with neither skip the forward sweep."""
    seen: set = set()
    add = seen.add
    ranges: list[tuple[int, int]] = []
    count = 0  # ``len(seen)`` as it would be without repeats: one hash per statement
    for block in order:
        for ins in block.stmts:
            add(ins)
            count += 1
            if len(seen) != count:
                return True
            if ins.code & 0xE7 != _LD_IND:  # the usual answer of ``_indirect``, without a call
                continue
            rng = _indirect(ins)
            if rng is not None:
                lo, hi = rng
                if any(a <= lo and hi <= b or lo <= a and b <= hi for a, b in ranges):
                    return True
                ranges.append(rng)
    return False


def run(graph: Graph) -> bool:
    order = graph.order()
    if not _repeats(order):
        return False
    live_in = live_ins(order)
    vals = Values()
    proven_in: dict[int, Proven] = {graph.entry.id: {}}
    changed = False

    def visit(block: Block, state: State):
        nonlocal changed
        proven = proven_in.pop(block.id, {})
        regs = list(state.regs)
        minlen = state.minlen
        snaps = [state.regs]
        safe: list[bool] = []
        for i, ins in enumerate(block.stmts):
            s = step(vals, regs, minlen, ins, (block.id, i))
            # a value tested or held on every path here was computed: its load succeeded
            ok = s.pure or s.vn in state.facts or s.vn in regs
            rng = _indirect(ins) if not ok else None
            if rng is not None:
                xvn = regs[X]
                ranges = proven.get(xvn, ())
                ok = _covered(ranges, *rng)
                if not ok and len(ranges) < _CAP:
                    proven = {**proven, xvn: (*ranges, rng)}
            safe.append(ok)
            if s.dest is not None:
                regs[s.dest] = s.vn
            minlen = s.minlen
            snaps.append(tuple(regs))
        n = len(block.stmts)
        if n and n <= _MAX_RUN and any(safe):
            out = term_uses(block)
            for succ in block.succs():
                out |= live_in[succ.id]
            live = [0] * (n + 1)
            live[n] = out
            for k in range(n - 1, -1, -1):
                ins = block.stmts[k]
                live[k] = (live[k + 1] & ~(1 << defines(ins))) | uses(ins)
            found = _run_to_drop(snaps, safe, live)
            if found is not None:
                i, j = found
                block.stmts = block.stmts[:i] + block.stmts[j:]
                changed = True
        after = State(tuple(regs), state.facts, minlen)
        edges = out_edges(vals, block, after)
        for succ, _ in edges:
            prev = proven_in.get(succ.id)
            proven_in[succ.id] = proven if prev is None else _meet(prev, proven)
        return edges

    forward(graph, order, vals, visit)
    return changed
