"""cBPF -> eBPF: one validated classic program becomes an XDP, TC or socket-filter program.

The meaning is the bundled interpreter's (:mod:`bpfc.vm.interp`), instruction for
instruction, in libpcap's mode for XDP and TC and in Linux's mode for socket filters
(the mode of a classic filter attached to a socket):

* **Registers.** A is ``w7``, X is ``w8`` (32-bit operations, so the upper halves stay
  zero); ``M[k]`` is the 4-byte stack slot at ``r10 - 64 + 4k``; the context is kept in
  ``r6``; XDP/TC keep ``data`` in ``r2`` and ``data_end`` in ``r3``; ``r4``/``r5`` are
  scratch.  A, X or a slot that some path reads before writing is zeroed first (cBPF
  starts them at 0; the others are left alone, which the verifier accepts because every
  path writes them first).
* **Packet loads, XDP and TC:** direct access, ``data + N <= data_end`` checked before
  the load, merged where one guard covers several loads (:mod:`bpfc.ebpf.flow`), big-endian
  values byte-swapped with ``be16``/``be32``.  Indirect loads are guarded the same way
  from X (``data + X + N <= data_end``, ``data + X`` kept in ``r5`` for the loads the
  guard covers), after bounding X so that ``X + N`` stays within 65535 (the verifier
  cannot reason about a larger packet offset; no XDP frame or skb head is that long),
  so a load ending past byte 65535 rejects.  TC first pulls a
  non-linear skb's payload into its head (``bpf_skb_pull_data``), so ``data_end`` covers
  what a socket filter would read; ``len`` is ``skb->len`` there and ``data_end - data``
  in XDP, which has no wire length beyond the frame.
* **Packet loads, socket filters:** the verifier forbids direct packet access there, so
  loads are the legacy ``LD_ABS``/``LD_IND`` instructions, which is what the kernel itself
  turns a classic socket filter into: the same helper reads the same bytes (non-linear
  skbs and the ``SKF_NET_OFF``/``SKF_LL_OFF`` negative offsets included), already in
  host order, and a load past the end ends the program with 0, exactly cBPF's rule.
  ``bpf_skb_load_bytes`` would take five instructions and a stack buffer per load for
  the same result.  The price: a failed load returns 0 whatever ``reject`` says, so a
  socket filter's reject verdict must be 0.
* **ALU.** Division or modulo by X = 0 rejects (eBPF would give 0 or A); a shift by 32
  or more gives 0 in libpcap's mode, and shifts by ``k & 31`` / ``X & 31`` in Linux's.
* **Ancillary loads** (``ld [SKF_AD_OFF + n]``) read ``struct __sk_buff`` fields for TC
  and socket filters (:data:`bpfc.ebpf.targets.SKB_FIELDS`, ``protocol`` and the VLAN
  TPID byte-swapped to host order as cBPF gives them), ``cpu`` and ``random`` call
  helpers, ``alu_xor_x`` is ``A ^= X``; those without a field (``hatype``, ``nlattr``,
  ``pay_offset``) and all of them in XDP (no socket buffer) are a :class:`TranslationError`.
* **Verdicts.** XDP/TC map a non-zero cBPF result to ``accept`` and 0 to ``reject``
  (``XDP_PASS``/``XDP_DROP``, ``TC_ACT_OK``/``TC_ACT_SHOT`` by default); a socket filter
  returns the cBPF value itself unless ``accept`` is given.
* **Backward jumps** (the ``protochain`` loop, a ``ja`` whose offset wraps) become a
  bounded loop: a counter in ``r9`` goes up on every backward jump, and a program that
  would take more than ``loop_bound`` of them (default :data:`DEFAULT_LOOP_BOUND`)
  rejects the packet.  The verifier walks every iteration of a loop; with direct packet
  access each turn of a header chain multiplies the paths it follows, so large bounds
  make XDP/TC programs too large to verify (``protochain 6`` verifies in 0.09 s with 16,
  0.66 s with 32, and is refused at 64; socket filters verify quickly at 256).  The
  interpreter allows 64 + packet length turns, so the translation differs from it only
  on packets whose chain needs more than ``loop_bound`` turns (more than 16 chained IPv6
  extension headers by default); ``loop_bound=None`` refuses backward jumps instead.
  A ``ja`` to itself rejects, as in the interpreter.  Guards in a program with a loop
  are one per load (merging assumes forward jumps only).

Instructions the verifier would call unreachable are never emitted (the code is built
with symbolic labels, then pruned, then the jump offsets are resolved).  A long program
gets exit islands (:data:`ISLAND_EVERY`) so that every conditional jump fits the 16-bit
offset, and a ``ja`` that does not becomes ``gotol``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from bpfc.ebpf import insn as e
from bpfc.ebpf.errors import TranslationError
from bpfc.ebpf.flow import MAX_PACKET_OFF, analyse, plan_guards
from bpfc.ebpf.flow import A as _A
from bpfc.ebpf.flow import X as _X
from bpfc.ebpf.insn import EbpfInsn
from bpfc.ebpf.targets import (
    BPF_FUNC_SKB_PULL_DATA,
    HELPER_ANCILLARIES,
    SKB_FIELDS,
    TARGETS,
    Target,
    action_value,
)
from bpfc.isa.opcodes import (
    ABS_LOADS,
    ALU_K,
    ALU_X,
    ANCILLARY,
    COND_JUMPS,
    IND_LOADS,
    JA,
    LD_IMM,
    LD_LEN,
    LD_MEM,
    LDX_IMM,
    LDX_LEN,
    LDX_MEM,
    LDX_MSH,
    LOAD_WIDTH,
    OP_MASK,
    RET_A,
    RET_K,
    SIZE_MASK,
    SKF_AD_OFF,
    SRC_MASK,
    ST,
    STX,
    TAX,
    TXA,
    AluOp,
    JmpOp,
)

__all__ = ["DEFAULT_LOOP_BOUND", "TranslationError", "translate"]

DEFAULT_LOOP_BOUND = 16
"""Backward jumps a translated program takes before it rejects (see the module docstring)."""

ISLAND_EVERY = 8192
"""Instructions between exit islands in a long program (see :meth:`_Builder.exits`)."""

REG_CTX, REG_A, REG_X, REG_LOOP = e.R6, e.R7, e.R8, e.R9
REG_DATA, REG_END, T1, T2 = e.R2, e.R3, e.R4, e.R5
REG_XPTR = T2
"""``data + X`` after an indirect load's guard, for the loads that guard covers."""
SCRATCH_BASE = -64
"""``M[k]`` lives at ``r10 + SCRATCH_BASE + 4k``."""

