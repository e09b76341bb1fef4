"""Differential harness: bpfc's program and a reference program must agree on every packet.

The reference is libpcap (the system library, compiled with ``pcap_compile`` and run
by its own ``bpf_filter``), or, for features newer than the system libpcap, a listing
from libpcap master assembled with ``bpfc.asm`` (run by libpcap's ``bpf_filter`` where
that is safe, else by ``bpfc.vm``).  The candidate is ``bpfc.compile`` run by bpfc's
interpreter; both ends are pluggable so the harness can test itself (libpcap
optimized vs libpcap unoptimized must always agree).

Packets default to the targeted set for the expression plus packets steered by the
reference program (see ``bpfc.packetgen.explore``).  Every disagreement carries the
packet in hex, both verdicts and both listings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pytest

from bpfc.packetgen import Packet, targeted_packets
from bpfc.packetgen.explore import explore

Insns = list[tuple[int, int, int, int]]
# (expr, linktype, snaplen, optimize, netmask) -> instructions; raises on rejection.
CompileFn = Callable[[str, str, int, bool, "int | None"], Insns]


class Rejected(Exception):
    """The compiler refused the expression; ``message`` is its error text."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


def _libpcap():
    from bpfc import libpcap

    return libpcap


def libpcap_available() -> bool:
    try:
        return _libpcap().available()
    except ImportError:
        return False


def require_libpcap() -> None:
    """Skip the calling test, with the reason, when the system libpcap is not usable."""
    if not libpcap_available():
        pytest.skip("system libpcap not available (bpfc.libpcap.available() is false)")


def libpcap_compile(expr: str, linktype: str, snaplen: int, optimize: bool, netmask) -> Insns:
    """The system libpcap's program (``Rejected`` carrying pcap_geterr's text on failure)."""
    lp = _libpcap()
    mask = lp.PCAP_NETMASK_UNKNOWN if netmask is None else netmask
    if isinstance(mask, str):  # dotted quad, as the upstream records give it
        mask = int.from_bytes(bytes(int(p) for p in mask.split(".")), "big")
    try:
        return [tuple(i) for i in lp.compile(expr, linktype, snaplen, optimize, mask)]
    except lp.LibpcapError as err:
        return _raise(Rejected(err.message))


def bpfc_compile(expr: str, linktype: str, snaplen: int, optimize: bool, netmask) -> Insns:
    """bpfc's program; ``CompileError`` becomes ``Rejected``, any other error propagates."""
    import bpfc
    from bpfc.errors import CompileError

    try:
        prog = bpfc.compile(
            expr, linktype=linktype, snaplen=snaplen, optimize=optimize, netmask=netmask
        )
    except CompileError as err:
        return _raise(Rejected(str(err)))
    except NotImplementedError as err:
        return _raise(Rejected(f"not implemented: {err}", kind="unsupported"))
    return [tuple(i) for i in prog]


def _raise(err: Exception):
    raise err


def listing_reference(lines: Sequence[str]) -> Insns:
    """Instructions of a ``-d`` listing (libpcap master's expected output), unvalidated:
    ``protochain`` loops jump backwards, which libpcap emits but no validator accepts."""
    from bpfc.asm import read

    return [tuple(i) for i in read("\n".join(lines), "d")]


def libpcap_runner(insns: Insns) -> Callable[[bytes, int], int]:
    """libpcap's ``bpf_filter`` over ``insns`` (falls back to bpfc.vm for unsafe programs)."""
    lp = _libpcap()
    try:
        return lp.make_bpf_filter(insns)
    except lp.LibpcapError:
        return bpfc_runner(insns)


def bpfc_runner(insns: Insns) -> Callable[[bytes, int], int]:
    """bpfc's interpreter over ``insns`` (libpcap's while bpfc.vm is not there yet)."""
    try:
        from bpfc.vm import make_filter
    except ImportError:
        return _libpcap().make_bpf_filter(insns)
    return make_filter(insns)


def dump(insns: Insns | None) -> str:
    """``-d`` style listing, via libpcap's bpf_image where possible (always available here)."""
    if insns is None:
        return "  (no program)"
    lp = _libpcap()
    return "\n".join("  " + lp.bpf_image(i, n) for n, i in enumerate(insns))


