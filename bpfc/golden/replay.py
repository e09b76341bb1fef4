"""Replay a golden directory: compile each filter of the suite now, run it over the recorded
packets, and compare with the recorded verdicts and listings.  Needs no libpcap.

Two kinds of change are told apart:

* **behaviour changed** — a verdict differs on some recorded packet (or the filter no longer
  compiles, or has no golden files): always a failure; the packets are shown in hex and
  written as a pcap under ``DIR/failures/``;
* **code changed, behaviour kept** — a listing differs (or only the filter's text or settings
  changed) but every verdict is the same: reported with the listing diff, and a failure only
  with ``strict`` (``--strict-listings``).

Golden files whose filter left the suite are a failure too (a filter removed by mistake
must not pass silently); :func:`update` keeps them and says so, since it cannot regenerate
them.  Results are :class:`bpfc.corpus.verify.Result` objects, so ``bpfc verify`` prints the
same blocks and tables for a user's suite as for the project corpus.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bpfc.corpus.verify import Mismatch, Result
from bpfc.golden.record import compile_pair, record_suite, returns
from bpfc.golden.store import (
    FAILURES,
    GoldenCase,
    GoldenFileError,
    case_ids,
    pcap_bytes,
    read_case,
    read_index,
    suite_path,
    write_file,
)
from bpfc.golden.suite import Filter, load_suite


@dataclass
class GoldenResult(Result):
    """A replayed filter: a corpus :class:`Result` that knows listing changes alone pass
    unless ``strict``."""

    strict: bool = False
    notes: list[str] = field(default_factory=list)
    packets: int = 0
    failure_pcap: Path | None = None

    @property
    def ok(self) -> bool:
        return self.verdicts_ok and (self.listings_ok or not self.strict)

    @property
    def changed(self) -> bool:
        """Anything to re-record: a failure, a listing diff, or new text/settings."""
        return not self.verdicts_ok or not self.listings_ok or bool(self.notes)


def _matches(pattern: str | None, fid: str, expr: str) -> bool:
    if not pattern:
        return True
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatch(fid, pattern) or fnmatch.fnmatch(expr, pattern)
    return pattern in fid or pattern in expr


def _as_case(f: Filter) -> GoldenCase:
    return GoldenCase(f.id, f.expr, f.linktype, f.snaplen, f.netmask, f.linux)


def check(f: Filter, case: GoldenCase, strict: bool = False) -> GoldenResult:
    """Replay one recorded ``case`` with the suite's current filter ``f``."""
    from bpfc.errors import BpfcError

    shown = _as_case(f)
    result = GoldenResult(shown, strict=strict, packets=len(case.packets))
    for name, old, new in zip(
        ("expression", "link type", "snaplen", "netmask", "linux"),
        case.settings,
        shown.settings,
        strict=True,
    ):
        if old != new:
            result.notes.append(f"{name} changed: {old!r} -> {new!r}")
    try:
        opt, unopt = compile_pair(f)
    except BpfcError as err:
        result.errors.append(f"bpfc refuses it now: {err}")
        return result
    for mode, program, golden, other in (
        ("opt", opt, case.returns_opt, case.returns_unopt),
        ("unopt", unopt, case.returns_unopt, case.returns_opt),
    ):
        got = returns(program, case.packets, f.linux)
        for index, ((data, wirelen), want) in enumerate(zip(case.packets, golden, strict=True)):
            # on a truncated packet the two golden programs may differ: either answer holds
            if got[index] != want and got[index] != other[index]:
                result.mismatches.append(Mismatch(mode, index, want, got[index], data, wirelen))
        old_text = case.listing_opt if mode == "opt" else case.listing_unopt
        new_text = program.dump("d")
        if old_text != new_text:
            diff = difflib.unified_diff(
                old_text.splitlines(), new_text.splitlines(),
                f"golden {mode}", f"bpfc {mode}", lineterm="", n=2,
            )  # fmt: skip
            result.listing_diffs.append(list(diff))
    return result