_SIZE = {4: e.W, 2: e.H, 1: e.B}
_ALU = {
    int(AluOp.ADD): e.ADD,
    int(AluOp.SUB): e.SUB,
    int(AluOp.MUL): e.MUL,
    int(AluOp.DIV): e.DIV,
    int(AluOp.MOD): e.MOD,
    int(AluOp.OR): e.OR,
    int(AluOp.AND): e.AND,
    int(AluOp.XOR): e.XOR,
    int(AluOp.LSH): e.LSH,
    int(AluOp.RSH): e.RSH,
}
_JMP = {
    int(JmpOp.JEQ): e.JEQ,
    int(JmpOp.JGT): e.JGT,
    int(JmpOp.JGE): e.JGE,
    int(JmpOp.JSET): e.JSET,
}
_INVERSE = {e.JEQ: e.JNE, e.JGT: e.JLE, e.JGE: e.JLT}
_LOADS = frozenset(int(c) for c in ABS_LOADS | IND_LOADS)


class _Op(NamedTuple):
    insn: EbpfInsn
    target: str | None


class _Label(NamedTuple):
    name: str


def _cbpf(program: Any) -> list[tuple[int, int, int, int]]:
    """The instructions of a ``Program`` (already valid) or of anything else, validated."""
    from bpfc.isa.validation import validate

    # a bpfc.Program is valid by construction; recognised by name because importing
    # bpfc.program here would make an import cycle (its to_ebpf() imports this module)
    if type(program).__name__ == "Program" and isinstance(program, tuple):
        return [tuple(map(int, insn)) for insn in program]  # type: ignore[misc]
    if isinstance(program, (str, bytes, bytearray, memoryview)) or not isinstance(
        program, Sequence
    ):
        raise TypeError(
            f"program must be a bpfc Program or a list of (code, jt, jf, k), "
            f"not {type(program).__name__}"
        )
    insns = list(program)
    validate(insns)
    return [tuple(map(int, insn)) for insn in insns]  # type: ignore[misc]


class Translation(NamedTuple):
    """What :func:`translate` builds before the program object wraps it."""

    insns: list[EbpfInsn]
    accept: int | None
    reject: int
    guards: int
    """Packet guards emitted (each ``data + N <= data_end`` check counts once)."""