@dataclass
class Disagreement:
    """One packet (or one compile outcome) on which candidate and reference differ."""

    expr: str
    linktype: str
    optimize: bool
    packet: Packet | None
    ours: int | str
    reference: int | str
    our_insns: Insns | None = field(default=None, repr=False)
    ref_insns: Insns | None = field(default=None, repr=False)

    def __str__(self) -> str:
        head = f"{self.linktype} {'-O' if not self.optimize else 'opt'} {self.expr!r}:"
        if self.packet is None:
            return f"{head} bpfc: {self.ours}; reference: {self.reference}"
        p = self.packet
        return (
            f"{head} bpfc returned {self.ours}, reference {self.reference}\n"
            f"  packet [{p.label}] caplen {len(p.data)} wirelen {p.wirelen}: {p.data.hex()}\n"
            f" bpfc program:\n{dump(self.our_insns)}\n reference program:\n{dump(self.ref_insns)}"
        )


def default_packets(
    expr: str, linktype: str, ref_programs: Iterable[Insns], seed: int = 0
) -> list[Packet]:
    """The targeted packet set for ``expr`` plus packets steered by the reference programs."""
    seeds = targeted_packets(expr, linktype, seed=seed)
    return seeds + explore(list(ref_programs), seeds, seed=seed, limit=200)


def check(
    expr: str,
    linktype: str = "EN10MB",
    packets: Sequence[Packet] | None = None,
    snaplen: int = 262144,
    netmask: int | None = None,
    optimize: Sequence[bool] = (True, False),
    *,
    candidate: CompileFn = bpfc_compile,
    reference: CompileFn = libpcap_compile,
    candidate_runner: Callable[[Insns], Callable] = bpfc_runner,
    reference_runner: Callable[[Insns], Callable] = libpcap_runner,
    max_reports: int = 5,
) -> list[Disagreement]:
    """Every disagreement between candidate and reference over ``packets`` (at most
    ``max_reports`` per optimize setting).  Both rejecting counts as agreement."""
    refs: dict[bool, Insns | Rejected] = {}
    for opt in optimize:
        try:
            refs[opt] = reference(expr, linktype, snaplen, opt, netmask)
        except Rejected as err:
            refs[opt] = err
    if packets is None:
        progs = [r for r in refs.values() if not isinstance(r, Rejected)]
        packets = default_packets(expr, linktype, progs)
    out: list[Disagreement] = []
    for opt in optimize:
        ref = refs[opt]
        try:
            ours = candidate(expr, linktype, snaplen, opt, netmask)
        except Rejected as err:
            if not isinstance(ref, Rejected):
                out.append(Disagreement(expr, linktype, opt, None, f"rejects: {err.message}",
                                        "compiles", None, ref))  # fmt: skip
            continue
        if isinstance(ref, Rejected):
            out.append(Disagreement(expr, linktype, opt, None, "compiles",
                                    f"rejects: {ref.message}", ours, None))  # fmt: skip
            continue
        run_ours, run_ref = candidate_runner(ours), reference_runner(ref)
        found = 0
        for pkt in packets:
            a, b = run_ours(pkt.data, pkt.wirelen), run_ref(pkt.data, pkt.wirelen)
            if a != b:
                out.append(Disagreement(expr, linktype, opt, pkt, a, b, ours, ref))
                found += 1
                if found >= max_reports:
                    break
    return out


def assert_agree(expr: str, linktype: str = "EN10MB", **kwargs) -> None:
    """Fail the calling test with a readable report if :func:`check` finds anything."""
    found = check(expr, linktype, **kwargs)
    if found:
        pytest.fail("\n".join(str(d) for d in found), pytrace=False)


def libpcap_unopt(expr: str, linktype: str, snaplen: int, optimize: bool, netmask) -> Insns:
    """A stand-in candidate for the harness self-test: libpcap's unoptimized program."""
    return libpcap_compile(expr, linktype, snaplen, False, netmask)


def probe_pool(
    linktype: str, primitives: Sequence[str], candidate: CompileFn = bpfc_compile
) -> tuple[list[str], dict[str, str]]:
    """(primitives both compilers accept on ``linktype``, {excluded primitive: why}).

    Compositions draw only from the first list, so a half-finished compiler is still
    tested on everything it claims to support.
    """
    usable, excluded = [], {}
    for prim in primitives:
        try:
            libpcap_compile(prim, linktype, 262144, False, None)
        except Rejected as err:
            excluded[prim] = f"libpcap rejects: {err.message}"
            continue
        try:
            candidate(prim, linktype, 262144, False, None)
            candidate(prim, linktype, 262144, True, None)
        except Rejected as err:
            excluded[prim] = f"bpfc: {err.message}"
            continue
        except Exception as err:  # an unfinished compiler may raise anything; report it
            excluded[prim] = f"bpfc crashed: {type(err).__name__}: {err}"
            continue
        usable.append(prim)
    return usable, excluded


