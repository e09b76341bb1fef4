"""Join whole programs with ``or``: the input the scaling benchmarks and tests feed the optimizer.

libpcap's own parser overflows its stack somewhere past a few thousand ``or`` terms
and its unoptimized code generator is itself quadratic for ``port`` lists, so large
unoptimized inputs are built here instead: each term's ``ret #0`` becomes a jump to
the next term and every other ``ret`` a jump to a shared accept, exactly the shape
libpcap gives ``t1 or t2 or ...`` before optimization.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.isa.insn import Class, Insn, RVal
from bpfc.isa.opcodes import CLASS_MASK, JA


def chain_or(programs: Sequence[Sequence[Insn]], accept: int = 262144) -> list[Insn]:
    """One program returning ``accept`` when any term accepts, else 0.

    Terms must return only ``#0`` or a nonzero constant (as pcap filters do).
    """
    total = sum(len(p) for p in programs) + 2
    yes, no = total - 2, total - 1
    out: list[Insn] = []
    start = 0
    for prog in programs:
        nxt = start + len(prog)
        for i, ins in enumerate(prog):
            ins = Insn(*ins)
            if ins.code & CLASS_MASK == Class.RET:
                if ins.code != Class.RET | RVal.K:
                    raise ValueError("chain_or needs terms that return constants")
                target = yes if ins.k else (nxt if nxt < yes else no)
                out.append(Insn(JA, 0, 0, target - (start + i) - 1))
            else:
                out.append(ins)
        start = nxt
    out += [Insn(Class.RET | RVal.K, 0, 0, accept), Insn(Class.RET | RVal.K, 0, 0, 0)]
    return out
