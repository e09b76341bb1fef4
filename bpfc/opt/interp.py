"""The reference interpreter the optimizer's checks run programs with (``verify``, tests).

It is the project's one reference interpreter, :func:`bpfc.vm.interp.interpret`, in
libpcap mode: A = X = M[] = 0 at start, a load past the captured bytes or a division by
zero returns 0, a shift by 32 or more gives 0, ``len`` is the wire length.  It is plain
instruction-at-a-time code, separate from the optimizer's value model, so the two do not
share a mistake; keeping a single interpreter means the optimizer is checked against
exactly the semantics the rest of bpfc runs programs with.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.vm.interp import interpret


def run(insns: Sequence[Sequence[int]], pkt: bytes, wirelen: int | None = None) -> int:
    """The filter's return value for one packet."""
    return interpret(insns, pkt, wirelen, False, {})
