#!/usr/bin/env python3
"""Soak bpfc against libpcap with random compositions of primitives.

    python tools/differential_soak.py 10000                  # EN10MB, seed 0
    python tools/differential_soak.py 10000 -y ci            # spread over CI_LINKTYPES
    python tools/differential_soak.py 2000 -y LINUX_SLL,RAW --seed 7 --depth 3
    python tools/differential_soak.py --update-known-failures   # what CI expects to fail

Draws only primitives both compilers accept on the link type (the rest are listed as
excluded), builds targeted + program-steered packets per expression and compares
bpfc (its interpreter) with libpcap (its ``bpf_filter``) under the equivalence policy
of tests/support/policy.py (unopt against libpcap's unopt on every packet; bpfc opt against
bpfc unopt; opt against libpcap opt where libpcap's optimizer kept its own verdict).
The count is split evenly over the link types given.  Prints a summary and the first
disagreements; exit status 1 if any were found.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.compositions import (  # noqa: E402
    CI_LINKTYPES,
    KNOWN_FAILURES,
    ci_results,
    probe_pool,
    run_compositions,
)
from support.differential import libpcap_available  # noqa: E402

from bpfc.packetgen import packet_set  # noqa: E402
from bpfc.packetgen.compose import pool  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=10000, help="compositions to run")
    parser.add_argument(
        "-y",
        "--linktype",
        default="EN10MB",
        help="a link type, a comma-separated list, or 'ci' for CI_LINKTYPES",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--show", type=int, default=5, help="disagreements to print in full")
    parser.add_argument("--chunk", type=int, default=250, help="progress line every N exprs")
    parser.add_argument("--update-known-failures", action="store_true",
                        help="run the CI checks of tests/differential/test_differential_bpfc.py "
                        "and record what fails in "
                        "tests/support/differential_known_failures.txt")  # fmt: skip
    args = parser.parse_args(argv)
    if not libpcap_available():
        print("system libpcap not available", file=sys.stderr)
        return 1
    if args.update_known_failures:
        return update_known_failures()
    linktypes = list(CI_LINKTYPES) if args.linktype == "ci" else args.linktype.split(",")
    pools = {}
    for linktype in linktypes:
        try:
            packet_set("ip", linktype, [], steered=0)
        except ValueError as err:  # packetgen frames only the link types it knows
            print(f"{linktype}: skipped ({err})")
            continue
        usable, excluded = probe_pool(linktype, pool(linktype))
        print(f"{linktype}: {len(usable)} primitives in the pool, {len(excluded)} excluded")
        for prim, why in excluded.items():
            print(f"  excluded {prim!r}: {why}")
        if usable:
            pools[linktype] = usable
    if not pools:
        return 1
    start = time.perf_counter()
    totals = dict(expressions=0, packets=0, both_rejected=0)
    failing: list[str] = []
    kinds: Counter = Counter()
    excused: Counter = Counter()
    shown = 0
    crashes: list[str] = []
    done = 0
    per_type = {lt: args.count // len(pools) + (i < args.count % len(pools))
                for i, lt in enumerate(pools)}  # fmt: skip
    for linktype, count in per_type.items():
        mine = 0
        while mine < count:
            n = min(args.chunk, count - mine)
            res = run_compositions(n, linktype, seed=args.seed * 1_000_003 + mine,
                                   primitives=pools[linktype], depth=args.depth,
                                   policy=True)  # fmt: skip
            mine += n
            done += n
            for key in totals:
                totals[key] += getattr(res, key)
            failing += [f"{linktype}\t{e}" for e in res.failing_exprs]
            crashes += [f"{linktype}\t{c}" for c in res.crashes]
            excused.update(res.excused)
            for d in res.disagreements:
                kinds[_kind(d)] += 1
                if shown < args.show:
                    print(f"\n{d}")
                    shown += 1
            rate = done / (time.perf_counter() - start)
            print(f"[{linktype} {mine}/{count}, {done}/{args.count}] {len(failing)} failing"
                  f" exprs, {len(crashes)} crashes, {rate:.1f} expr/s", flush=True)  # fmt: skip
    elapsed = time.perf_counter() - start
    print("\nsummary")
    print(f"  link types           {', '.join(f'{k} {v}' for k, v in per_type.items())}")
    print(f"  expressions checked  {totals['expressions']}")
    print(f"  packets run          {totals['packets']} (x4 programs)")
    print(f"  rejected by both     {totals['both_rejected']}")
    print(f"  disagreeing exprs    {len(failing)}")
    print(f"  harness crashes      {len(crashes)}")
    for kind, n in kinds.most_common():
        print(f"    {n:7}  {kind}")
    for what, n in excused.most_common():
        print(f"  {n:7} packets/programs {what}")
    print(f"  time                 {elapsed:.1f} s")
    for expr in failing[:200]:
        print(f"  FAIL {expr}")
    for line in crashes[:10]:
        print(f"  CRASH {line}")
    return 1 if failing or crashes else 0


def _kind(d) -> str:
    """Disagreement category for the summary."""
    setting = f"{'optimized' if d.optimize else 'unoptimized'} [{d.rule}]"
    if d.packet is None:
        if str(d.ours).startswith("rejects"):
            return f"{setting}: bpfc rejects, libpcap compiles"
        return f"{setting}: bpfc compiles, libpcap rejects ({d.reference})"[:100]
    if d.packet.wirelen > len(d.packet.data):
        return f"{setting}: verdicts differ on a truncated capture (caplen < wirelen)"
    return f"{setting}: verdicts differ on a complete packet"


def update_known_failures() -> int:
    lines = [
        "# Differential checks bpfc fails today: LINKTYPE<TAB>check<TAB># what went wrong.",
        "# check = a primitive alone, or '@opt EXPR' / '@unopt EXPR' for a composition,",
        "# judged by the equivalence policy of tests/support/policy.py (docs/testing.md).",
        "# Regenerate: python tools/differential_soak.py --update-known-failures",
    ]
    for linktype in CI_LINKTYPES:
        results, excluded = ci_results(linktype)
        bad = sorted(what for what, reason in results.items() if reason is not None)
        print(f"{linktype}: {len(results) - len(bad)}/{len(results)} pass, "
              f"{len(excluded)} excluded")  # fmt: skip
        for what in bad:
            first = results[what].splitlines()[0]
            reason = first.rsplit("': ", 1)[-1]  # drop the "LINKTYPE opt 'expr'" prefix
            lines.append(f"{linktype}\t{what}\t# {reason[:120]}")
    KNOWN_FAILURES.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 3} entries to {KNOWN_FAILURES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
