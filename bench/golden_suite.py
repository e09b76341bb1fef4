"""Record a generated suite with libpcap as the oracle, replay it, and re-record it.

``python bench/golden_suite.py [--per-linktype N] [--libpcap PATH] [--dir DIR]`` writes a
suite of N random compositions of filter primitives (:mod:`bpfc.packetgen.compose`, fixed
seeds) on each of six link types, then runs, in-process:

* ``bpfc golden record SUITE -o DIR --oracle libpcap`` (the system libpcap, or the build at
  ``--libpcap``): filters recorded and refused, disagreements with libpcap (each listed),
  packets kept, edges of the programs those packets take, and CPU time per filter;
* ``bpfc verify DIR``: CPU time per filter (no libpcap involved);
* the same recording again: files rewritten (must be 0: re-recording changes no byte).

The machine may be shared: CPU time is the steadier measure.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
from pathlib import Path

LINKTYPES = ("EN10MB", "LINUX_SLL", "RAW", "NULL", "PPP", "IEEE802_11_RADIO")


def suite_text(per_linktype: int) -> str:
    from bpfc.packetgen.compose import compose, pool

    lines = []
    for linktype in LINKTYPES:
        lines += [f"[{linktype.lower()}]", f"@linktype {linktype}"]
        primitives = pool(linktype if linktype in ("EN10MB", "LINUX_SLL") else "RAW")
        for i in range(per_linktype):
            rng = random.Random(f"{linktype}:{i}")
            lines.append(f"f{i:03d}: {compose(primitives, rng, depth=3)}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-linktype", type=int, default=25)
    parser.add_argument("--libpcap", help="libpcap shared library (default: the system's)")
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary dir)")
    args = parser.parse_args()

    from bpfc.golden.record import load_oracle, record_suite
    from bpfc.golden.replay import replay

    oracle = load_oracle("libpcap", args.libpcap)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.dir or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        suite = base / "bench.suite"
        suite.write_text(suite_text(args.per_linktype))
        root = base / "golden"
        quiet = {"log": lambda _: None}

        start = time.process_time()
        results = record_suite(suite, root, oracle, **quiet)
        record_cpu = time.process_time() - start
        cases = [r.case for r in results if r.case is not None]
        refused = [r for r in results if r.error is not None]
        disagree = [r for r in results if r.disagreements]

        start = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            _, _, replayed = replay(root)
        verify_cpu = time.process_time() - start
        failed = [r for r in replayed if r.status != "pass" and r.case.id in {c.id for c in cases}]

        again = record_suite(suite, root, oracle, **quiet)
        rewritten = sum(len(r.written) for r in again)

        edges = {"opt": [0, 0], "unopt": [0, 0]}
        for case in cases:
            for mode, text in case.coverage.items():
                taken, total = (int(n) for n in text.split("/"))
                edges[mode][0] += taken
                edges[mode][1] += total
        print(f"oracle: {oracle.version()}")
        print(f"filters: {len(results)} ({len(LINKTYPES)} link types), recorded {len(cases)}, "
              f"refused by bpfc {len(refused)}")  # fmt: skip
        print(f"disagreements with libpcap: {len(disagree)}")
        for r in disagree:
            print(f"  {r.filter.id} [{r.filter.linktype}] {r.filter.expr}: {r.disagreements[0]}")
        for r in refused:
            print(f"  refused: {r.error}")
        packets = sum(len(c.packets) for c in cases)
        print(f"packets kept: {packets} ({packets / max(1, len(cases)):.1f} per filter)")
        for mode, (taken, total) in edges.items():
            print(f"edges taken, {mode}: {taken}/{total} ({100 * taken / max(1, total):.0f}%)")
        print(f"record: {record_cpu:.1f} s CPU ({1000 * record_cpu / max(1, len(results)):.0f} "
              f"ms per filter, libpcap included)")  # fmt: skip
        print(f"verify: {verify_cpu:.1f} s CPU ({1000 * verify_cpu / max(1, len(replayed)):.0f} "
              f"ms per filter); replay failures among recorded: {len(failed)}")  # fmt: skip
        print(f"re-record: {rewritten} files rewritten")
    return 1 if disagree or failed or rewritten else 0


if __name__ == "__main__":
    sys.exit(main())
