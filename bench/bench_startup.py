"""Whole-process start-up of ``bpfc -d EXPR`` against ``tcpdump -d EXPR``, and where it goes.

``python bench/bench_startup.py [-n RUNS] [--top N] [EXPR ...]`` prints two tables:

1. for each expression, the median over RUNS separate processes of CPU time (user +
   system, from ``wait4``) and wall time of ``tcpdump -d``, ``bpfc -d`` (``python -m
   bpfc``), and two baselines: ``python -c pass`` and ``python -S -E -c pass`` (no
   ``site``: what the interpreter itself costs, apart from the ``.pth`` files of
   site-packages, which an install may or may not have), and ``bpfc -d`` run the same
   way without ``site`` (the package found through ``sys.path``);
2. bpfc's import breakdown from ``python -X importtime`` (median self time per module
   over RUNS runs, the top N), plus the total of bpfc's own modules and of the rest.

Python caches compiled modules as ``.pyc``; with ``PYTHONDONTWRITEBYTECODE`` set and no
cache written yet, every run compiles every module from source, which costs more than
everything else together.  An installed bpfc has its ``.pyc`` files, so by default this
script measures with a bytecode cache of its own (``PYTHONPYCACHEPREFIX`` in a temporary
directory, warmed by one run); ``--no-pyc`` measures the cold case instead.

The machine may be shared: CPU time is the steadier measure, wall time the honest one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import bpfc as bpfc_package

EXPRESSIONS = ["tcp port 80", "host 10.0.0.1 and (udp or icmp)", "vlan and ip6 and tcp"]


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """``(cpu s, wall s)`` of one process (output discarded); exits if it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed: {err.decode(errors='replace').strip()}")
    return usage.ru_utime + usage.ru_stime, wall


def median_of(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    samples = [measure(cmd, env) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(bpfc_package.__file__)))
"""The directory holding the ``bpfc`` package, for the runs without ``site``."""

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_breakdown(expr: str, env: dict[str, str], runs: int) -> dict[str, float]:
    """Median self time (ms) per module imported by ``bpfc -d EXPR`` (``-X importtime``)."""
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "bpfc", "-d", expr],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        for match in IMPORT_LINE.finditer(proc.stderr):
            times[match.group(4)].append(int(match.group(1)) / 1000)
    return {
        name: statistics.median(values + [0.0] * (runs - len(values)))
        for name, values in times.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=15, help="processes per measurement")
    parser.add_argument("--top", type=int, default=20, help="modules in the import table")
    parser.add_argument("--no-pyc", action="store_true", help="no bytecode cache (cold)")
    parser.add_argument("expressions", nargs="*", default=EXPRESSIONS)
    args = parser.parse_args()
    env = dict(os.environ)
    cache = None
    if args.no_pyc:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        cache = tempfile.mkdtemp(prefix="bpfc-pyc-")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    try:
        bpfc = [sys.executable, "-m", "bpfc", "-d"]
        tcpdump = shutil.which("tcpdump")
        head = f"{'command':<44} {'cpu ms':>8} {'wall ms':>8}"
        print(f"median of {args.runs} processes; bytecode cache: {'no' if args.no_pyc else 'yes'}")
        print(head)
        print("-" * len(head))
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("python -S -E -c pass", [sys.executable, "-S", "-E", "-c", "pass"]),
        ]
        isolated = [sys.executable, "-S", "-E"]
        if cache is not None:  # -E ignores PYTHONPYCACHEPREFIX; -X does not
            isolated += ["-X", f"pycache_prefix={cache}"]
        else:
            isolated += ["-B"]
        for expr in args.expressions:
            if tcpdump:
                rows.append((f"tcpdump -d '{expr}'", [tcpdump, "-d", expr]))
            rows.append((f"bpfc -d '{expr}'", [*bpfc, expr]))
            code = (
                f"import sys; sys.path.insert(0, {ROOT!r}); sys.argv[1:] = ['-d', {expr!r}];"
                " from bpfc.cli import run; run()"
            )
            rows.append(("  same, python -S -E (no site)", [*isolated, "-c", code]))
        for label, cmd in rows:
            measure(cmd, env)  # warm the caches (bytecode, pages)
            cpu, wall = median_of(cmd, env, args.runs)
            print(f"{label:<44} {cpu * 1000:8.1f} {wall * 1000:8.1f}")
        expr = args.expressions[0]
        table = import_breakdown(expr, env, max(3, args.runs // 3))
        ours = sum(t for name, t in table.items() if name.split(".")[0] == "bpfc")
        rest = sum(t for name, t in table.items() if name.split(".")[0] != "bpfc")
        print(f"\nimports of bpfc -d '{expr}' (median self time, wall ms; -X importtime)")
        print(
            f"bpfc modules {ours:.1f} ms ({sum(1 for n in table if n.startswith('bpfc'))});"
            f" others {rest:.1f} ms ({sum(1 for n in table if not n.startswith('bpfc'))})"
        )
        for name, ms in sorted(table.items(), key=lambda item: -item[1])[: args.top]:
            print(f"  {name:<40} {ms:7.2f}")
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
