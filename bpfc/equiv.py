"""Are two filters the same?  Run both over packets, then prove it (optional SMT solver).

Each side of a comparison is a filter *expression* (compiled by bpfc for a link type) or
a *program* somebody already has (any text form :func:`bpfc.isa.asm.assemble` reads, or
raw ``struct sock_filter`` bytes).  :func:`compare` answers in two steps:

1. **Packets.**  Both programs run, with the bundled interpreter, over the union of the
   sides' targeted packet sets (:func:`bpfc.packetgen.targeted_packets`: the
   expressions' constants and their neighbours, truncations, tags, noise) plus packets
   steered by both programs toward the comparisons they make
   (:func:`bpfc.packetgen.explore.explore`).  A packet on which the return values differ
   is a concrete, readable counterexample, and settles it.
2. **Proof.**  Where no packet differs and ``z3-solver`` is installed (the ``smt``
   extra), both programs are encoded over one symbolic packet (its bytes, its captured
   and wire lengths; :mod:`bpfc.opt.smt` gives cBPF's semantics) and the solver either
   proves that no packet at all (of up to :data:`MAX_CAPLEN` captured bytes, any wire
   length) separates them or returns one that does.  A packet the solver returns is run
   through the interpreter again before it is believed.

Without a solver, no difference on the packets is *not* a proof: the verdict is
``unknown``.  Semantics are libpcap's ``bpf_filter`` (as :meth:`bpfc.Program.run`
without Linux metadata): a load past the captured length returns 0, scratch memory
starts zeroed.  By default the two programs must return the same *value*; with
``verdicts_only=True`` only accept (non-zero) versus reject (zero) counts, so a
``tcpdump -dd`` program returning 65535 equals bpfc's returning 262144.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bpfc.errors import BpfcError
from bpfc.program import Program

__all__ = [
    "Difference",
    "EquivResult",
    "Side",
    "compare",
    "expression",
    "program",
    "solver_available",
]

Verdict = Literal["same", "different", "unknown"]

#: exit status of ``bpfc equiv`` for each verdict (errors: :data:`EXIT_ERROR`)
EXIT_STATUS: dict[str, int] = {"same": 0, "different": 1, "unknown": 2}
EXIT_ERROR = 3

#: the solver looks for a short packet first (its bytes are read back one by one)
SHORT_PACKET = 4096
#: the longest capture a proof covers: libpcap's largest snapshot for most link types
#: (a longer bound would let a load at SKF_AD_OFF, 0xfffff000, read packet bytes)
MAX_CAPLEN = 262144


class EquivError(BpfcError, ValueError):
    """A side of a comparison cannot be used (names the side and what is wrong)."""


@dataclass(frozen=True)
class Side:
    """One side of a comparison: the program to run, and where it came from.

    ``linktype`` says which packets the program expects: it chooses the packets built
    for it, and the link type a differing packet is decoded and written with.
    """

    program: Program
    linktype: str | int = "EN10MB"
    expr: str | None = None
    label: str = ""

    @property
    def description(self) -> str:
        if self.label:
            return self.label
        return repr(self.expr) if self.expr is not None else f"a {len(self.program)}-insn program"


def expression(
    expr: str,
    linktype: str | int = "EN10MB",
    *,
    snaplen: int = 262144,
    netmask: int | str | None = None,
    optimize: bool = True,
    label: str = "",
) -> Side:
    """A side compiled from ``expr`` (raises :class:`bpfc.CompileError` as compile does)."""
    from bpfc.compiler import compile as compile_expr

    prog = compile_expr(expr, linktype, snaplen, optimize, netmask)
    return Side(prog, linktype, expr, label)


def program(
    source: Program | Sequence[Sequence[int]] | str | bytes,
    linktype: str | int = "EN10MB",
    *,
    label: str = "",
) -> Side:
    """A side from a program: a :class:`Program`, ``(code, jt, jf, k)`` tuples, text in any
    form :func:`bpfc.assemble` reads (``-d``/``-dd``/``-ddd``, bpf_asm, xt_bpf, JSON), or
    raw ``struct sock_filter`` bytes in this machine's byte order."""
    from bpfc.isa.asm import assemble

    if isinstance(source, str):
        prog = assemble(source)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        prog = Program.from_bytes(source)
    else:
        prog = Program.from_insns(source)
    return Side(prog, linktype, None, label)


