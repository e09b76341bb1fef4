"""Whole-process start-up of ``bpfc -d EXPR`` from a non-editable install, beside
``python -c pass`` and ``tcpdump -d EXPR``, all measured in one run; and where it goes.

``python bench/bench_startup.py [-n RUNS] [--top N] [--python PY] [EXPR ...]``

1. Installs this checkout into a temporary virtual environment the way a user gets it
   (``pip install --no-deps .``: a wheel build, not editable; bpfc needs no dependency at
   run time, Lark only to regenerate its tables) and runs the ``bpfc`` console script
   there once to write the bytecode cache, as an installed package has.  ``--python PY``
   measures an existing environment's interpreter (with its ``bpfc`` script) instead.
2. For each expression, prints the median over RUNS processes of CPU time (user + system,
   from ``wait4``) and wall time of ``python -c pass`` (that environment's interpreter,
   with ``site``: the floor any Python command pays), ``bpfc -d EXPR`` (the console
   script) and ``tcpdump -d EXPR``; then bpfc's cost above the floor and the target
   (floor + 40 ms).
3. Prints bpfc's import breakdown from ``python -X importtime`` (median self time per
   module, the top N), plus the total of bpfc's own modules and of the rest.

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
"""The source checkout to install."""

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

TARGET_MS = 40.0
"""bpfc's start-up budget above ``python -c pass`` (wall)."""


def install(folder: str) -> str:
    """A fresh virtual environment in ``folder`` with this checkout installed (not
    editable); returns its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", folder], check=True)
    python = os.path.join(folder, "bin", "python")
    base = [python, "-m", "pip", "install", "-q", "--no-deps", ROOT]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # without build isolation where the environment has setuptools (no index needed)
    if subprocess.run([*base, "--no-build-isolation"], **quiet).returncode != 0:  # type: ignore[call-overload]
        subprocess.run(base, check=True)
    return python


def import_breakdown(python: str, expr: str, runs: int) -> dict[str, float]:
    """Median self time (ms) per module imported by ``bpfc -d EXPR`` (``-X importtime``)."""
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        proc = subprocess.run(
            [python, "-X", "importtime", "-m", "bpfc", "-d", expr],
            capture_output=True,
            text=True,
            check=True,
            cwd=tempfile.gettempdir(),  # not the checkout: the installed package
        )
        for match in IMPORT_LINE.finditer(proc.stderr):
            times[match.group(4)].append(int(match.group(1)) / 1000)
    return {
        name: statistics.median(values + [0.0] * (runs - len(values)))
        for name, values in times.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=21, help="processes per measurement")
    parser.add_argument("--top", type=int, default=15, help="modules in the import table")
    parser.add_argument("--python", help="measure this environment's interpreter and bpfc")
    parser.add_argument("expressions", nargs="*", default=EXPRESSIONS)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    folder = None if args.python else tempfile.mkdtemp(prefix="bpfc-startup-")
    try:
        python = args.python or install(os.path.join(folder or "", "venv"))
        script = os.path.join(os.path.dirname(python), "bpfc")
        tcpdump = shutil.which("tcpdump")
        where = "temporary venv, pip install ." if folder else python
        print(f"median of {args.runs} processes; bpfc installed in: {where}")
        head = f"{'command':<48} {'cpu ms':>8} {'wall ms':>8}"
        print(head)
        print("-" * len(head))
        rows = [("python -c pass", [python, "-c", "pass"])]
        for expr in args.expressions:
            rows.append((f"bpfc -d '{expr}'", [script, "-d", expr]))
            if tcpdump:
                rows.append((f"tcpdump -d '{expr}'", [tcpdump, "-d", "-y", "EN10MB", expr]))
        medians = {}
        for label, cmd in rows:
            measure(cmd, env)  # warm the caches (bytecode, pages)
            medians[label] = median_of(cmd, env, args.runs)
            cpu, wall = medians[label]
            print(f"{label:<48} {cpu * 1000:8.1f} {wall * 1000:8.1f}")
        floor = medians["python -c pass"][1] * 1000
        print(f"\nbpfc -d above python -c pass (wall; target <= {TARGET_MS:.0f} ms):")
        for label, (_, wall) in medians.items():
            if label.startswith("bpfc"):
                extra = wall * 1000 - floor
                verdict = "ok" if extra <= TARGET_MS else "over"
                print(f"  {label:<46} {extra:+7.1f} ms  {verdict}")
        expr = args.expressions[0]
        table = import_breakdown(python, expr, max(3, args.runs // 3))
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
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