def translate(
    program: Any,
    target: str,
    *,
    accept: int | str | None = None,
    reject: int | str | None = None,
    guards: str = "merged",
    loop_bound: int | None = DEFAULT_LOOP_BOUND,
) -> Any:
    """Translate a cBPF ``program`` (a ``bpfc.Program`` or a list of ``(code, jt, jf, k)``,
    validated by libpcap's rules) for ``target`` (``"xdp"``, ``"tc"`` or ``"socket"``).

    ``accept``/``reject`` are the verdicts for a non-zero/zero cBPF result (numbers or
    names such as ``"pass"``, ``"drop"``, ``"ok"``, ``"shot"``); ``guards`` is
    ``"merged"`` (default) or ``"per-load"`` (one bounds check per load, for comparison);
    ``loop_bound`` is how many backward jumps a run may take (None: refuse them).
    Returns an :class:`bpfc.ebpf.program.EbpfProgram`.
    """
    from bpfc.ebpf.program import EbpfProgram

    if not isinstance(target, str) or target not in TARGETS:
        raise TranslationError(f"unknown eBPF target {target!r} (one of: {', '.join(TARGETS)})")
    insns = _cbpf(program)
    if loop_bound is not None and (
        isinstance(loop_bound, bool)
        or not isinstance(loop_bound, int)
        or not 1 <= loop_bound <= 0xFFFF
    ):
        raise TranslationError(f"loop_bound must be an int in 1..65535 or None, not {loop_bound!r}")
    done = _translate(insns, TARGETS[target], accept, reject, guards, loop_bound)
    return EbpfProgram(
        target,
        done.insns,
        accept=done.accept,
        reject=done.reject,
        cbpf=insns,
        guards=done.guards,
        loop_bound=loop_bound,
    )


def _translate(
    cbpf: list[tuple[int, int, int, int]],
    target: Target,
    accept: int | str | None,
    reject: int | str | None,
    guard_mode: str,
    loop_bound: int | None,
) -> Translation:
    if guard_mode not in ("merged", "per-load"):
        raise TranslationError(f"guards must be 'merged' or 'per-load', not {guard_mode!r}")
    facts = analyse(cbpf)
    if facts.backward is not None and loop_bound is None:
        i = facts.backward
        raise TranslationError(
            f"instruction {i} (ja {cbpf[i][3]}) jumps backward (a protochain loop) and loops "
            "are refused (loop_bound None, --loop-bound 0)"
        )
    acc = None if accept is None else action_value(target.name, accept, "accept")
    if acc is None and target.accept is not None:
        acc = target.accept
    rej = target.reject if reject is None else action_value(target.name, reject, "reject")
    builder = _Builder(cbpf, facts, target, acc, rej, guard_mode, loop_bound or 0)
    return Translation(builder.build(), acc, rej, builder.guard_count)


