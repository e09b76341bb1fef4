"""Record a suite: per filter its listings, a targeted packet set and bpfc's verdicts.

With an oracle (a libpcap, :class:`bpfc.libpcap.Libpcap`), the filter is also compiled
by libpcap, its programs steer the packet set too, and every disagreement is reported:
a verdict libpcap gives differently (the suite is then not proven, and recording fails)
or a listing that differs (a note: bpfc's optimizer is not libpcap's).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bpfc.golden.paths import seed_for, targeted_packets_for
from bpfc.golden.store import GoldenCase, case_ids, read_index, suite_path, write_case, write_index
from bpfc.golden.suite import Filter, load_suite

NETMASK_UNKNOWN = 0xFFFFFFFF


@dataclass
class Recorded:
    """What recording one filter gave: the case, or why not, and what the oracle said."""

    filter: Filter
    case: GoldenCase | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def _netmask(text: str | None) -> int:
    if text is None:
        return NETMASK_UNKNOWN
    a, b, c, d = (int(p) for p in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def compile_pair(f: Filter | GoldenCase) -> tuple[Any, Any]:
    """bpfc's optimized and unoptimized programs for a filter (raises bpfc's errors)."""
    import bpfc

    args = (f.expr, f.linktype, f.snaplen)
    return (
        bpfc.compile(*args, True, f.netmask, linux=f.linux),
        bpfc.compile(*args, False, f.netmask, linux=f.linux),
    )


def returns(program: Any, packets: list[tuple[bytes, int]], linux: bool) -> list[int]:
    run = program._filter(linux)
    return [run(data, wirelen) for data, wirelen in packets]


def record_filter(f: Filter, oracle: Any = None) -> Recorded:
    """Record ``f``; with ``oracle`` (a Libpcap) compare with libpcap as well."""
    from bpfc.errors import BpfcError

    out = Recorded(f)
    consult = oracle is not None and not f.linux
    try:
        opt, unopt = compile_pair(f)
    except BpfcError as err:
        where = f.at(getattr(err, "position", None))
        out.error = f"{where}: {f.id}: bpfc refuses '{f.expr}': {err}"
        theirs = _oracle_compile(oracle, f, (True,)) if consult else "-"
        if not isinstance(theirs, str):  # a refusal both share is no disagreement
            out.disagreements.append(
                f"libpcap compiles it ({len(theirs[0])} instructions) where bpfc refuses it"
            )
        return out
    programs: list[Any] = [list(opt), list(unopt)]
    lib_progs: list[Any] = []
    rejected: str | None = None
    if oracle is not None and f.linux:
        out.notes.append("libpcap not consulted: Linux mode (pcap_open_dead has no live socket)")
    elif consult:
        theirs = _oracle_compile(oracle, f, (True, False))
        if isinstance(theirs, str):
            rejected = theirs
            out.disagreements.append(f"libpcap rejects it: {theirs}")
        else:
            lib_progs = theirs
    pkts, coverage = targeted_packets_for(
        f.expr, f.linktype, programs + lib_progs, seed=seed_for(f.id + "\0" + f.expr), linux=f.linux
    )
    packets = [(p.data, p.wirelen) for p in pkts]
    case = GoldenCase(
        f.id, f.expr, f.linktype, f.snaplen, f.netmask, f.linux,
        listing_opt=opt.dump("d"), listing_unopt=unopt.dump("d"), packets=packets,
        returns_opt=returns(opt, packets, f.linux), returns_unopt=returns(unopt, packets, f.linux),
        coverage={"opt": str(coverage[0]), "unopt": str(coverage[1])},
    )  # fmt: skip
    if not packets:
        out.notes.append(f"no packets: bpfc.packetgen cannot frame {f.linktype}; listings only")
    if lib_progs:
        case.oracle = _compare(case, lib_progs, oracle, out)
    elif rejected is not None:
        case.oracle = {"library": oracle.version(), "rejects": rejected}
    out.case = case
    return out


def _oracle_compile(oracle: Any, f: Filter, modes: tuple[bool, ...]) -> list[Any] | str:
    """libpcap's programs for ``f`` (optimized for each True in ``modes``), or its error."""
    from bpfc.libpcap import LibpcapError, LibpcapUnavailable

    try:
        mask = _netmask(f.netmask)
        return [oracle.compile(f.expr, f.linktype, f.snaplen, opt, mask) for opt in modes]
    except LibpcapUnavailable:
        raise
    except LibpcapError as err:
        return str(err)


