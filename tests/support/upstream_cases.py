"""Running libpcap's own test suite (accept, reject, apply) against bpfc.

Shared by tests/upstream/test_*.py and tools/upstream_report.py so that the known-failures
file the tool writes is exactly what the tests check.  Each ``evaluate_*`` returns
``None`` when the case passes, else a one-line reason (the tests print these).

References.  Accept cases compare verdicts with libpcap **master**'s expected listing,
assembled by ``bpfc.isa.asm`` and run by libpcap's ``bpf_filter`` where that is safe (else
by ``bpfc.vm``): master is the target, and its listings exist for features the system
libpcap 1.10.3 lacks.  Packets: the targeted set for the expression on that link
type, packets steered by the reference programs, and every savefile packet with the
same link type.  Apply cases compare with the recorded per-packet results.  Reject
cases must raise ``CompileError``; whether the message contains libpcap's ``errstr``
is reported as a rate, not enforced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from bpfc.packetgen import LINKTYPES, Packet, names_from_fixtures, noise_packets, targeted_packets
from bpfc.packetgen.explore import explore
from support.differential import (
    Rejected,
    bpfc_runner,
    libpcap_compile,
    libpcap_runner,
    listing_reference,
)

KNOWN_FAILURES = Path(__file__).with_name("upstream_known_failures.txt")
SUITES = ("accept", "reject", "apply")
# Packets per accept case, before exploration (BPFC_UPSTREAM_PACKETS overrides).
PACKETS_PER_CASE = int(os.environ.get("BPFC_UPSTREAM_PACKETS", "80"))


@cache
def load(upstream: Path) -> list[dict]:
    """Every record of libpcap-filtertests.jsonl."""
    with open(upstream / "libpcap-filtertests.jsonl") as fh:
        return [json.loads(line) for line in fh]


@cache
def _aux(upstream: Path) -> dict:
    return json.loads((upstream / "libpcap-filtertests-aux.json").read_text())


@cache
def savefiles(upstream: Path) -> dict:
    """packets.json: savefile name -> {dlt, snaplen, packets: [{caplen, len, hex}]}."""
    return json.loads((upstream / "libpcap-savefiles" / "packets.json").read_text())["files"]


@cache
def savefile_packets_by_dlt(upstream: Path) -> dict[str, list[Packet]]:
    out: dict[str, list[Packet]] = {}
    for name, info in savefiles(upstream).items():
        for i, p in enumerate(info.get("packets", ())):  # malformed files have none
            pkt = Packet(bytes.fromhex(p["hex"]), p["len"], f"{name}#{i}")
            out.setdefault(info["dlt"], []).append(pkt)
    return out


@cache
def resolver(upstream: Path):
    """A resolver serving the suite's hosts/ethers/networks fixtures (None if bpfc has none)."""
    try:
        from bpfc.names import StaticResolver
    except ImportError:
        return None
    fx = _aux(upstream)["name_service_fixtures"]
    return StaticResolver(fx["hosts"], fx["ethers"], fx["networks"])


@cache
def fixture_names(upstream: Path) -> dict[str, list[str]]:
    """The suite's hosts/ethers/networks fixtures as a packetgen ``names`` mapping."""
    fx = _aux(upstream)["name_service_fixtures"]
    return names_from_fixtures(fx["hosts"], fx["ethers"], fx["networks"])


def skip_reason(rec: dict, savefile: bool = False) -> str | None:
    """Why a case does not apply to bpfc on Linux (None: it does).

    Cases compiled for a savefile (``generate_offline_filter``) apply only to callers that
    compile them so (``savefile=True``: they pass :func:`savefile_info`, as ``_compile``
    does); other callers compile for ``pcap_open_dead`` and must not see them."""
    if rec.get("special"):
        return "bpf_image enumeration: covered by the dump/asm tests"
    if rec.get("locally_skipped_by_libpcap_testsuite_on_linux"):
        return "TESTrun itself skips it on Linux"
    if rec.get("linuxext"):
        return "needs a live Linux capture (ancillary loads)"
    if rec.get("generate_offline_filter") and not savefile:
        return "code generated for a savefile's byte order (callers passing savefile=True)"
    for req in rec.get("requires") or []:
        if req.startswith("os_in:") and "linux" not in req[6:].split("|"):
            return f"requires {req}"
        if req in ("os_not:linux", "big_endian_host", "protochain_disabled"):
            return f"requires {req}"
        if req.startswith("os_protocols_igrp=9"):
            return f"requires {req}"
    return None