class _Builder:
    """Emits one program; see the module docstring for the register and code layout."""

    def __init__(
        self,
        cbpf: list[tuple[int, int, int, int]],
        facts: Any,
        target: Target,
        accept: int | None,
        reject: int,
        guard_mode: str,
        loop_bound: int,
    ) -> None:
        self.cbpf = cbpf
        self.facts = facts
        self.target = target
        self.accept = accept
        self.reject = reject
        self.items: list[_Op | _Label] = []
        self.guard_count = 0
        self.loop_bound = loop_bound
        self.island = 0
        self.count = 0
        live = [insn for insn, ok in zip(cbpf, facts.reachable, strict=True) if ok]
        self.loads = any(
            (c in _LOADS or c == LDX_MSH) and not _ancillary(c, k) for c, _, _, k in live
        )
        self.length = any(c in (LD_LEN, LDX_LEN) for c, *_ in live)
        anc = [ANCILLARY.get(k - SKF_AD_OFF) for c, _, _, k in live if _ancillary(c, k)]
        self.calls = any(name in HELPER_ANCILLARIES for name in anc)
        self.ancillary = bool(anc)
        if target.direct and self.calls:
            guard_mode = "per-load"  # a helper call ends what the verifier knows of data
        self.guards = plan_guards(cbpf, facts.reachable, guard_mode) if target.direct else {}
        self.ind_guards = (
            plan_guards(cbpf, facts.reachable, guard_mode, indirect=True) if target.direct else {}
        )
        if not target.direct and self.loads and reject != 0:
            raise TranslationError(
                f"a socket filter's reject verdict must be 0, not {reject}: its packet loads "
                "(LD_ABS/LD_IND) end the program with 0 when they fail"
            )

    # --- emission primitives ------------------------------------------------------

    def op(self, insn: EbpfInsn, target: str | None = None) -> None:
        if target in ("accept", "reject"):  # the next exit island: never far away
            target = f"{target}{self.island}"
        self.items.append(_Op(insn, target))
        self.count += 1

    def exits(self) -> None:
        """An exit island: ``accept`` and ``reject`` blocks that the jumps emitted since the
        previous island go to (conditional jumps reach only 32,767 instructions)."""
        n = self.island
        self.label(f"accept{n}")
        self.op(e.mov32(e.R0, imm=self.accept or 0))
        self.op(e.exit_())
        self.label(f"reject{n}")
        self.op(e.mov32(e.R0, imm=self.reject))
        self.op(e.exit_())
        self.island += 1

    def label(self, name: str) -> None:
        self.items.append(_Label(name))

    def goto(self, name: str) -> None:
        self.op(e.ja(), name)

    # --- the program --------------------------------------------------------------

    def build(self) -> list[EbpfInsn]:
        self.prologue()
        last = 0
        for i, insn in enumerate(self.cbpf):
            if self.facts.reachable[i]:
                if self.count - last >= ISLAND_EVERY:  # a long program: exits on the way
                    skip = f"s{self.island}"
                    self.op(e.ja(), skip)
                    self.exits()
                    self.label(skip)
                    last = self.count
                self.label(f"i{i}")
                self.one(i, insn)
        self.exits()
        return _resolve(self.items)

    def prologue(self) -> None:
        t = self.target
        if t.name == "xdp":
            if self.loads or self.length:
                self.op(e.ldx(e.W, REG_DATA, e.R1, t.data_off or 0))
                self.op(e.ldx(e.W, REG_END, e.R1, t.data_end_off or 0))
        elif t.name == "tc":
            if self.loads or self.length or self.ancillary:
                self.op(e.mov64(REG_CTX, src=e.R1))
            if self.loads:
                self.op(e.ldx(e.W, T1, REG_CTX, SKB_FIELDS["len"].offset))
                self.reload_data()
                self.op(e.mov64(T2, src=REG_END))
                self.op(e.alu64(e.SUB, T2, src=REG_DATA))
                self.op(e.jmp(e.JGE, T2, src=T1), "pulled")
                self.op(e.mov64(e.R1, src=REG_CTX))
                self.op(e.mov64(e.R2, src=T1))
                self.op(e.call(BPF_FUNC_SKB_PULL_DATA))
                self.reload_data()
                self.label("pulled")
        elif self.loads or self.length or self.ancillary:
            self.op(e.mov64(REG_CTX, src=e.R1))  # LD_ABS/LD_IND read the skb from r6
        uninit = self.facts.uninit
        if self.facts.backward is not None:
            self.op(e.mov32(REG_LOOP, imm=0))
        if _A in uninit:
            self.op(e.mov32(REG_A, imm=0))
        if _X in uninit:
            self.op(e.mov32(REG_X, imm=0))
        k = 0
        while k < 16:
            if k % 2 == 0 and k in uninit and k + 1 in uninit:
                self.op(e.st(e.DW, e.FP, _slot(k), 0))
                k += 2
                continue
            if k in uninit:
                self.op(e.st(e.W, e.FP, _slot(k), 0))
            k += 1

    def reload_data(self) -> None:
        self.op(e.ldx(e.W, REG_DATA, REG_CTX, self.target.data_off or 0))
        self.op(e.ldx(e.W, REG_END, REG_CTX, self.target.data_end_off or 0))

    def one(self, i: int, insn: tuple[int, int, int, int]) -> None:
        code, jt, jf, k = insn
        if code in ABS_LOADS and k >= SKF_AD_OFF:
            self.ancillary_load(i, k - SKF_AD_OFF)
        elif code in _LOADS:
            size = LOAD_WIDTH[code & SIZE_MASK]
            if code in IND_LOADS:
                self.ind_load(i, size, k)
            else:
                self.abs_load(i, size, k, REG_A)
        elif code == LDX_MSH:
            self.abs_load(i, 1, k, REG_X)
            self.op(e.alu32(e.AND, REG_X, imm=0xF))
            self.op(e.alu32(e.LSH, REG_X, imm=2))
        elif code in (LD_IMM, LDX_IMM):
            self.op(e.mov32(REG_A if code == LD_IMM else REG_X, imm=k))
        elif code in (LD_LEN, LDX_LEN):
            self.length_into(REG_A if code == LD_LEN else REG_X)
        elif code in (LD_MEM, LDX_MEM):
            self.op(e.ldx(e.W, REG_A if code == LD_MEM else REG_X, e.FP, _slot(k)))
        elif code in (ST, STX):
            self.op(e.stx(e.W, e.FP, _slot(k), REG_A if code == ST else REG_X))
        elif code in ALU_K or code in ALU_X:
            self.alu(i, code, k)
        elif code == JA:
            target = (i + 1 + k) & 0xFFFFFFFF
            if target == i:  # a ja to itself: the interpreter returns 0
                self.goto("reject")
            elif target < i:  # one more turn of a loop, if the bound allows
                self.op(e.alu32(e.ADD, REG_LOOP, imm=1))
                self.op(e.jmp32(e.JGT, REG_LOOP, imm=self.loop_bound), "reject")
                self.goto(f"i{target}")
            else:
                self.goto(f"i{target}")
        elif code in COND_JUMPS:
            self.cond(i, code, jt, jf, k)
        elif code == RET_K:
            if k == 0:
                self.goto("reject")
            elif self.accept is None:
                self.op(e.mov32(e.R0, imm=k))
                self.op(e.exit_())
            else:
                self.goto("accept")
        elif code == RET_A:
            if self.accept is None:
                self.op(e.mov32(e.R0, src=REG_A))
                self.op(e.exit_())
            else:
                self.op(e.jmp32(e.JEQ, REG_A, imm=0), "reject")
                self.goto("accept")
        elif code == TAX:
            self.op(e.mov32(REG_X, src=REG_A))
        elif code == TXA:
            self.op(e.mov32(REG_A, src=REG_X))
        else:  # an opcode the interpreter does not implement returns 0
            self.goto("reject")

    def length_into(self, reg: int) -> None:
        if self.target.name == "xdp":
            self.op(e.mov64(reg, src=REG_END))
            self.op(e.alu64(e.SUB, reg, src=REG_DATA))
            self.op(e.mov32(reg, src=reg))  # tell the verifier it is a u32
        else:
            self.op(e.ldx(e.W, reg, REG_CTX, SKB_FIELDS["len"].offset))

    def abs_load(self, i: int, size: int, k: int, dst: int) -> None:
        if not self.target.direct:
            self.op(e.ld_abs(_SIZE[size], k))
            self.op(e.mov32(dst, src=e.R0))
            return
        guard = self.guards.get(i)
        if guard is not None:
            if guard > MAX_PACKET_OFF:
                self.goto("reject")
                return
            self.guard_count += 1
            self.op(e.mov64(T1, src=REG_DATA))
            self.op(e.alu64(e.ADD, T1, imm=guard))
            self.op(e.jmp(e.JGT, T1, src=REG_END), "reject")
        if k + size <= 0x7FFF:
            self.op(e.ldx(_SIZE[size], dst, REG_DATA, k))
        else:  # past ldx's 16-bit offset; not r5, which may hold data + X
            self.op(e.mov64(T1, src=REG_DATA))
            self.op(e.alu64(e.ADD, T1, imm=k))
            self.op(e.ldx(_SIZE[size], dst, T1, 0))
        if size > 1:
            self.op(e.to_be(dst, size * 8))

    def ind_load(self, i: int, size: int, k: int) -> None:
        if not self.target.direct:
            self.op(e.ld_ind(_SIZE[size], REG_X, k))
            self.op(e.mov32(REG_A, src=e.R0))
            return
        guard = self.ind_guards.get(i)
        if guard is not None:
            limit = MAX_PACKET_OFF - guard
            if limit < 0:  # X + k + size > 65535 whatever X is
                self.goto("reject")
                return
            self.guard_count += 1
            # bound X first (the verifier adds only a bounded scalar to a packet pointer),
            # then data + X + guard <= data_end; X + k does not wrap (libpcap's mode).
            # r5 = data + X stays for the loads this guard covers (X is not written there).
            self.op(e.jmp32(e.JGT, REG_X, imm=limit), "reject")
            self.op(e.mov64(REG_XPTR, src=REG_DATA))
            self.op(e.alu64(e.ADD, REG_XPTR, src=REG_X))
            self.op(e.mov64(T1, src=REG_XPTR))
            self.op(e.alu64(e.ADD, T1, imm=guard))
            self.op(e.jmp(e.JGT, T1, src=REG_END), "reject")
        if k <= 0x7FFF:
            self.op(e.ldx(_SIZE[size], REG_A, REG_XPTR, k))
        else:
            self.op(e.mov64(T1, src=REG_XPTR))
            self.op(e.alu64(e.ADD, T1, imm=k))
            self.op(e.ldx(_SIZE[size], REG_A, T1, 0))
        if size > 1:
            self.op(e.to_be(REG_A, size * 8))

    def ancillary_load(self, i: int, offset: int) -> None:
        name = ANCILLARY.get(offset)
        if name is None:  # the kernel knows no such offset: the load fails
            self.goto("reject")
            return
        if not self.target.skb:
            raise TranslationError(
                f"instruction {i}: the ancillary load [{name}] reads socket-buffer metadata, "
                f"which {self.target.name} programs do not have (compile without --linux)"
            )
        if name == "alu_xor_x":
            self.op(e.alu32(e.XOR, REG_A, src=REG_X))
        elif name in HELPER_ANCILLARIES:
            self.op(e.call(HELPER_ANCILLARIES[name]))
            self.op(e.mov32(REG_A, src=e.R0))
            if self.target.direct and self.loads:
                self.reload_data()
        elif name in SKB_FIELDS:
            field = SKB_FIELDS[name]
            self.op(e.ldx(e.W, REG_A, REG_CTX, field.offset))
            if field.swap16:
                self.op(e.to_be(REG_A, 16))
        else:
            raise TranslationError(
                f"instruction {i}: the ancillary load [{name}] has no struct __sk_buff field "
                f"in eBPF, so it cannot be translated for {self.target.name}"
            )

    def alu(self, i: int, code: int, k: int) -> None:
        op = code & OP_MASK
        if op == AluOp.NEG:
            self.op(e.alu32(e.NEG, REG_A))
            return
        by_x = bool(code & SRC_MASK)
        eop = _ALU[op]
        linux = not self.target.direct
        if op in (AluOp.LSH, AluOp.RSH):
            if not by_x:
                if linux:
                    k &= 31
                if k >= 32:
                    self.op(e.mov32(REG_A, imm=0))
                elif k:
                    self.op(e.alu32(eop, REG_A, imm=k))
                return
            if linux:
                self.op(e.mov32(T1, src=REG_X))
                self.op(e.alu32(e.AND, T1, imm=31))
                self.op(e.alu32(eop, REG_A, src=T1))
                return
            self.op(e.jmp32(e.JGT, REG_X, imm=31), f"z{i}")
            self.op(e.alu32(eop, REG_A, src=REG_X))
            self.goto(f"e{i}")
            self.label(f"z{i}")
            self.op(e.mov32(REG_A, imm=0))
            self.label(f"e{i}")
            return
        if by_x:
            if op in (AluOp.DIV, AluOp.MOD):
                self.op(e.jmp32(e.JEQ, REG_X, imm=0), "reject")
            self.op(e.alu32(eop, REG_A, src=REG_X))
        else:
            self.op(e.alu32(eop, REG_A, imm=k))

    def cond(self, i: int, code: int, jt: int, jf: int, k: int) -> None:
        t, f = f"i{i + 1 + jt}", f"i{i + 1 + jf}"
        if jt == jf:
            self.goto(t)
            return
        op = _JMP[code & OP_MASK]
        src = REG_X if code & SRC_MASK else None

        def test(eop: int, where: str) -> None:
            self.op(e.jmp32(eop, REG_A, src=src, imm=k), where)

        if jf == 0:
            test(op, t)
        elif jt == 0 and op in _INVERSE:
            test(_INVERSE[op], f)
        else:
            test(op, t)
            self.goto(f)


