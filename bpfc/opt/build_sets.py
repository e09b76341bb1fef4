"""Pass: set membership: a run of ``jeq`` tests with one true target becomes grouped tests.

``host a or host b or ...`` ends up (after threading) as a chain of blocks, each
``ld [field]; jeq #c`` with the same true target T and falling to the next one on
false, alternating between fields (src, dst).  As a whole the chain asks "is one of
the fields in its set": the tests can be regrouped by field and, for big sets,
turned into a sorted decision tree (``jge`` splits, then ``jeq`` leaves), which
costs O(log n) tests per packet.  Shared tails then let equal trees merge (the
``dst`` tree of IPv4 and ARP is the same set with the same targets).

Order matters for one reason only: a load past the end of the packet returns 0, so
a packet too short for the second field must still be rejected by the first test
that loads it.  The chain is therefore kept as is up to the first test of its last
distinct field (the *prefix*); after that every load has succeeded once and the
remaining tests are pure and may be reordered.  A must be dead at both exits.
When the shared true target is ``ret #0`` (``not host a and not host b``, the
``gateway`` primitive) there is no prefix: a match and a failing load both return 0,
and the false exit is reached only when every field loaded and no test matched, in
any order, so the whole chain is regrouped.  The same holds when every path from T
returns 0 for a packet shorter than the chain's furthest (absolute) load: ``host a or
host b`` followed by ``dst net ...``, which loads the destination again (``_guarded``).
"""

from __future__ import annotations

from bpfc.isa.insn import Class, Insn, JmpOp, Mode, RVal, Src, bpf_class, bpf_mode
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.dataflow import load_end, ret_guard
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import A

JEQ = Class.JMP | JmpOp.JEQ | Src.K
JGE = Class.JMP | JmpOp.JGE | Src.K
RET_K = Class.RET | RVal.K
LEAF = 8
TREE_MIN = 64


def _is_load(ins: Insn) -> bool:
    return bpf_class(ins.code) == Class.LD and bpf_mode(ins.code) in (Mode.ABS, Mode.IND)


def _is_test(block: Block, head: bool = False) -> bool:
    """A ``jeq #k`` on A, after nothing or one packet load (a head may do more before)."""
    if block.code != JEQ or block.jt is block.jf:
        return False
    stmts = block.stmts
    if not stmts:
        return True
    if not _is_load(stmts[-1]):
        return False
    if len(stmts) == 1:
        return True
    return head  # the head's earlier statements run before the chain, as they did


def _chain(head: Block, preds: dict[int, list[Block]]) -> list[Block]:
    chain = [head]
    cur = head
    loaded = bool(head.stmts)
    while True:
        nxt = cur.jf
        if not _is_test(nxt) or nxt.jt is not head.jt or len(preds[nxt.id]) != 1:
            break
        if nxt.stmts and not loaded:
            break  # A's incoming value cannot be reloaded after another load
        chain.append(nxt)
        cur = nxt
    return chain


def _rejects(block: Block) -> bool:
    """A bare ``ret #0``."""
    return block.code == RET_K and block.k == 0 and not block.stmts


def _tree(graph: Graph, values: list[int], yes: Block, no: Block) -> Block:
    if len(values) <= LEAF:
        nxt = no
        for v in reversed(values):
            nxt = graph.new_block([], JEQ, v, yes, nxt)
        return nxt
    mid = len(values) // 2
    right = _tree(graph, values[mid:], yes, no)
    left = _tree(graph, values[:mid], yes, no)
    return graph.new_block([], JGE, values[mid], right, left)


def membership(graph: Graph, values: list[int], yes: Block, no: Block) -> Block:
    """Blocks answering "is A in ``values``" (sorted, distinct): a ``jeq`` chain, or for
    ``TREE_MIN`` values or more a tree of ``jge`` splits over ``jeq`` leaves."""
    if len(values) >= TREE_MIN:
        return _tree(graph, values, yes, no)
    nxt = no
    for v in reversed(values):
        nxt = graph.new_block([], JEQ, v, yes, nxt)
    return nxt


