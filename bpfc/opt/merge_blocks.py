"""Pass: structural clean-up: fold jt == jf, skip empty blocks, share equal blocks, join chains.

Equal blocks are found by hash-consing bottom-up (reverse topological order): a
block's key is its statements, its terminator and the *canonical* ids of its
successors, so equal tails collapse level by level in one linear sweep with no
pairwise comparison.  A block with no statements that only jumps is replaced by its
target.  Finally a block whose only successor has it as only predecessor absorbs it.
"""

from __future__ import annotations

from bpfc.opt.graph import JA, Block, Graph


def _share(graph: Graph) -> bool:
    canon: dict[int, Block] = {}
    table: dict[tuple, Block] = {}
    changed = False
    for block in reversed(graph.order()):
        if block.jt is not None:
            jt, jf = canon[block.jt.id], canon[block.jf.id]
            if jt is not block.jt or jf is not block.jf:
                block.jt, block.jf = jt, jf
                changed = True
            if block.is_cond and jt is jf:
                block.set_goto(jt)
                changed = True
            if block.code == JA and not block.stmts:
                canon[block.id] = block.jt
                changed = True
                continue
        key = (
            tuple(block.stmts),
            block.code,
            block.k,
            None if block.jt is None else block.jt.id,
            None if block.jf is None else block.jf.id,
        )
        same = table.get(key)
        if same is None:
            table[key] = canon[block.id] = block
        else:
            canon[block.id] = same
            changed = True
    entry = canon[graph.entry.id]
    if entry is not graph.entry:
        graph.entry = entry
    return changed


def _join(graph: Graph) -> bool:
    order = graph.order()
    # only how many predecessors a block has matters here: absorbing a block into its
    # sole predecessor leaves every other count as it was (one pred replaces another)
    npreds = {bid: len(ps) for bid, ps in graph.preds(order).items()}
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


def run(graph: Graph) -> bool:
    changed = _share(graph)
    return _join(graph) or changed