def _ancillary(code: int, k: int) -> bool:
    return code in ABS_LOADS and k >= SKF_AD_OFF


def _slot(k: int) -> int:
    return SCRATCH_BASE + 4 * k


def _resolve(items: list[_Op | _Label]) -> list[EbpfInsn]:
    """Drop unreachable code and jumps to the next instruction, then fill in offsets."""
    ops: list[_Op] = []
    where: dict[str, int] = {}
    for item in items:
        if isinstance(item, _Label):
            where[item.name] = len(ops)
        else:
            ops.append(item)
    ops = _thread(ops, where)
    while True:
        keep = _reachable(ops, where)
        _invert_over_ja(ops, where, keep)
        for j, item in enumerate(ops):  # a ja to the next kept instruction does nothing
            if keep[j] and item.insn.code == e.JMP | e.JA and item.target is not None:
                t = where[item.target]
                if t > j and not any(keep[j + 1 : t]):
                    keep[j] = False
        if all(keep):
            break
        new_index: list[int] = []
        kept: list[_Op] = []
        for j, item in enumerate(ops):
            new_index.append(len(kept))
            if keep[j]:
                kept.append(item)
        new_index.append(len(kept))
        where = {name: new_index[pos] for name, pos in where.items()}
        ops = kept
    out = []
    for j, item in enumerate(ops):
        insn = item.insn
        if item.target is not None:
            off = where[item.target] - (j + 1)
            if insn.code == e.JMP | e.JA and not -0x8000 <= off <= 0x7FFF:
                out.append(e.EbpfInsn(e.JMP32 | e.JA, 0, 0, 0, off))  # gotol: 32-bit offset
                continue
            if not -0x8000 <= off <= 0x7FFF:
                raise TranslationError(
                    f"the eBPF program is too long: a jump of {off} instructions does not fit "
                    "in 16 bits"
                )
            insn = insn._replace(off=off)
        out.append(insn)
    return out


