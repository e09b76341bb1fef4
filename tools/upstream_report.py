#!/usr/bin/env python3
"""Pass counts of libpcap's upstream suites (accept, reject, apply) against bpfc.

    python tools/upstream_report.py                       # tables per suite and per DLT
    python tools/upstream_report.py --suite reject -v     # also list failing ids + reasons
    python tools/upstream_report.py --update-known-failures

``--update-known-failures`` rewrites tests/support/upstream_known_failures.txt with the ids that
fail now; the tests treat those as expected failures and everything else as must-pass.
The corpus location is ../shared/corpus-upstream or $BPFC_UPSTREAM.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import UPSTREAM  # noqa: E402
from support.upstream_cases import (  # noqa: E402
    KNOWN_FAILURES,
    SUITES,
    cases,
    evaluate_accept,
    evaluate_apply,
    evaluate_reject,
    load,
    savefiles,
    skip_reason,
)


def run_suite(suite: str) -> tuple[dict[str, str | None], dict[str, str], Counter, Counter]:
    """(id -> failure reason or None, id -> dlt, and for reject cases: errstr family ->
    cases, errstr family -> cases whose bpfc message contains the errstr)."""
    results: dict[str, str | None] = {}
    dlt_of: dict[str, str] = {}
    families: Counter = Counter()
    hits: Counter = Counter()
    for rec in cases(UPSTREAM, suite, savefile=True):
        if suite == "accept":
            reason = evaluate_accept(rec, UPSTREAM)
            dlt_of[rec["id"]] = rec["dlt"]
        elif suite == "apply":
            reason = evaluate_apply(rec, UPSTREAM)
            dlt_of[rec["id"]] = savefiles(UPSTREAM)[rec["savefile"]]["dlt"]
        else:
            reason, has_errstr = evaluate_reject(rec, UPSTREAM)
            family = _family(rec.get("errstr", ""))
            families[family] += 1
            hits[family] += has_errstr
            dlt_of[rec["id"]] = rec["dlt"]
        results[rec["id"]] = reason
    return results, dlt_of, families, hits


def _family(errstr: str) -> str:
    """An errstr with its quoted and numeric parts blanked: the message template."""
    text = re.sub(r"DLT_\w+", "DLT_X", re.sub(r"'[^']*'", "'X'", errstr))
    return re.sub(r"(?<![\w.])\d+(?![\w.])", "N", text)


def table(title: str, rows: list[tuple[str, int, int]]) -> str:
    width = max([len(r[0]) for r in rows] + [len(title)])
    out = [f"{title:<{width}}  {'pass':>6} {'total':>6} {'rate':>7}"]
    for name, ok, total in rows:
        out.append(f"{name:<{width}}  {ok:>6} {total:>6} {100 * ok / max(total, 1):>6.1f}%")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=SUITES, action="append")
    parser.add_argument("--update-known-failures", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="list failing ids")
    parser.add_argument("--by-reason", action="store_true", help="count failures by reason")
    args = parser.parse_args(argv)
    if not UPSTREAM.is_dir():
        print(f"upstream corpus not found at {UPSTREAM}", file=sys.stderr)
        return 1
    suites = args.suite or list(SUITES)
    if args.update_known_failures and len(suites) != len(SUITES):
        print("--update-known-failures needs all suites", file=sys.stderr)
        return 1
    failing: list[str] = []
    summary = []
    for suite in suites:
        start = time.perf_counter()
        results, dlt_of, families, hits = run_suite(suite)
        elapsed = time.perf_counter() - start
        skipped = sum(1 for r in load(UPSTREAM) if r["kind"] == suite and skip_reason(r, True))
        per_dlt: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for case_id, reason in results.items():
            per_dlt[dlt_of[case_id]][1] += 1
            per_dlt[dlt_of[case_id]][0] += reason is None
        ok = sum(1 for r in results.values() if r is None)
        summary.append((suite, ok, len(results)))
        print(f"\n== {suite}: {ok}/{len(results)} pass, {skipped} skipped as not applicable"
              f" ({elapsed:.1f} s)")  # fmt: skip
        if suite == "reject":
            total_hits = sum(hits.values())
            print(
                f"   errstr found in bpfc's message: {total_hits}/{len(results)}"
                f" ({100 * total_hits / max(len(results), 1):.1f}%); by message template:"
            )
            rows = [(f[:70], hits[f], n) for f, n in families.most_common(20)]
            print(table("   errstr template", rows))  # fmt: skip
        print(table("DLT", sorted((d, v[0], v[1]) for d, v in per_dlt.items())))
        if args.by_reason:
            reasons = Counter(_reason_key(r) for r in results.values() if r is not None)
            for reason, n in reasons.most_common(25):
                print(f"  {n:6}  {reason}")
        bad = sorted(i for i, r in results.items() if r is not None)
        failing += bad
        if args.verbose:
            for case_id in bad:
                print(f"  FAIL {case_id}: {results[case_id]}")
    print()
    print(table("suite", summary))
    if args.update_known_failures:
        header = (
            "# Upstream cases bpfc fails today; one id per line.  Regenerate with\n"
            "#   python tools/upstream_report.py --update-known-failures\n"
            "# The tests expect exactly these to fail (a fix that is not recorded fails CI).\n"
        )
        KNOWN_FAILURES.write_text(header + "".join(f"{i}\n" for i in sorted(failing)))
        print(f"\nwrote {len(failing)} ids to {KNOWN_FAILURES.relative_to(ROOT)}")
    return 0


def _reason_key(reason: str) -> str:
    """A failure reason with the case-specific tail cut off, for grouping."""
    for sep in (" on [", " vs master", ": packets"):
        reason = reason.split(sep)[0]
    return reason[:110]


if __name__ == "__main__":
    sys.exit(main())
