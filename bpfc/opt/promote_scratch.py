"""Pass: keep a scratch slot's value in X instead of memory, when X is free for it.

802.11 headers have a variable length, so libpcap computes it into scratch memory
on each path and reloads it as the base of the indirect loads that follow: ``ld
#0x18; st M[0]`` on one path, ``ld #0x1a; st M[0]`` on another, then ``ldx M[0];
ldh [x + 6]``.  When X is not otherwise used while M[0] holds a value someone will
read, X can hold that value itself: every ``st M[k]`` becomes ``tax`` (``ld #c; tax``
is then ``ldx #c``), every ``stx M[k]`` goes (X already holds it), and every ``ldx
M[k]`` goes (``ld M[k]`` becomes ``txa``).  This saves the reloads and the stores.

It is correct when, for the chosen slot k:

* no path reads M[k] before storing it (the initial memory is not a value X holds);
* every read of M[k] is ``ld M[k]`` or ``ldx M[k]``;
* no statement writes X while M[k] is live after it, except ``ldx M[k]`` itself: so
  from every store to every read it reaches, X keeps the stored value;
* X is dead after every live ``st M[k]`` (the ``tax`` destroys nothing needed); a
  store after which M[k] is dead is simply removed.

Then on every path the last store before a read set X to the value the read would
return, and nothing changed X since.  One slot is promoted per run (the liveness
used for the conditions is that of the program before the rewrite); each run is a
linear backward sweep per candidate slot.
"""

from __future__ import annotations

from bpfc.isa.insn import Class, Insn, MiscOp, Mode
from bpfc.opt.analyses import Analyses, live_in, topo_order
from bpfc.opt.dataflow import term_uses, transfer
from bpfc.opt.graph import Block, Graph
from bpfc.opt.values import X, reg_of_mem

_ST, _STX = int(Class.ST), int(Class.STX)
_LD_MEM, _LDX_MEM = int(Class.LD | Mode.MEM), int(Class.LDX | Mode.MEM)
_MEM_LOADS = (_LD_MEM, _LDX_MEM)
TAX = Insn(Class.MISC | MiscOp.TAX, 0, 0, 0)
TXA = Insn(Class.MISC | MiscOp.TXA, 0, 0, 0)


def _live_after(block: Block, live: dict[int, int]) -> list[int]:
    """Registers live after each statement of ``block``."""
    out = term_uses(block)
    for succ in block.succs():
        out |= live[succ.id]
    stmts = block.stmts
    after = [0] * len(stmts)
    for i in range(len(stmts) - 1, -1, -1):
        after[i] = out
        kept, read, _ = transfer(stmts[i])
        out = (out & kept) | read
    return after


def _promotable(slot: int, order: list[Block], afters: dict[int, list[int]]) -> bool:
    reg = reg_of_mem(slot)
    bit, xbit = 1 << reg, 1 << X
    for block in order:
        after = afters[block.id]
        for i, ins in enumerate(block.stmts):
            kept, read, _ = transfer(ins)
            code = ins.code
            is_mem = ins.k & 15 == slot
            if read & bit and not (code in _MEM_LOADS and is_mem):
                return False  # st/stx of another kind never read a slot: defensive
            if not kept & xbit and after[i] & bit and not (code == _LDX_MEM and is_mem):
                return False  # X written while the slot's value is still to be read
            if code == _ST and is_mem and after[i] & bit and after[i] & xbit:
                return False
    return True


def _rewrite(slot: int, order: list[Block], afters: dict[int, list[int]]) -> None:
    bit = 1 << reg_of_mem(slot)
    for block in order:
        after = afters[block.id]
        new: list[Insn] = []
        for i, ins in enumerate(block.stmts):
            if ins.k & 15 == slot and ins.code in (_ST, _STX, _LD_MEM, _LDX_MEM):
                if ins.code == _ST and after[i] & bit:
                    new.append(TAX)
                elif ins.code == _LD_MEM:
                    new.append(TXA)
                continue  # stx, ldx M[k] and dead stores go
            new.append(ins)
        if len(new) != len(block.stmts) or new != block.stmts:
            block.stmts = new


def run(graph: Graph, analyses: Analyses | None = None) -> bool:
    cache = Analyses.of(graph, analyses)
    order = cache.get(topo_order)
    # ``ins[0]`` and ``ins[3]`` are ``ins.code`` and ``ins.k``: indexing is cheaper here
    slots = {ins[3] & 15 for block in order for ins in block.stmts if ins[0] in _MEM_LOADS}
    if not slots:
        return False
    live = cache.get(live_in)
    afters = {block.id: _live_after(block, live) for block in order}
    for slot in sorted(slots):
        if live[graph.entry.id] & (1 << reg_of_mem(slot)):
            continue
        if _promotable(slot, order, afters):
            _rewrite(slot, order, afters)
            return True
    return False