_NEGATE = {e.JEQ: e.JNE, e.JNE: e.JEQ, e.JGT: e.JLE, e.JLE: e.JGT, e.JGE: e.JLT, e.JLT: e.JGE}


def _invert_over_ja(ops: list[_Op], where: dict[str, int], keep: list[bool]) -> None:
    """``if c goto L; ja M; L:`` becomes ``if !c goto M; L:`` (the ``ja`` is dropped)."""
    kept = [j for j in range(len(ops)) if keep[j]]
    targeted = {where[ops[j].target] for j in kept if ops[j].target is not None}  # type: ignore[index]
    for a, b, c in zip(kept, kept[1:], kept[2:], strict=False):
        test, ja = ops[a], ops[b]
        code = test.insn.code
        if (
            test.target is None
            or code & e.CLASS_MASK not in (e.JMP, e.JMP32)
            or code & e.OP_MASK not in _NEGATE
            or not keep[a]
            or ja.insn.code != e.JMP | e.JA
            or ja.target is None
            or where[test.target] != c
            or not keep[b]
            or b in targeted  # something else jumps to the ja
            or not -0x8000 <= where[ja.target] - (a + 1) <= 0x7FFF  # too far for a test
        ):
            continue
        negated = code & ~e.OP_MASK | _NEGATE[code & e.OP_MASK]
        ops[a] = _Op(test.insn._replace(code=negated), ja.target)
        keep[b] = False


