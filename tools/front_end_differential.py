#!/usr/bin/env python3
"""The grammar-level front-end differential against libpcap master, as a table.

    python tools/front_end_differential.py 100000 --seed 17
    python tools/front_end_differential.py 5000 --seed 3 --show 10 --no-system

Draws N random expressions (tests/support/grammar_gen.py: every production, qualifier
combination, number edge and name kind) over every link type bpfc and master both know,
compiles each with bpfc and with libpcap master (and 1.10.3 for reference), and prints a
table by category: accept/reject disagreements, message differences (whole strings),
verdict differences where both compile, crashes, and agreements; then, per category, the
most common shapes of difference with an example of each.  Entries of
tests/support/front_end_allowed.txt are counted apart.  Exit status 1 when any disagreement is
not allowed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.front_end import (  # noqa: E402
    CATEGORIES,
    DISAGREEMENTS,
    Outcome,
    allowance,
    load_allowed,
    run,
    shape,
    upstream_names,
)
from support.oracles import master_library  # noqa: E402


def signature(outcome: Outcome) -> str:
    """How a disagreement looks with its particulars blanked (to group like with like)."""
    if outcome.category == "verdict":
        return f"verdict ({outcome.case.production})"
    return f"bpfc: {shape(outcome.ours)}  |  master: {shape(outcome.master)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=10000, help="expressions to run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=6, help="shapes to show per category")
    parser.add_argument("--steered", type=int, default=24, help="steered packets per accept")
    parser.add_argument("--no-system", action="store_true", help="do not ask libpcap 1.10.3")
    parser.add_argument(
        "--system-names",
        action="store_true",
        help="draw names from /etc/hosts instead of the upstream suite's fixtures",
    )
    parser.add_argument(
        "--unlisted", type=int, default=40, help="disagreements outside the allow-list to show"
    )
    parser.add_argument("--progress", type=int, default=0, help="a progress line every N cases")
    args = parser.parse_args(argv)
    path, why = master_library()
    if path is None:
        print(f"front_end_differential: libpcap master not available: {why}", file=sys.stderr)
        return 1
    allowed = load_allowed()
    counts: Counter[str] = Counter()
    allowed_counts: Counter[str] = Counter()
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[tuple[str, str], Outcome] = {}
    sys_agrees: Counter[str] = Counter()
    wording = 0
    unlisted: list[Outcome] = []
    by_entry: Counter[int] = Counter()
    start = time.monotonic()
    names, why = (None, "--system-names") if args.system_names else upstream_names()
    where = "upstream fixtures" if names else f"the system's hosts file ({why})"
    outcomes = run(
        path,
        args.count,
        args.seed,
        system=not args.no_system,
        steered=args.steered,
        names=names,
    )
    for index, outcome in enumerate(outcomes, 1):
        counts[outcome.category] += 1
        if outcome.category in DISAGREEMENTS:
            if outcome.category == "message" and outcome.text.endswith("same-kind"):
                wording += 1
            entry = allowance(outcome, allowed)
            if entry is not None:
                allowed_counts[outcome.category] += 1
                by_entry[allowed.index(entry)] += 1
            elif len(unlisted) < args.unlisted:
                unlisted.append(outcome)
            sig = signature(outcome)
            groups[outcome.category][sig] += 1
            examples.setdefault((outcome.category, sig), outcome)
            if outcome.system is not None and (outcome.system == "compiles") == (
                outcome.master == "compiles"
            ):
                sys_agrees[outcome.category] += 1
        if args.progress and index % args.progress == 0:
            print(f"  {index} cases, {time.monotonic() - start:.0f} s", file=sys.stderr)
    elapsed = time.monotonic() - start
    total = sum(counts.values())
    both_reject = counts["message"] + counts["agree-reject"]
    print(f"front-end differential: {total} expressions, seed {args.seed}, {elapsed:.0f} s")
    print(f"names from {where}")
    print(f"{'category':<16}{'count':>8}{'share':>9}{'allowed':>9}{'1.10.3=master':>15}")
    for category in CATEGORIES:
        n = counts[category]
        share = f"{100 * n / total:.2f}%" if total else "-"
        extra = ""
        if category in DISAGREEMENTS:
            extra = f"{allowed_counts[category]:>9}{sys_agrees[category]:>15}"
        print(f"{category:<16}{n:>8}{share:>9}{extra}")
    if both_reject:
        same = counts["agree-reject"]
        print(f"identical messages: {same}/{both_reject} = {100 * same / both_reject:.2f}%")
        print(
            f"message differences: {wording} in wording (same error, other particulars), "
            f"{counts['message'] - wording} another error first"
        )
    print("(1.10.3=master: cases where 1.10.3's accept/reject matches master's)")
    for category in DISAGREEMENTS:
        if not groups[category]:
            continue
        print(f"\n== {category}: {counts[category]} in {len(groups[category])} shapes")
        for sig, n in groups[category].most_common(args.show):
            print(f"  {n:6}  {sig}")
            print("          e.g. " + str(examples[(category, sig)]).replace("\n", "\n          "))
    if by_entry:
        print("\n== allow-list entries, by the disagreements they cover")
        for index, n in by_entry.most_common():
            entry = allowed[index]
            print(f"  {n:6}  {entry.category}: {entry.reason}")
    unallowed = sum(counts[c] for c in DISAGREEMENTS) - sum(allowed_counts.values())
    if unlisted:
        print(f"\n== not in the allow-list: {unallowed} (first {len(unlisted)})")
        for outcome in unlisted:
            print("  " + str(outcome).replace("\n", "\n  "))
    return 1 if unallowed else 0


if __name__ == "__main__":
    sys.exit(main())
