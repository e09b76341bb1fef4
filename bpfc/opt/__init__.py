"""The optimizer: a cBPF program in, an equivalent and smaller cBPF program out.

It works on any valid classic BPF program (bpfc's own code generator's output or
libpcap's unoptimized programs): build a graph of basic blocks (``graph``), run the
passes of ``manager.PASSES`` to a fixed point, and lay the blocks out again
(``linearize``); ``optimize_graph`` starts from a graph already built (the compiler
builds it from code generation's blocks).  ``verify=True`` runs input and output over
a packet sample with a reference interpreter and refuses to return a program that
differs (``verify``).

>>> from bpfc.isa.insn import Insn
>>> prog = [Insn(0x28, 0, 0, 12), Insn(0x15, 0, 2, 0x800), Insn(0x28, 0, 0, 12),
...         Insn(0x15, 1, 0, 0x800), Insn(0x6, 0, 0, 0), Insn(0x6, 0, 0, 262144)]
>>> [tuple(i) for i in optimize(prog)]  # the second ldh [12] / jeq is decided
[(40, 0, 0, 12), (21, 1, 0, 2048), (6, 0, 0, 0), (6, 0, 0, 262144)]
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bpfc.errors import REJECTS_ALL, CompileError
from bpfc.isa.insn import Class, Insn, RVal
from bpfc.isa.opcodes import CLASS_MASK, JA, RVAL_MASK

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.opt.graph import Graph

__all__ = ["optimize", "optimize_graph"]


_RET, _JMP, _RVAL_K = int(Class.RET), int(Class.JMP), int(RVal.K)


def rejects_all(insns: Sequence[Insn]) -> bool:
    """True when every ``ret`` of the program returns the constant 0."""
    # bit tests rather than bpf_class/bpf_rval: this runs on every compiled expression
    return all(
        code & RVAL_MASK == _RVAL_K and k == 0
        for code, _, _, k in insns
        if code & CLASS_MASK == _RET
    )


def is_forward(insns: Sequence[Insn]) -> bool:
    """True when every jump lands inside the program (no 32-bit wrap-around loops)."""
    n = len(insns)
    for i, (code, jt, jf, k) in enumerate(insns):
        if code & CLASS_MASK != _JMP:
            continue
        if code == JA:
            if i + 1 + k >= n:
                return False
        elif i + 1 + (jt if jt > jf else jf) >= n:
            return False
    return True


@contextmanager
def no_cycle_collector() -> Iterator[None]:
    """The cycle collector off for a while: building a graph and running the passes make
    many small acyclic objects, which reference counting frees; on a big program the
    collector's full passes over them would cost more than the work itself."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def optimize(
    insns: Sequence[Sequence[int]],
    *,
    verify: bool = False,
    passes=None,
    reject_empty: bool = True,
) -> list[Insn]:
    """An equivalent program with fewer (never more) instructions.

    Raises ``CompileError("expression rejects all packets")`` when the result can only
    return 0 and ``reject_empty`` is set (libpcap's behaviour), ``InternalError`` when
    ``verify`` finds a packet on which input and output disagree.
    """
    from bpfc.opt.graph import build

    source = [i if type(i) is Insn else Insn(*i) for i in insns]
    if not is_forward(source):
        return source  # a loop (libpcap's protochain): not a DAG, left as it is
    with no_cycle_collector():
        graph = build(source)
    return optimize_graph(
        graph, lambda: source, len(source), verify=verify, passes=passes, reject_empty=reject_empty
    )


def optimize_graph(
    graph: Graph,
    unoptimized: Callable[[], list[Insn]],
    size: int,
    *,
    verify: bool = False,
    passes=None,
    reject_empty: bool = True,
) -> list[Insn]:
    """``optimize`` on a graph already built (from a listing, or from code generation's
    blocks, which spares laying the program out and reading it back).

    ``unoptimized()`` is the program the graph was built from, as a listing; it is asked
    for only when needed: to check the result with ``verify``, or when the result is
    longer than ``size``, at most that listing's length (then the shorter of the two
    wins).
    """
    from bpfc.opt.linearize import linearize
    from bpfc.opt.manager import run_passes

    with no_cycle_collector():
        run_passes(graph, passes)
        result = linearize(graph)
    if len(result) > size:
        source = unoptimized()
        if len(result) > len(source):
            result = source
    if verify:
        from bpfc.opt.verify import check

        check(unoptimized(), result)
    if reject_empty and rejects_all(result):
        raise CompileError(REJECTS_ALL)
    return result