def replay(
    root: Path,
    suite: Path | None = None,
    pattern: str | None = None,
    strict: bool = False,
) -> tuple[dict, Path, list[GoldenResult]]:
    """Replay the golden directory ``root`` against ``suite`` (default: the one its index
    names); ``(index, suite path, results)``, failure packets written under ``failures/``."""
    from bpfc.errors import BpfcError

    index = read_index(root)
    path = suite or suite_path(root, index)
    if not path.is_file():
        raise GoldenFileError(
            f"{path}: no such suite (named by {root / 'golden.json'}; pass --suite PATH)"
        )
    filters = load_suite(path)
    recorded = set(case_ids(root))
    results: list[GoldenResult] = []
    for f in filters:
        if not _matches(pattern, f.id, f.expr):
            continue
        if f.id not in recorded:
            result = GoldenResult(_as_case(f), strict=strict)
            try:
                compile_pair(f)
            except BpfcError as err:  # say why it has none: it never compiled
                result.errors.append(
                    f"{f.at(getattr(err, 'position', None))}: bpfc refuses it: {err}"
                )
            else:
                result.errors.append(
                    f"no golden files for '{f.id}' (new filter? bpfc verify --update)"
                )
            results.append(result)
            continue
        results.append(check(f, read_case(root, f.id), strict))
    for case_id in sorted(recorded - {f.id for f in filters}):
        case = read_case(root, case_id)
        if _matches(pattern, case.id, case.expr):
            result = GoldenResult(case, strict=strict)
            result.errors.append(
                f"golden files for '{case_id}', but no such filter in {path} "
                f"(delete {root / 'cases' / case_id}.* if it was removed on purpose)"
            )
            results.append(result)
    for result in results:
        if result.mismatches:
            seen: dict[bytes, int] = {}
            for m in result.mismatches:
                seen.setdefault(m.data, m.wirelen)
            target = root / FAILURES / f"{result.case.id}.pcap"
            write_file(target, pcap_bytes(result.case.linktype, 262144, list(seen.items())))
            result.failure_pcap = target
    return index, path, results


def describe(result: GoldenResult) -> str:
    """One block per failing or changed filter, in the corpus report's words."""
    from bpfc.corpus import report

    text = report.describe(result)
    head, _, rest = text.partition("\n")
    if result.ok:
        head = "CHANGED" + head[head.index(" ") :]
    lines = [head]
    if result.ok:
        lines.append(
            f"  code changed, behaviour kept: the same verdicts on all {result.packets} "
            "recorded packets"
        )
    elif result.verdicts_ok and result.listing_diffs:
        lines.append("  code changed, behaviour kept (a failure with --strict-listings)")
    elif result.mismatches:
        lines.append("  behaviour changed")
    lines += [f"  {note}" for note in result.notes]
    if rest:
        lines.append(rest)
    if result.failure_pcap is not None:
        lines.append(f"  differing packets written to {result.failure_pcap}")
    return "\n".join(lines)


def update(
    root: Path,
    suite: Path,
    results: list[GoldenResult],
    log: Callable[[str], None] = print,
) -> bool:
    """Re-record the filters whose results changed, printing each file rewritten; True when
    every one of them could be recorded (golden files are never deleted)."""
    from bpfc.golden.record import Recorded

    wanted = {r.case.id for r in results if r.changed}
    known = {f.id for f in load_suite(suite)}
    ok = True
    recorded: list[Recorded] = []
    if wanted & known:
        recorded = record_suite(suite, root, None, log, only=wanted & known)
    for r in recorded:
        if r.error is not None:
            log(f"not updated: {r.error} (its golden files are kept)")
            ok = False
        for path in r.written:
            log(f"rewrote {path}")
    stale = sorted(wanted - known)
    if stale and not recorded:  # record_suite names them when it runs
        for case_id in stale:
            log(f"kept {root / 'cases' / case_id}.*: no filter '{case_id}' in {suite}")
    ok = ok and not stale
    rewritten = sum(len(r.written) for r in recorded)
    log(f"{len(recorded)} filter(s) re-recorded, {rewritten} file(s) rewritten")
    return ok


__all__ = ["GoldenResult", "check", "describe", "replay", "update"]