def cases(upstream: Path, kind: str, savefile: bool = False) -> Iterator[dict]:
    """The applicable cases of one suite (``savefile``: see :func:`skip_reason`)."""
    for rec in load(upstream):
        if rec["kind"] == kind and skip_reason(rec, savefile) is None:
            yield rec


def _netmask(rec: dict):
    return rec.get("netmask")


def savefile_info(rec: dict):
    """The savefile a case compiles for (filtertest ``-S swapped|unswapped``), or None.

    Only "swapped" reaches the code, so a big-endian host's case is compiled for one."""
    mode = rec.get("generate_offline_filter")
    if mode is None:
        return None
    from bpfc.savefile import SavefileInfo

    host = "big" if "big_endian_host" in (rec.get("requires") or ()) else "little"
    return SavefileInfo.from_swapped(mode == "swapped", host)


def _compile(rec: dict, upstream: Path, optimize: bool, dlt: str | None = None, snaplen=None):
    """bpfc's program as a list of tuples, or ``Rejected``; other exceptions propagate."""
    import bpfc
    from bpfc.errors import CompileError

    try:
        prog = bpfc.compile(
            rec["expr"], linktype=dlt or rec["dlt"], snaplen=snaplen or rec.get("snaplen", 262144),
            optimize=optimize, netmask=_netmask(rec), resolver=resolver(upstream),
            savefile=savefile_info(rec),
        )  # fmt: skip
    except CompileError as err:
        return Rejected(str(err))
    return [tuple(i) for i in prog]


def _crash(err: Exception) -> str:
    return f"crash: {type(err).__name__}: {err}"


