"""The batch engine: one cBPF program over a whole chunk of packets at once, with numpy.

Classic BPF only jumps forward, so a program is a DAG and the packets can flow through it
together: visiting the instructions in order, each runs exactly once, as one vectorised
operation over the packets currently standing on it.  Jumps split that set in two and
send the halves ahead; a ``ret`` writes the result for its set; a load that falls outside
a packet's captured bytes ends that packet with 0.  Packet bytes are gathered straight
from the packed source buffer (a file mapping, a zero-copy buffer or a ring) through the
``data_off`` array, so nothing is copied out first.

The semantics are exactly :mod:`bpfc.vm`'s libpcap mode (its ``interpret`` is the
reference the tests compare against): A, X, M[] start at 0; 32-bit unsigned arithmetic;
division or modulo by zero returns 0; shifts by 32 or more give 0; ``len`` is the wire
length; an opcode the machine does not implement returns 0.  Programs with backward
jumps (or Linux ancillary loads) are not batchable: :func:`batchable` says so and the
caller uses the per-packet path.

numpy is optional (``bpfc[fast]``) and imported only when a batch runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bpfc.isa.opcodes import (
    ALU_K,
    ALU_X,
    COND_JUMPS,
    IND_LOADS,
    JA,
    LD_ABS,
    LD_IMM,
    LD_IND,
    LD_LEN,
    LD_MEM,
    LDB_ABS,
    LDB_IND,
    LDH_ABS,
    LDH_IND,
    LDX_IMM,
    LDX_LEN,
    LDX_MEM,
    LDX_MSH,
    LOAD_WIDTH,
    OP_MASK,
    RET_A,
    RET_K,
    SIZE_MASK,
    SRC_MASK,
    ST,
    STX,
    TAX,
    TXA,
    AluOp,
    JmpOp,
)

Insns = Sequence[Sequence[int]]

_LOAD_SIZES = LOAD_WIDTH
_ALU = ALU_K | ALU_X
_COND = COND_JUMPS
_STOP = object()
"""Returned by a step when no packet falls through to the next instruction."""


def numpy_available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def batchable(insns: Insns) -> bool:
    """True when every jump goes forward and stays inside the program."""
    n = len(insns)
    for pc, (code, jt, jf, k) in enumerate(insns):
        if code == JA and pc + 1 + k >= n:
            return False
        if code in _COND and pc + 1 + max(jt, jf) >= n:
            return False
    return n > 0


class _Run:
    """The state of one program over one batch: registers per packet and pending sets."""

    def __init__(self, np: Any, insns: Insns, buf: Any, off: Any, caplen: Any, wirelen: Any):
        self.np = np
        self.insns = insns
        self.buf = buf
        self.off = off
        self.caplen = caplen
        self.wirelen = wirelen
        n = off.shape[0]
        self.n = n
        self.result = np.zeros(n, dtype=np.uint32)
        self.a = np.zeros(n, dtype=np.uint32)
        self.x = np.zeros(n, dtype=np.uint32)
        self.mem: dict[int, Any] = {}
        # pending[pc]: index arrays of the packets that reach pc (None = every packet)
        self.pending: list[list[Any]] = [[] for _ in range(len(insns) + 1)]
        self.pending[0].append(None)

    # -- register access under an index set --------------------------------------------
    def get(self, arr: Any, idx: Any) -> Any:
        return arr if idx is None else arr[idx]

    def put(self, arr: Any, idx: Any, value: Any) -> None:
        if idx is None:
            arr[...] = value
        else:
            arr[idx] = value

    def slot(self, k: int) -> Any:
        if k not in self.mem:
            self.mem[k] = self.np.zeros(self.n, dtype=self.np.uint32)
        return self.mem[k]

    def select(self, idx: Any, mask: Any) -> Any:
        """The packets of ``idx`` where ``mask`` holds."""
        return self.np.flatnonzero(mask) if idx is None else idx[mask]

    def send(self, pc: int, idx: Any) -> None:
        if idx is None or idx.shape[0]:
            self.pending[pc].append(idx)

    # -- the walk ----------------------------------------------------------------------
    def run(self) -> Any:
        np = self.np
        for pc, (code, _jt, _jf, k) in enumerate(self.insns):
            parts = self.pending[pc]
            if not parts:
                continue
            self.pending[pc] = []
            idx = parts[0] if len(parts) == 1 else np.concatenate(parts)
            nxt = self.step(pc, code, _jt, _jf, k, idx)
            if nxt is not _STOP:
                self.send(pc + 1, nxt)
        return self.result

    def step(self, pc: int, code: int, jt: int, jf: int, k: int, idx: Any) -> Any:
        """Run one instruction for ``idx``; return the set that falls through (or ``_STOP``)."""
        np = self.np
        if code in (LD_ABS, LDH_ABS, LDB_ABS, LD_IND, LDH_IND, LDB_IND, LDX_MSH):
            return self.load(code, k, idx)
        if code in (LD_IMM, LDX_IMM):
            self.put(self.a if code == LD_IMM else self.x, idx, np.uint32(k))
        elif code in (LD_LEN, LDX_LEN):
            self.put(self.a if code == LD_LEN else self.x, idx, self.get(self.wirelen, idx))
        elif code in (LD_MEM, LDX_MEM, ST, STX):
            if k >= 16:
                return _STOP
            if code in (LD_MEM, LDX_MEM):
                self.put(self.a if code == LD_MEM else self.x, idx, self.get(self.slot(k), idx))
            else:
                self.put(self.slot(k), idx, self.get(self.a if code == ST else self.x, idx))
        elif code in _ALU:
            return self.alu(code, k, idx)
        elif code == JA:
            self.send(pc + 1 + k, idx)
            return _STOP
        elif code in _COND:
            self.branch(pc, code, jt, jf, k, idx)
            return _STOP
        elif code in (RET_K, RET_A):
            self.put(self.result, idx, np.uint32(k) if code == RET_K else self.get(self.a, idx))
            return _STOP
        elif code in (TAX, TXA):
            src, dst = (self.a, self.x) if code == TAX else (self.x, self.a)
            self.put(dst, idx, self.get(src, idx))
        else:
            return _STOP  # not implemented by any interpreter: these packets return 0
        return idx

    def load(self, code: int, k: int, idx: Any) -> Any:
        np = self.np
        size = 1 if code == LDX_MSH else _LOAD_SIZES[code & SIZE_MASK]
        caplen = self.get(self.caplen, idx)
        if code in IND_LOADS:  # [x + k]: libpcap adds without wrapping
            where = self.get(self.x, idx).astype(np.int64) + k
        else:
            where = np.int64(k)
        fits = where + size <= caplen
        if not fits.all():
            idx = self.select(idx, fits)
            if not idx.shape[0]:
                return _STOP
            if code in IND_LOADS:
                where = where[fits]
        pos = self.get(self.off, idx) + where
        buf = self.buf
        # one 1-D gather per byte is several times faster than a 2-D gather plus a view
        value = buf[pos].astype(np.uint32)
        for i in range(1, size):
            value = (value << np.uint32(8)) | buf[pos + i]
        if code == LDX_MSH:
            self.put(self.x, idx, (value & np.uint32(0xF)) << np.uint32(2))
        else:
            self.put(self.a, idx, value)
        return idx

    def alu(self, code: int, k: int, idx: Any) -> Any:
        np = self.np
        op = code & OP_MASK
        a = self.get(self.a, idx)
        v = self.get(self.x, idx) if code & SRC_MASK else np.uint32(k)
        if op in (AluOp.DIV, AluOp.MOD):  # division and modulo by zero end the packet with 0
            if code & SRC_MASK:
                nonzero = v != 0
                if not nonzero.all():
                    idx = self.select(idx, nonzero)
                    a, v = a[nonzero], v[nonzero]
                    if not idx.shape[0]:
                        return _STOP
            elif k == 0:
                return _STOP
            value = a // v if op == AluOp.DIV else a % v
        elif op == AluOp.ADD:
            value = a + v
        elif op == AluOp.SUB:
            value = a - v
        elif op == AluOp.MUL:
            value = a * v
        elif op == AluOp.OR:
            value = a | v
        elif op == AluOp.AND:
            value = a & v
        elif op == AluOp.XOR:
            value = a ^ v
        elif op == AluOp.NEG:
            value = np.uint32(0) - a
        else:
            big = v >= 32
            shift = np.minimum(v, np.uint32(31)).astype(np.uint32)
            value = (a << shift) if op == AluOp.LSH else (a >> shift)
            value = np.where(big, np.uint32(0), value).astype(np.uint32)
        self.put(self.a, idx, value)
        return idx

    def branch(self, pc: int, code: int, jt: int, jf: int, k: int, idx: Any) -> None:
        if jt == jf:
            self.send(pc + 1 + jt, idx)
            return
        np = self.np
        op = code & OP_MASK
        a = self.get(self.a, idx)
        v = self.get(self.x, idx) if code & SRC_MASK else np.uint32(k)
        if op == JmpOp.JEQ:
            taken = a == v
        elif op == JmpOp.JGT:
            taken = a > v
        elif op == JmpOp.JGE:
            taken = a >= v
        else:
            taken = (a & v) != 0
        if np.ndim(taken) == 0:
            taken = np.full(self.n if idx is None else idx.shape[0], bool(taken))
        self.send(pc + 1 + jt, self.select(idx, taken))
        self.send(pc + 1 + jf, self.select(idx, ~taken))


def run_batch(insns: Insns, buf: Any, data_off: Any, caplen: Any, wirelen: Any) -> Any:
    """Return values (uint32 array) of ``insns`` on every packet of a batch.

    ``buf`` is a uint8 array holding the packets; packet ``i`` is
    ``buf[data_off[i] : data_off[i] + caplen[i]]`` with wire length ``wirelen[i]``.
    The program must be valid and :func:`batchable` (``ValueError`` otherwise).
    """
    import numpy as np

    prog = [tuple(int(f) for f in insn) for insn in insns]
    if not batchable(prog):
        raise ValueError("program has a backward or out-of-range jump; run it per packet")
    off = np.asarray(data_off, dtype=np.int64)
    return _Run(
        np,
        prog,
        np.asarray(buf, dtype=np.uint8),
        off,
        np.asarray(caplen, dtype=np.int64),
        np.asarray(wirelen, dtype=np.uint32),
    ).run()


def pack(packets: Sequence[bytes]) -> tuple[Any, Any, Any]:
    """Pack byte strings into ``(buf, data_off, caplen)`` for :func:`run_batch` (tests, tools)."""
    import numpy as np

    caplen = np.array([len(p) for p in packets], dtype=np.int64)
    off = np.zeros(len(packets), dtype=np.int64)
    if len(packets) > 1:
        off[1:] = np.cumsum(caplen[:-1])
    blob = b"".join(packets)
    return np.frombuffer(blob, dtype=np.uint8) if blob else np.zeros(0, np.uint8), off, caplen
