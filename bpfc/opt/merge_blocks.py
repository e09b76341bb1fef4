"""Pass: structural clean-up: fold jt == jf, skip empty blocks, share equal blocks, join chains.

Equal blocks are found bottom-up (reverse topological order), bucketed by their
terminator and the *canonical* ids of their successors, so equal tails collapse level
by level in one linear sweep; statements are hashed only for buckets of two or more
blocks (most hold one).  A block with no statements that only jumps is replaced by its
target.  Finally a block whose only successor has it as only predecessor absorbs it;
two blocks that absorbed equal chains may be equal themselves, so sharing runs again
until joining finds nothing.

Why it is safe: blocks that are equal (same statements, same terminator, successors
already shared) do the same thing to every packet and go on to the same blocks, so
every path computes what it computed before; skipping an empty ``ja`` block and joining
a block with its sole successor (which has no other predecessor) keep every path's
statements and tests in the same order.
"""

from __future__ import annotations

from bpfc.isa.insn import Class
from bpfc.isa.opcodes import CLASS_MASK
from bpfc.opt.analyses import Analyses
from bpfc.opt.graph import JA, Block, Graph

_JMP = int(Class.JMP)


def _share(graph: Graph) -> tuple[bool, list[Block]]:
    """Share equal blocks; also returns the blocks still reachable, in topological order.

    A block stays reachable exactly when it is its own canonical block: the others lost
    every predecessor to their canonical copy.  A canonical copy is always the *latest* of
    its equals in the old order (bottom-up, the first one seen wins), so the old order,
    thinned out, is still a topological order of the new graph.
    """
    canon: dict[int, Block] = {}
    # blocks by terminator and (canonical) successors: only blocks in one bucket can be
    # equal, and most buckets hold one block, so statements are compared only within one
    buckets: dict[tuple, Block | dict[tuple, Block]] = {}
    changed = False
    kept: list[Block] = []
    for block in reversed(graph.order()):
        jt = block.jt
        if jt is not None:
            jt, jf = canon[jt.id], canon[block.jf.id]
            if jt is not block.jt or jf is not block.jf:
                block.jt, block.jf = jt, jf
                changed = True
            code = block.code
            if jt is jf and code & CLASS_MASK == _JMP and code != JA:
                block.set_goto(jt)
                changed = True
            if block.code == JA and not block.stmts:
                canon[block.id] = jt
                changed = True
                continue
            key = (block.code, block.k, jt.id, jf.id)
        else:
            key = (block.code, block.k)
        bucket = buckets.get(key)
        same = None
        if bucket is None:
            buckets[key] = block
        else:
            if type(bucket) is Block:  # a second block here: index the bucket by statements
                bucket = buckets[key] = {tuple(bucket.stmts): bucket}
            stmts = tuple(block.stmts)
            same = bucket.get(stmts)
            if same is None:
                bucket[stmts] = block
        if same is None:
            canon[block.id] = block
            kept.append(block)
        else:
            canon[block.id] = same
            changed = True
    entry = canon[graph.entry.id]
    if entry is not graph.entry:
        graph.entry = entry
    kept.reverse()
    return changed, kept


def _join(graph: Graph, order: list[Block]) -> bool:
    # only how many predecessors a block has matters here: absorbing a block into its
    # sole predecessor leaves every other count as it was (one pred replaces another)
    npreds = {b.id: 0 for b in order}
    for block in order:
        jt = block.jt
        if jt is not None:
            npreds[jt.id] += 1
            if block.jf is not jt:
                npreds[block.jf.id] += 1
    changed = False
    for block in order:
        if block is not graph.entry and not npreds[block.id]:
            continue  # absorbed earlier in this sweep
        while block.code == JA and block.jt is not block and npreds[block.jt.id] == 1:
            succ = block.jt
            block.stmts = block.stmts + succ.stmts
            block.code, block.k, block.jt, block.jf = succ.code, succ.k, succ.jt, succ.jf
            npreds[succ.id] = 0
            changed = True
    return changed


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    changed = False
    while True:
        shared, order = _share(graph)
        joined = _join(graph, order)
        changed = changed or shared or joined
        if not joined:  # a joined chain may equal another block now: share again
            return changed