def accept_packets(rec: dict, upstream: Path, refs: list) -> list[Packet]:
    """Targeted + steered + savefile packets for an accept case."""
    dlt = rec["dlt"]
    if dlt in LINKTYPES:
        seeds = targeted_packets(
            rec["expr"], dlt, random_count=20, truncated=6, names=fixture_names(upstream)
        )
        # Short and truncated packets are where programs differ most: keep them all, and
        # an even sample of the rest.
        edge = [p for p in seeds if len(p.data) < 60 or p.wirelen > len(p.data)]
        rest = [p for p in seeds if not (len(p.data) < 60 or p.wirelen > len(p.data))]
        room = max(PACKETS_PER_CASE // 2, PACKETS_PER_CASE - len(edge))
        if len(rest) > room:
            step = len(rest) / max(room, 1)
            rest = [rest[int(i * step)] for i in range(room)]
        seeds = edge + rest
    else:
        import random

        seeds = noise_packets(dlt, random.Random(rec["id"]), 30)
    seeds = seeds + savefile_packets_by_dlt(upstream).get(dlt, [])
    return seeds + explore(refs, seeds, limit=PACKETS_PER_CASE // 2, rounds=3)


def _reference(rec: dict, opt: bool) -> list:
    """Master's listing; where bpfc.isa.asm cannot read it (protochain's backward ``ja``) and
    1.10.3 produces the same listing, the system libpcap's program instead."""
    try:
        return listing_reference(rec["expected_opt" if opt else "expected_unopt"])
    except Exception:
        if not rec.get("local_libpcap_matches_opt" if opt else "local_libpcap_matches_unopt"):
            raise
    return libpcap_compile(rec["expr"], rec["dlt"], rec.get("snaplen", 262144), opt, None)


def evaluate_accept(rec: dict, upstream: Path) -> str | None:
    """None if bpfc's optimized and unoptimized programs agree with master's on every packet.

    Optimized programs are compared with master's optimized one, except on packets where
    master's optimizer changed master's own verdict: there the unoptimized verdict rules."""
    refs = {}
    for opt in (False, True):
        if opt and rec.get("opt_rejected"):
            continue
        try:
            refs[opt] = _reference(rec, opt)
        except Exception as err:
            return f"no reference program: {err}"
    packets = None
    for opt in (True, False):
        try:
            ours = _compile(rec, upstream, opt)
        except Exception as err:
            return _crash(err)
        if isinstance(ours, Rejected):
            if opt and rec.get("opt_rejected"):
                continue
            return f"{'opt' if opt else 'unopt'}: rejected: {ours.message}"
        if opt not in refs:
            return "opt: compiles, but libpcap's optimizer rejects all packets"
        if packets is None:
            packets = accept_packets(rec, upstream, list(refs.values()))
        run_ours, run_ref = bpfc_runner(ours), libpcap_runner(refs[opt])
        # the meaning is master's unoptimized program: where master's optimizer changes
        # its own verdict (it deletes loads that would reject a short packet), bpfc's
        # optimized program must keep the unoptimized verdict (docs/testing.md, policy)
        run_meaning = libpcap_runner(refs[False]) if opt and False in refs else None
        for pkt in packets:
            a, b = run_ours(pkt.data, pkt.wirelen), run_ref(pkt.data, pkt.wirelen)
            if run_meaning is not None and a != b:
                b = run_meaning(pkt.data, pkt.wirelen)
            if a != b:
                return (f"{'opt' if opt else 'unopt'}: bpfc {a} vs master {b} on "
                        f"[{pkt.label}] {pkt.data.hex()}")  # fmt: skip
    return None


def evaluate_reject(rec: dict, upstream: Path) -> tuple[str | None, bool]:
    """(None if bpfc raises CompileError else a reason, whether the message has ``errstr``)."""
    try:
        ours = _compile(rec, upstream, True)
    except Exception as err:
        return _crash(err), False
    if isinstance(ours, Rejected):
        return None, rec.get("errstr", "") in ours.message
    return "compiles, libpcap rejects with: " + rec.get("errstr", "?"), False


def evaluate_apply(rec: dict, upstream: Path) -> str | None:
    """None if bpfc's programs return the recorded value on every savefile packet."""
    info = savefiles(upstream)[rec["savefile"]]
    pkts = [(bytes.fromhex(p["hex"]), p["len"]) for p in info["packets"]]
    for opt in (True, False):
        try:
            ours = _compile(rec, upstream, opt, dlt=info["dlt"], snaplen=info["snaplen"])
        except Exception as err:
            return _crash(err)
        if isinstance(ours, Rejected):
            return f"{'opt' if opt else 'unopt'}: rejected: {ours.message}"
        run = bpfc_runner(ours)
        got = [run(data, wirelen) for data, wirelen in pkts]
        if got != rec["results"]:
            bad = [i for i, (g, w) in enumerate(zip(got, rec["results"], strict=True)) if g != w]
            return (
                f"{'opt' if opt else 'unopt'}: packets {bad[:8]} differ: {got} != {rec['results']}"
            )
    return None


def evaluate(rec: dict, upstream: Path) -> str | None:
    """The failure reason of any case (None: pass)."""
    if rec["kind"] == "accept":
        return evaluate_accept(rec, upstream)
    if rec["kind"] == "apply":
        return evaluate_apply(rec, upstream)
    return evaluate_reject(rec, upstream)[0]


def dlts(upstream: Path, kind: str) -> list[str]:
    """The link types with applicable cases in one suite (apply: the savefiles' link types)."""
    if not (upstream / "libpcap-filtertests.jsonl").exists():
        return []
    if kind == "apply":
        files = savefiles(upstream)
        return sorted({files[r["savefile"]]["dlt"] for r in cases(upstream, kind)})
    return sorted({r["dlt"] for r in cases(upstream, kind)})


def known_failures() -> set[str]:
    """The ids recorded as failing (lines of upstream_known_failures.txt, # comments ignored)."""
    if not KNOWN_FAILURES.exists():
        return set()
    lines = (ln.split("#", 1)[0].strip() for ln in KNOWN_FAILURES.read_text().splitlines())
    return {ln for ln in lines if ln}


def compare_with_known(results: dict[str, str | None], known: set[str]) -> list[str]:
    """Problems: cases failing that are not recorded, and recorded ones that now pass."""
    problems = []
    for case_id, reason in sorted(results.items()):
        if reason is not None and case_id not in known:
            problems.append(f"NEW FAILURE {case_id}: {reason}")
        elif reason is None and case_id in known:
            problems.append(
                f"FIXED {case_id}: passes now; run tools/upstream_report.py --update-known-failures"
            )
    return problems
