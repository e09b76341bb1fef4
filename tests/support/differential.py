"""Differential harness: bpfc's program and a reference program must agree on every packet.

The reference is libpcap (the system library, compiled with ``pcap_compile`` and run
by its own ``bpf_filter``), or, for features newer than the system libpcap, a listing
from libpcap master assembled with ``bpfc.isa.asm`` (run by libpcap's ``bpf_filter`` where
that is safe, else by ``bpfc.vm``).  The candidate is ``bpfc.compile`` run by bpfc's
interpreter; both ends are pluggable so the harness can test itself (libpcap
optimized vs libpcap unoptimized must always agree).

Packets default to the targeted set for the expression plus packets steered by the
reference program (see ``bpfc.packetgen.explore``).  Every disagreement carries the
packet in hex, both verdicts and both listings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pytest

from bpfc.packetgen import Packet, packet_set

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
    from bpfc.isa.asm import read

    return [tuple(i) for i in read("\n".join(lines), "d")]


def listing_compile(expected_opt: Sequence[str] | None, expected_unopt: Sequence[str]) -> CompileFn:
    """A reference "compiler" answering with master's expected listings (for features newer
    than the system libpcap); ``expected_opt=None`` means master's optimizer rejects it."""

    def compile_fn(expr: str, linktype: str, snaplen: int, optimize: bool, netmask) -> Insns:
        if optimize and expected_opt is None:
            raise Rejected("expression rejects all packets")
        return listing_reference(expected_opt if optimize else expected_unopt)

    return compile_fn


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
    # which rule of tests/support/policy.py broke ("" from check(): like against like)
    rule: str = ""

    def __str__(self) -> str:
        rule = f" [{self.rule}]" if self.rule else ""
        head = f"{self.linktype} {'-O' if not self.optimize else 'opt'}{rule} {self.expr!r}:"
        if self.packet is None:
            return f"{head} bpfc: {self.ours}; reference: {self.reference}"
        p = self.packet
        return (
            f"{head} bpfc returned {self.ours}, reference {self.reference}\n"
            f"  packet [{p.label}] caplen {len(p.data)} wirelen {p.wirelen}: {p.data.hex()}\n"
            f" bpfc program:\n{dump(self.our_insns)}\n reference program:\n{dump(self.ref_insns)}"
        )


STEERED = int(os.environ.get("BPFC_STEERED_PACKETS", "80"))


def default_packets(
    expr: str, linktype: str, ref_programs: Iterable[Insns], seed: int = 0
) -> list[Packet]:
    """The targeted packet set for ``expr`` plus up to $BPFC_STEERED_PACKETS (default 80)
    packets steered by the reference programs."""
    return packet_set(expr, linktype, ref_programs, seed=seed, steered=STEERED)


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
    ``max_reports`` per optimize setting).  Both rejecting counts as agreement.  Skips the
    calling test when the reference is the system libpcap and it is not available."""
    if reference is libpcap_compile or reference_runner is libpcap_runner:
        require_libpcap()
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
