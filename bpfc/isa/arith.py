"""The ALU's value semantics where C leaves them open: bpfc's one definition.

Kept in the machine layer's ``isa`` package (imported by every part that needs an
instruction anyway) so that the interpreter (``bpfc.vm``), the optimizer's constant
folding (``bpfc.opt.values``) and the model of libpcap's optimizer
(``bpfc.opt.libpcap_model``) share it without the optimizer importing the interpreter.
"""

from __future__ import annotations

from bpfc.isa.opcodes import AluOp

__all__ = ["shift"]

_LSH = int(AluOp.LSH)
_M32 = 0xFFFFFFFF


def shift(op: int, a: int, count: int) -> int:
    """``a << count`` (op ``AluOp.LSH``) or ``a >> count`` (any other op: ``RSH``) on 32-bit
    unsigned values: a count of 32 or more gives 0.

    It is libpcap's definition wherever libpcap has one: ``bpf_filter`` (master and
    1.10.3) gives 0 for a shift by X >= 32, and master's optimizer folds constant shifts
    the same way.  A *constant* shift ``lsh #k`` with k >= 32 is undefined C in
    ``bpf_filter`` (x86-64 takes k mod 32: ``lsh #33`` doubles A there) and the kernel's
    checker refuses it, so no correct program has one: bpfc's code generator refuses such
    a literal ("shift by more than 31 bits") and its optimizer folds a computed one to
    ``ld #0`` rather than emit it.  The Linux kernel takes a count in X mod 32
    (``bpfc.vm`` in Linux mode masks the count before calling this).
    """
    if count >= 32:
        return 0
    return (a << count) & _M32 if op == _LSH else a >> count