def _tree_size(n: int) -> int:
    if n <= LEAF:
        return n
    return 1 + _tree_size(n // 2) + _tree_size(n - n // 2)


def _rewrite(graph: Graph, chain: list[Block]) -> bool:
    yes, no = chain[0].jt, chain[-1].jf
    tests: list[tuple[Insn | None, int]] = []
    current: Insn | None = None
    for block in chain:
        if block.stmts:
            current = block.stmts[-1]
        tests.append((current, block.k))
    loads = list(dict.fromkeys(t[0] for t in tests))
    # The first test of the last field to appear loads it; from there on every load
    # has succeeded once, so that test and all later ones may be regrouped, starting
    # with the group of the field it just loaded.
    cut = next(i for i, t in enumerate(tests) if t[0] == loads[-1])
    if _rejects(yes):
        cut = 0  # a match and a failing load both return 0: any order gives the same verdict
    elif cut and _guarded(yes, tests):
        cut = 0  # every path from T rejects a packet too short for some load: as above
    prefix, rest = tests[:cut], tests[cut:]
    groups: dict[Insn | None, list[int]] = {ld: [] for ld in [loads[-1]] + loads[:-1]}
    seen = set(prefix)
    for ld, c in rest:
        if (ld, c) not in seen:
            seen.add((ld, c))
            groups[ld].append(c)
    groups = {ld: sorted(cs) for ld, cs in groups.items() if cs}
    big = max(len(cs) for cs in groups.values()) >= TREE_MIN
    old = sum(len(b.stmts) + 1 for b in chain)
    new = sum(len(b.stmts) + 1 for b in chain[:cut]) + (len(chain[0].stmts) - 1 if not cut else 0)
    for ld, cs in groups.items():
        new += (ld is not None) + (_tree_size(len(cs)) if len(cs) >= TREE_MIN else len(cs))
    if len(loads) < 2 and not big:
        return False
    if not big and new >= old:
        return False
    nxt = no
    for ld, cs in reversed(list(groups.items())):
        root = membership(graph, cs, yes, nxt)
        if ld is not None:
            root.stmts = [ld] + root.stmts
        nxt = root
    if cut:
        chain[cut - 1].jf = nxt
    else:  # the head's own statements (before its load) still run first
        chain[0].stmts = chain[0].stmts[:-1]
        chain[0].set_goto(nxt)
    return True


def _guarded(yes: Block, tests: list[tuple[Insn | None, int]]) -> bool:
    """Whether every load of the chain is absolute and every path from T returns 0 for a
    packet shorter than the furthest of them (``guard``).

    Then the order is free, as when T is ``ret #0``: a packet that some load of the
    original order fails is shorter than that furthest end, so whichever test a new
    order lets it match first, T rejects it, as the failing load did; one the original
    sends to T fails a load of a new order only if it is that short too, and is then
    rejected by both; the false exit is reached, in either order, only when every load
    succeeded and no test matched.
    """
    furthest = 0
    for ld, _ in tests:
        if ld is None:
            continue
        end = load_end(ld)
        if not end:  # an indirect load or an ancillary offset: no length says it fails
            return False
        furthest = max(furthest, end)
    return _guard(yes) >= furthest


def _guard(start: Block) -> int:
    """The length below which every path from ``start`` returns 0 (``eliminate_dead``'s
    ``guard``, over the blocks ``start`` reaches)."""
    memo: dict[int, int] = {}
    stack = [start]
    while stack:
        block = stack[-1]
        if block.id in memo:
            stack.pop()
            continue
        succs = block.succs()
        pending = [b for b in succs if b.id not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        g = ret_guard(block) if block.jt is None else min(memo[b.id] for b in succs)
        for ins in reversed(block.stmts):
            end = load_end(ins)
            if end > g:
                g = end
        memo[block.id] = g
    return memo[start.id]


def _has_chain(order: list[Block]) -> bool:
    """Whether some test heads two more on its false side with its true target (the
    shape of a chain of three, before the predecessor and load checks ``_chain`` makes)."""
    for block in order:
        if block.code != JEQ:
            continue
        nxt = block.jf
        if nxt.code != JEQ or nxt.jt is not block.jt:
            continue
        last = nxt.jf
        if last.code == JEQ and last.jt is block.jt and _is_test(block, head=True):
            if _is_test(nxt) and _is_test(last):
                return True
    return False


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    if not _has_chain(order):
        return False  # most programs: no predecessors or liveness to compute
    preds = graph.preds(order)
    live: dict[int, int] | None = None  # only once a chain is long enough: most have none
    done: set[int] = set()
    changed = False
    for block in order:
        if block.id in done or not _is_test(block, head=True):
            continue
        chain = _chain(block, preds)
        done.update(b.id for b in chain)
        if len(chain) < 3:
            continue
        if live is None:
            live = cache.get(live_in)
        if live[chain[0].jt.id] & (1 << A) or live[chain[-1].jf.id] & (1 << A):
            continue
        if _rewrite(graph, chain):
            changed = True
    return changed
