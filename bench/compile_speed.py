"""Compile time per expression: bpfc (parse + codegen + emit, unoptimized and
optimized) against the system libpcap's ``pcap_compile``, over the upstream accept
expressions both can compile.

    python bench/compile_speed.py [--dlt EN10MB] [--limit 400] [--repeat 5] [--rounds 3]

Each configuration compiles every expression ``--repeat`` times in a row, one
configuration after the other, and the whole is done ``--rounds`` times; an
expression's fastest time in a configuration counts.  The machine is shared: a single
pass over the list mostly measures what the other processes were doing, and a burst of
load during one configuration's pass would skew the ratio if there were only one.  The
last line is issue 13's number, optimized over unoptimized (it must stay at or below 3).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus-upstream")
    parser.add_argument("--dlt", default="EN10MB")
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from bpfc import libpcap
    from bpfc.compiler import compile as bpfc_compile
    from bpfc.errors import BpfcError

    exprs = []
    with open(args.corpus / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] == "accept" and case["dlt"] == args.dlt and not case.get("special"):
                exprs.append(case["expr"])
    usable = []
    for expr in exprs:
        try:
            bpfc_compile(expr, args.dlt, optimize=False)
            libpcap.compile(expr, args.dlt, 262144, False)
        except (BpfcError, Exception):  # noqa: BLE001 - only expressions both accept
            continue
        usable.append(expr)
        if len(usable) >= args.limit:
            break
    warnings.simplefilter("ignore")
    rows = []
    configs = (
        ("bpfc -O", lambda e: bpfc_compile(e, args.dlt, optimize=False)),
        ("bpfc", lambda e: bpfc_compile(e, args.dlt, optimize=True)),
        ("libpcap -O", lambda e: libpcap.compile(e, args.dlt, 262144, False)),
        ("libpcap", lambda e: libpcap.compile(e, args.dlt, 262144, True)),
    )
    best = {name: [float("inf")] * len(usable) for name, _ in configs}
    for _ in range(max(1, args.rounds)):
        for name, fn in configs:  # one configuration over every expression, then the next
            times = best[name]
            for i, expr in enumerate(usable):
                for _ in range(max(1, args.repeat)):
                    start = time.perf_counter()
                    try:
                        fn(expr)
                    except Exception:  # noqa: BLE001, S110 - e.g. optimizer refusals
                        pass
                    elapsed = time.perf_counter() - start
                    if elapsed < times[i]:
                        times[i] = elapsed
    for name, _ in configs:
        rows.append((name, sum(best[name]) / len(usable) * 1e3))
    print(f"{len(usable)} {args.dlt} expressions; mean compile time per expression:")
    for name, ms in rows:
        print(f"  {name:<12} {ms:8.3f} ms")
    print(f"bpfc optimized / unoptimized: {rows[1][1] / rows[0][1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