@dataclass(frozen=True)
class Difference:
    """A packet on which the two programs return different values."""

    data: bytes
    wirelen: int
    a: int
    b: int
    found_by: Literal["packets", "solver"]

    @property
    def caplen(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class EquivResult:
    """What :func:`compare` found.  ``verdict`` is ``same`` (proved by the solver),
    ``different`` (``difference`` holds the packet) or ``unknown`` (``reason`` says why
    it was not proved)."""

    verdict: Verdict
    a: Side
    b: Side
    packets: int
    difference: Difference | None = None
    proved: bool = False
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.verdict == "same"

    @property
    def different(self) -> bool:
        return self.verdict == "different"

    @property
    def exit_status(self) -> int:
        """``bpfc equiv``'s exit status: 0 same, 1 different, 2 unknown."""
        return EXIT_STATUS[self.verdict]

    def __bool__(self) -> bool:
        return self.same


def solver_available() -> bool:
    """True when the optional SMT solver (``z3-solver``) can be imported."""
    return importlib.util.find_spec("z3") is not None


def _as_side(value: Side | Program | str, linktype: str | int) -> Side:
    if isinstance(value, Side):
        return value
    if isinstance(value, Program):
        return Side(value, linktype)
    if isinstance(value, str):
        return expression(value, linktype)
    raise TypeError(
        f"compare() takes a filter expression (str), a bpfc.Program or an equiv.Side, "
        f"not {type(value).__name__}"
    )


def packets_for(sides: Sequence[Side], *, seed: int = 0, steered: int = 300) -> list[Any]:
    """The union of the sides' targeted packet sets, plus packets steered by both
    programs (:class:`bpfc.packetgen.Packet` records, each packet once)."""
    from bpfc.packetgen import targeted_packets
    from bpfc.packetgen.explore import explore

    seeds: list[Any] = []
    seen: set[tuple[bytes, int]] = set()
    for side in sides:
        linktype = _linktype_name(side.linktype)
        try:
            made = targeted_packets(side.expr or "", linktype, seed=seed)
        except ValueError:  # a link type packetgen has no framing for: any seeds will do,
            made = targeted_packets(side.expr or "", "EN10MB", seed=seed)  # explore steers
        for pkt in made:
            key = (pkt.data, pkt.wirelen)
            if key not in seen:
                seen.add(key)
                seeds.append(pkt)
    steer = explore([list(s.program) for s in sides], seeds, seed=seed, limit=steered)
    return seeds + [p for p in steer if (p.data, p.wirelen) not in seen]


def _linktype_name(linktype: str | int) -> str:
    if isinstance(linktype, str):
        return linktype
    from bpfc.linktypes import lookup

    return lookup(linktype).name


def _normalize(value: int, verdicts_only: bool) -> int:
    return (1 if value else 0) if verdicts_only else value


def run_packets(
    a: Side, b: Side, packets: Sequence[Any], verdicts_only: bool = False
) -> Difference | None:
    """The first packet of ``packets`` on which ``a`` and ``b`` disagree, if any."""
    run_a, run_b = a.program._filter(False), b.program._filter(False)
    for pkt in packets:
        got_a, got_b = run_a(pkt.data, pkt.wirelen), run_b(pkt.data, pkt.wirelen)
        if _normalize(got_a, verdicts_only) != _normalize(got_b, verdicts_only):
            return Difference(bytes(pkt.data), pkt.wirelen, got_a, got_b, "packets")
    return None


def loops(prog: Sequence[Sequence[int]]) -> bool:
    """True when ``prog`` jumps backwards (``protochain``'s loop), which the solver's
    forward-only encoding cannot follow."""
    from bpfc.isa.opcodes import JA

    return any(code == JA and i + 1 + k > len(prog) for i, (code, _jt, _jf, k) in enumerate(prog))


def prove(
    a: Side, b: Side, *, verdicts_only: bool = False, timeout_ms: int = 30000
) -> tuple[Literal["same", "different", "unknown"], Difference | None, str]:
    """Ask the SMT solver: ``("same", None, "")``, ``("different", packet, "")`` or
    ``("unknown", None, why)``.  Needs ``z3-solver``."""
    import z3

    from bpfc.opt.smt import _encode

    for side in (a, b):
        if loops(side.program):
            return (
                "unknown",
                None,
                f"{side.description} jumps backwards (a loop the solver cannot follow)",
            )
    pkt = z3.Array("pkt", z3.BitVecSort(32), z3.BitVecSort(8))
    caplen, wirelen = z3.BitVec("caplen", 32), z3.BitVec("wirelen", 32)
    zero = [z3.BitVecVal(0, 32)] * 16
    out_a = _encode(z3, list(a.program), pkt, caplen, wirelen, zero)
    out_b = _encode(z3, list(b.program), pkt, caplen, wirelen, zero)
    differ = (out_a != 0) != (out_b != 0) if verdicts_only else out_a != out_b
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    # a capture holds at most the wire's bytes, and at most a snapshot's
    solver.add(differ, z3.ULE(caplen, wirelen), z3.ULE(caplen, MAX_CAPLEN))
    verdict = solver.check()  # over every such packet: unsat is the proof
    if verdict == z3.unsat:
        return "same", None, ""
    if verdict == z3.unknown:
        return "unknown", None, f"the SMT solver gave up ({solver.reason_unknown()})"
    model = _readable(z3, solver, caplen, wirelen, min(timeout_ms, 5000))
    size = model.eval(caplen, model_completion=True).as_long()
    wire = model.eval(wirelen, model_completion=True).as_long()
    data = _model_bytes(z3, model, pkt, size)
    got_a = a.program._filter(False)(data, wire)
    got_b = b.program._filter(False)(data, wire)
    if _normalize(got_a, verdicts_only) == _normalize(got_b, verdicts_only):
        return "unknown", None, "the solver's counterexample does not reproduce (a bpfc bug)"
    return "different", Difference(data, wire, got_a, got_b, "solver"), ""


def _readable(z3: Any, solver: Any, caplen: Any, wirelen: Any, step_ms: int) -> Any:
    """A model of ``solver`` (already sat) whose packet is easy to read: whole (wire
    length = captured length) and short when such a packet exists, then as short as a
    few bisection steps on the captured length find."""
    model = solver.model()
    solver.set("timeout", step_ms)
    for extra in (
        (z3.ULE(caplen, SHORT_PACKET), wirelen == caplen),
        (z3.ULE(caplen, SHORT_PACKET), z3.ULE(wirelen, MAX_CAPLEN)),
        (z3.ULE(caplen, SHORT_PACKET),),
    ):
        solver.push()
        solver.add(*extra)
        if solver.check() == z3.sat:
            model = solver.model()
            break
        solver.pop()
    else:
        solver.push()  # the pop below
    low, high = 0, model.eval(caplen, model_completion=True).as_long()
    for _ in range(12):
        if low >= high:
            break
        middle = (low + high) // 2
        solver.push()
        solver.add(z3.ULE(caplen, middle))
        if solver.check() == z3.sat:
            model = solver.model()
            high = model.eval(caplen, model_completion=True).as_long()
        else:
            low = middle + 1
        solver.pop()
    solver.pop()
    return model


def _model_bytes(z3: Any, model: Any, pkt: Any, size: int) -> bytes:
    """The first ``size`` bytes of the model's packet array (its default and exceptions,
    so a long packet does not cost one solver call per byte)."""
    value = model.eval(pkt, model_completion=True)
    table: dict[int, int] = {}
    default = 0
    while z3.is_store(value):
        index, byte = value.arg(1).as_long(), value.arg(2).as_long()
        table.setdefault(index, byte)
        value = value.arg(0)
    if z3.is_const_array(value):
        default = value.arg(0).as_long()
    else:  # another shape of array model: ask byte by byte (slow, but always right)
        return bytes(
            model.eval(z3.Select(pkt, i), model_completion=True).as_long() for i in range(size)
        )
    return bytes(table.get(i, default) for i in range(size))


def compare(
    a: Side | Program | str,
    b: Side | Program | str,
    *,
    linktype: str | int = "EN10MB",
    verdicts_only: bool = False,
    solver: bool | None = None,
    timeout_ms: int = 30000,
    seed: int = 0,
) -> EquivResult:
    """Compare two filters (expressions, Programs or :class:`Side` s) as the module says.

    ``solver``: None uses the SMT solver when it is installed, False never, True
    requires it (``RuntimeError`` when ``z3-solver`` is missing).
    """
    side_a, side_b = _as_side(a, linktype), _as_side(b, linktype)
    packets = packets_for([side_a, side_b], seed=seed)
    found = run_packets(side_a, side_b, packets, verdicts_only)
    if found is not None:
        return EquivResult("different", side_a, side_b, len(packets), found)
    if solver is None:
        solver = solver_available()
    elif solver and not solver_available():
        raise RuntimeError("the SMT solver is not installed (pip install 'bpfc[smt]')")
    if not solver:
        why = (
            "no SMT solver installed (pip install 'bpfc[smt]')"
            if solver_available() is False
            else "the SMT solver was not used"
        )
        return EquivResult("unknown", side_a, side_b, len(packets), reason=why)
    verdict, diff, why = prove(side_a, side_b, verdicts_only=verdicts_only, timeout_ms=timeout_ms)
    return EquivResult(verdict, side_a, side_b, len(packets), diff, verdict == "same", why)