@dataclass
class SoakResult:
    """What a run of random compositions found."""

    expressions: int = 0
    packets: int = 0
    both_rejected: int = 0
    disagreements: list[Disagreement] = field(default_factory=list)
    failing_exprs: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)


def run_compositions(
    count: int,
    linktype: str = "EN10MB",
    *,
    seed: int = 0,
    primitives: Sequence[str],
    depth: int = 4,
    candidate: CompileFn = bpfc_compile,
    candidate_runner: Callable[[Insns], Callable] = bpfc_runner,
    pad_to: int = 0,
    optimize: Sequence[bool] = (True, False),
) -> SoakResult:
    """Check ``count`` random compositions of ``primitives`` (deterministic for ``seed``).

    ``pad_to`` zero-pads every packet to at least that many bytes: libpcap's own optimizer
    drops loads whose value cannot matter, so its optimized and unoptimized programs
    legitimately differ on captures too short for those loads (the self-test pads).
    """
    import random

    from bpfc.packetgen.compose import compose

    rng = random.Random(f"{seed}:{linktype}")
    result = SoakResult()
    for i in range(count):
        expr = compose(list(primitives), rng, depth)
        refs = []
        for opt in optimize:
            try:
                refs.append(libpcap_compile(expr, linktype, 262144, opt, None))
            except Rejected:
                pass
        packets = default_packets(expr, linktype, refs, seed=seed + i)
        if pad_to:
            packets = [_pad(p, pad_to) for p in packets]
        try:
            found = check(expr, linktype, packets, optimize=optimize, candidate=candidate,
                          candidate_runner=candidate_runner, max_reports=2)  # fmt: skip
        except Exception as err:
            result.crashes.append(f"{expr!r}: {type(err).__name__}: {err}")
            continue
        result.expressions += 1
        result.packets += len(packets)
        result.both_rejected += not refs and not found
        if found:
            result.disagreements += found
            result.failing_exprs.append(expr)
    return result


def _pad(pkt: Packet, size: int) -> Packet:
    if len(pkt.data) >= size:
        return pkt
    extra = size - len(pkt.data)
    return Packet(pkt.data + bytes(extra), max(pkt.wirelen, len(pkt.data)) + extra, pkt.label)


# --- what CI runs against bpfc, shared with tools/differential_soak.py --update-known-failures

CI_LINKTYPES = ("EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW", "IPV4", "IPV6", "NULL", "LOOP",
                "PPP", "C_HDLC", "FDDI", "IEEE802", "IEEE802_11", "PFLOG")  # fmt: skip
KNOWN_FAILURES = __import__("pathlib").Path(__file__).with_name("differential_known_failures.txt")


def ci_compositions() -> int:
    """Compositions per link type and optimize setting in CI ($BPFC_COMPOSITIONS, default 20)."""
    import os

    return int(os.environ.get("BPFC_COMPOSITIONS", "20"))


def ci_results(linktype: str) -> tuple[dict[str, str | None], dict[str, str]]:
    """({check: failure or None}, excluded primitives) for one link type.

    Checks are each usable primitive alone, then ``@compositions-unopt`` and
    ``@compositions-opt``: random compositions of the primitives that pass alone.
    """
    from bpfc.packetgen.compose import pool

    usable, excluded = probe_pool(linktype, pool(linktype))
    results: dict[str, str | None] = {}
    for prim in usable:
        found = check(prim, linktype, max_reports=1)
        results[prim] = str(found[0]) if found else None
    passing = [p for p in usable if results[p] is None]
    for tag, opt in (("@compositions-unopt", (False,)), ("@compositions-opt", (True,))):
        if not passing:
            results[tag] = None
            continue
        res = run_compositions(ci_compositions(), linktype, primitives=passing, optimize=opt)
        bad = res.disagreements
        results[tag] = (
            f"{len(res.failing_exprs)} of {res.expressions} disagree; first:\n{bad[0]}"
            if bad else "crash: " + res.crashes[0] if res.crashes else None
        )  # fmt: skip
    return results, excluded


def known_failures() -> set[tuple[str, str]]:
    """(linktype, check) pairs recorded as failing in differential_known_failures.txt."""
    if not KNOWN_FAILURES.exists():
        return set()
    out = set()
    for line in KNOWN_FAILURES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            linktype, _, what = line.partition("\t")
            out.add((linktype, what))
    return out