def _compare(case: GoldenCase, lib_progs: list[Any], oracle: Any, out: Recorded) -> dict[str, Any]:
    """Compare the case with libpcap's programs; fill ``out``; the case's oracle record."""
    from bpfc.corpus.report import hexdump
    from bpfc.corpus.schema import compact

    lib_opt, lib_unopt = lib_progs
    record: dict[str, Any] = {"library": oracle.version()}
    for mode, mine, theirs in (
        ("opt", case.listing_opt, lib_opt),
        ("unopt", case.listing_unopt, lib_unopt),
    ):
        lines = [oracle.bpf_image(insn, n) for n, insn in enumerate(theirs)]
        same = compact(mine.splitlines()) == compact(lines)
        record[f"listing_{mode}"] = "same" if same else "differs"
        if not same:
            what = "optimized" if mode == "opt" else "unoptimized"
            out.notes.append(
                f"{what} listing differs from libpcap's ({len(mine.splitlines())} "
                f"instructions, libpcap {len(theirs)})"
            )
    got = [_lib_returns(oracle, prog, case.packets) for prog in lib_progs]
    differing = 0
    for index, (data, wirelen) in enumerate(case.packets):
        allowed = {got[0][index], got[1][index]}
        for mode, values in (("opt", case.returns_opt), ("unopt", case.returns_unopt)):
            if values[index] not in allowed:
                differing += 1
                out.disagreements.append(
                    f"{mode} packet {index} (caplen {len(data)}, wirelen {wirelen}): libpcap "
                    f"{got[0][index]}, bpfc {values[index]}\n" + "\n".join(hexdump(data))
                )
    record["verdicts"] = "agree" if not differing else f"differ on {differing}"
    return record


def _lib_returns(oracle: Any, prog: list[Any], packets: list[tuple[bytes, int]]) -> list[int]:
    from bpfc.libpcap import LibpcapError

    try:
        run = oracle.make_bpf_filter(prog)
    except LibpcapError:  # protochain's backward jumps: run in a child with a time limit
        return list(oracle.bpf_filter_isolated(prog, packets))
    return [run(data, wirelen) for data, wirelen in packets]


def load_oracle(name: str | None, path: str | None) -> Any:
    """The Libpcap to compare with (``name`` ``libpcap``), or None; errors are one line."""
    if name is None:
        return None
    from bpfc import libpcap
    from bpfc.errors import UsageError

    if name != "libpcap":
        raise UsageError(f"unknown oracle '{name}' (the one oracle is libpcap)")
    lib = libpcap.library(path)
    if not lib.available():
        where = path or "the system libpcap"
        raise UsageError(f"--oracle libpcap: cannot load {where}")
    return lib


def record_suite(
    suite: Path,
    root: Path,
    oracle: Any = None,
    log: Callable[[str], None] = print,
    only: set[str] | None = None,
) -> list[Recorded]:
    """Record every filter of ``suite`` (or those whose id is in ``only``) into ``root``."""
    from bpfc import __version__

    filters = load_suite(suite)
    results = [record_filter(f, oracle) for f in filters if only is None or f.id in only]
    changed: list[Path] = []
    for r in results:
        if r.case is not None:
            r.written = write_case(root, r.case)
            changed += r.written
    old: dict[str, Any] = {}
    if (root / "golden.json").exists():
        old = read_index(root)
    index = {
        "format": "bpfc-golden",
        "version": 1,
        "suite": Path(os.path.relpath(suite.resolve(), root.resolve())).as_posix(),
        "bpfc": __version__,
        "oracle": oracle.version() if oracle is not None else None,
    }
    if only is not None and old:  # a partial re-record keeps the suite-wide oracle claim
        index["oracle"] = old.get("oracle")
    unchanged = not changed and {k: old.get(k) for k in index} == index
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    index["recorded"] = old.get("recorded", today) if unchanged else today
    write_index(root, index)
    stale = sorted(set(case_ids(root)) - {f.id for f in filters})
    for case_id in stale:
        log(f"kept {root}/cases/{case_id}.*: no filter '{case_id}' in {suite} (delete by hand)")
    return results


def default_suite(root: Path) -> Path:
    return suite_path(root, read_index(root))
