"""Random compositions against libpcap, and the per-link-type checks CI runs on bpfc.

Shared by tests/differential/test_differential_bpfc.py and tools/differential_soak.py (which also
regenerates differential_known_failures.txt from :func:`ci_results`, so the file and
the test always mean the same thing).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bpfc.packetgen import Packet
from bpfc.packetgen.compose import compose, compose_leaves, pool
from support.differential import (
    CompileFn,
    Disagreement,
    Insns,
    Rejected,
    bpfc_compile,
    bpfc_runner,
    check,
    default_packets,
    libpcap_compile,
)
from support.policy import check_policy


def probe_pool(
    linktype: str, primitives: Sequence[str], candidate: CompileFn = bpfc_compile
) -> tuple[list[str], dict[str, str]]:
    """(primitives both compilers accept on ``linktype``, {excluded primitive: why}).

    Compositions draw only from the first list, so a half-finished compiler is still
    tested on everything it claims to support.  bpfc's optimizer proving a primitive
    unsatisfiable on the link type does not exclude it: the policy judges that proof.
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
            try:
                candidate(prim, linktype, 262144, True, None)
            except Rejected as err:  # the policy judges a proof of unsatisfiability
                if "rejects all packets" not in err.message:
                    raise
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
    # what the policy excused or skipped (tests/support/policy.py), counted per packet or program
    excused: Counter = field(default_factory=Counter)


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
    policy: bool = False,
) -> SoakResult:
    """Check ``count`` random compositions of ``primitives`` (deterministic for ``seed``),
    like against like with :func:`differential.check`, or under the equivalence policy of
    ``tests/support/policy.py`` with ``policy=True`` (what the soak and CI hold bpfc to).

    ``pad_to`` zero-pads every packet to at least that many bytes: libpcap's own optimizer
    drops loads whose value cannot matter, so its optimized and unoptimized programs
    legitimately differ on captures too short for those loads (the self-test pads).
    """
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
            if policy:
                found = check_policy(expr, linktype, packets, optimize=optimize,
                                     candidate=candidate, candidate_runner=candidate_runner,
                                     stats=result.excused)  # fmt: skip
            else:
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

# One link type per framing family (the upstream suites cover every DLT); more cost CI time.
CI_LINKTYPES = ("EN10MB", "LINUX_SLL2", "RAW", "IPV6", "NULL", "PPP", "C_HDLC", "FDDI",
                "IEEE802_11", "PFLOG")  # fmt: skip
KNOWN_FAILURES = Path(__file__).with_name("differential_known_failures.txt")


def ci_compositions() -> int:
    """Compositions per link type and optimize setting in CI ($BPFC_COMPOSITIONS, default 12)."""
    return int(os.environ.get("BPFC_COMPOSITIONS", "12"))


def ci_expressions(linktype: str, eligible: set[str], count: int) -> list[str]:
    """``count`` compositions drawn from the *whole* pool of ``linktype`` with a fixed seed,
    keeping those whose primitives are all ``eligible``: supporting one more primitive
    adds compositions without reshuffling the others."""
    rng = random.Random(f"ci:{linktype}")
    full = pool(linktype)
    out: list[str] = []
    for _ in range(60 * count):
        expr, leaves = compose_leaves(full, rng, 4)
        if len(leaves) > 1 and set(leaves) <= eligible and expr not in out:
            out.append(expr)
            if len(out) == count:
                break
    return out


def ci_results(linktype: str) -> tuple[dict[str, str | None], dict[str, str]]:
    """({check: failure or None}, excluded primitives) for one link type.

    Checks, under the equivalence policy (``tests/support/policy.py``), are each usable primitive
    alone (key: the primitive), then compositions of the primitives that pass alone, its
    unopt rule (key ``@unopt EXPR``) and its optimizer rules (``@opt EXPR``).
    """
    usable, excluded = probe_pool(linktype, pool(linktype))
    results: dict[str, str | None] = {}
    for prim in usable:
        found = check_policy(prim, linktype, max_reports=1)
        results[prim] = str(found[0]) if found else None
    passing = {p for p in usable if results[p] is None}
    for expr in ci_expressions(linktype, passing, ci_compositions()):
        for tag, opt in (("@unopt", False), ("@opt", True)):
            try:
                found = check_policy(expr, linktype, optimize=(opt,), max_reports=1)
            except Exception as err:  # the harness must report, not die, on a crash
                results[f"{tag} {expr}"] = f"crash: {type(err).__name__}: {err}"
                continue
            results[f"{tag} {expr}"] = str(found[0]) if found else None
    return results, excluded


def known_failures() -> set[tuple[str, str]]:
    """(linktype, check) pairs recorded as failing in differential_known_failures.txt."""
    if not KNOWN_FAILURES.exists():
        return set()
    out = set()
    for line in KNOWN_FAILURES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split("\t")  # LINKTYPE, check, then an optional "# reason"
            out.add((fields[0], fields[1] if len(fields) > 1 else ""))
    return out