def _thread(ops: list[_Op], where: dict[str, int]) -> list[_Op]:
    """Jumps to a ``ja`` go straight to where that one goes (a cBPF ``ret`` is a ``ja`` to
    the exit, so a test that ends in ``ret`` jumps to the exit itself).  A conditional
    jump is threaded only as far as its 16-bit offset reaches (counted before pruning,
    which only brings targets closer); a ``ja`` can become a ``gotol``."""
    out = []
    for j, item in enumerate(ops):
        target = item.target
        conditional = item.insn.code != e.JMP | e.JA
        for _ in range(len(ops)):  # a loop of ja's would be a bug: this bounds it anyway
            if target is None or where[target] >= len(ops):
                break
            nxt = ops[where[target]]
            if nxt.insn.code != e.JMP | e.JA or nxt.target is None or nxt.target == target:
                break
            if conditional and not -0x8000 <= where[nxt.target] - (j + 1) <= 0x7FFF:
                break
            target = nxt.target
        out.append(item._replace(target=target))
    return out


def _reachable(ops: list[_Op], where: dict[str, int]) -> list[bool]:
    keep = [False] * len(ops)
    todo = [0] if ops else []
    while todo:
        j = todo.pop()
        if j >= len(ops) or keep[j]:
            continue
        keep[j] = True
        code = ops[j].insn.code
        if code == e.JMP | e.EXIT:
            continue
        if ops[j].target is not None:
            todo.append(where[ops[j].target])
            if code == e.JMP | e.JA:
                continue
        todo.append(j + 1)
    return keep
