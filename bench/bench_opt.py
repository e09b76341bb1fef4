"""The optimizer against libpcap's: size on real expressions, and time/size at scale.

    python bench/bench_opt.py [--quick] [--max-terms 10000] [--libpcap-timeout 60]

Times are CPU seconds of this process (wall-clock in brackets): on a shared machine
they are the stable measure.  Tables: (1) the upstream accept cases: total
instructions of libpcap master's unoptimized listing, its optimized listing and
ours (from the unoptimized one), and the expressions where ours is larger; (2) the
project's expression list against the system libpcap 1.10.3; (3) ``host h1 or ...
or hN`` and ``port 1 or ... or port N``: our time, size, longest test path and peak
memory against ``pcap_compile`` with the optimizer (run in a child process, one at
a time, killed after the timeout); (4) the same filters through ``bpfc.compiler.compile``
end to end (parse, code generation, optimizer, emission) in a fresh child process,
with its peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_CHILD = """
import sys, time
from bpfc import libpcap
expr = sys.stdin.read()
t = time.process_time()
prog = libpcap.compile(expr, "EN10MB", 262144, True, 0)
print(len(prog), time.process_time() - t)
"""


def upstream_table(corpus: Path) -> None:
    from bpfc.isa.listing_reader import parse_listing
    from bpfc.opt import optimize

    unopt = theirs = ours = 0
    larger = []
    spent = 0.0
    n = 0
    with open(corpus / "libpcap-filtertests.jsonl") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["kind"] != "accept" or rec.get("special") or not rec.get("expected_opt"):
                continue
            prog = parse_listing("\n".join(rec["expected_unopt"]))
            t = time.perf_counter()
            out = optimize(prog, reject_empty=False)
            spent += time.perf_counter() - t
            n += 1
            unopt += len(prog)
            theirs += len(rec["expected_opt"])
            ours += len(out)
            if len(out) > len(rec["expected_opt"]):
                larger.append((len(out) - len(rec["expected_opt"]), rec["dlt"], rec["expr"]))
    print(f"## upstream accept cases ({n}, libpcap master listings)\n")
    print("| unoptimized | libpcap optimized | bpfc | bpfc / libpcap | our time per case |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {unopt} | {theirs} | {ours} | {ours / theirs:.3f} | {1000 * spent / n:.1f} ms |\n")
    print(f"larger than libpcap on {len(larger)} cases (+{sum(d for d, _, _ in larger)} insns):")
    for d, dlt, expr in sorted(set(larger), reverse=True):
        print(f"- +{d} {dlt}: `{expr}`")
    print()


def expressions_table() -> None:
    from bpfc import libpcap
    from bpfc.opt import optimize

    rows = []
    for line in (ROOT / "tests" / "opt" / "fixtures" / "expressions.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    unopt = theirs = ours = 0
    larger = []
    spent = 0.0
    for dlt, expr in rows:
        prog = libpcap.compile(expr, dlt, 262144, False, 0)
        lib = libpcap.compile(expr, dlt, 262144, True, 0)
        t = time.perf_counter()
        out = optimize(prog)
        spent += time.perf_counter() - t
        unopt, theirs, ours = unopt + len(prog), theirs + len(lib), ours + len(out)
        if len(out) > len(lib):
            larger.append((len(out) - len(lib), dlt, expr))
    print(f"## project expressions ({len(rows)}, libpcap 1.10.3)\n")
    print("| unoptimized | libpcap optimized | bpfc | bpfc / libpcap | our time per case |")
    print("|---:|---:|---:|---:|---:|")
    n = len(rows)
    print(f"| {unopt} | {theirs} | {ours} | {ours / theirs:.3f} | {1000 * spent / n:.1f} ms |\n")
    print(f"larger than libpcap on {len(larger)} expressions:")
    for d, dlt, expr in sorted(larger, reverse=True):
        print(f"- +{d} {dlt}: `{expr}`")
    print()


def _terms(kind: str, n: int) -> tuple[str, list[str]]:
    if kind == "host":
        parts = [f"host 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(1, n + 1)]
    else:
        parts = [f"port {i}" for i in range(1, n + 1)]
    return " or ".join(parts), parts


# peak memory from VmHWM: ru_maxrss keeps the parent's peak across fork and exec
_COMPILE_CHILD = """
import sys, time, warnings
warnings.simplefilter("ignore")
from bpfc.compiler import compile as bpfc_compile
expr = sys.stdin.read()
t = time.process_time()
prog = bpfc_compile(expr, "EN10MB", optimize=True)
spent = time.process_time() - t
with open("/proc/self/status") as fh:
    hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(len(prog), spent, hwm)
"""


def _child(code: str, expr: str, timeout: float) -> subprocess.CompletedProcess | None:
    """``code`` in a fresh Python with ``expr`` on its stdin; None when it ran out of time."""
    try:
        return subprocess.run(
            [sys.executable, "-c", code],
            input=expr,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    except subprocess.TimeoutExpired:
        return None


def _bpfc_compiled(expr: str, timeout: float) -> str:
    """``bpfc.compiler.compile`` end to end in a fresh child: CPU time, size, peak RSS."""
    done = _child(_COMPILE_CHILD, expr, timeout)
    if done is None:
        return f"| timed out (> {timeout:.0f} s) | | |"
    if done.returncode != 0:
        return f"| failed ({done.returncode}) | | |"
    size, secs, rss = done.stdout.split()
    return f"| {float(secs):.2f} s | {size} | {int(rss) / 1024:.0f} MB |"


def compile_table(max_terms: int, timeout: float) -> None:
    print("## scaling: `bpfc.compiler.compile(expr, 'EN10MB')` end to end (child process)\n")
    print("| filter | N | CPU (parse, codegen, optimize, emit) | insns | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("host", "port"):
        for n in (10, 100, 1000, 10000):
            if n <= max_terms:
                print(f"| {kind} | {n} {_bpfc_compiled(_terms(kind, n)[0], timeout)}")
    print()


def _libpcap_optimized(expr: str, timeout: float) -> str:
    done = _child(_CHILD, expr, timeout)
    if done is None:
        return f"timed out (> {timeout:.0f} s)"
    if done.returncode != 0:
        return f"failed ({done.returncode}: {done.stderr.strip().splitlines()[-1:]})"
    size, secs = done.stdout.split()
    return f"{float(secs):.2f} s CPU, {size} insns"


def _longest(prog) -> int:
    depth = [0] * (len(prog) + 1)
    for i in range(len(prog) - 1, -1, -1):
        code, jt, jf, k = prog[i]
        if code & 7 == 6:
            depth[i] = 0
        elif code == 0x05:
            depth[i] = depth[i + 1 + k]
        elif code & 7 == 5:
            depth[i] = 1 + max(depth[i + 1 + jt], depth[i + 1 + jf])
        else:
            depth[i] = depth[i + 1]
    return depth[0]


def scaling_table(max_terms: int, timeout: float) -> None:
    from bpfc import libpcap
    from bpfc.opt import optimize
    from bpfc.opt.compose import chain_or

    print("## scaling: input is the unoptimized program (libpcap's, joined per term)\n")
    print(
        "| filter | N | input insns | bpfc CPU (wall) | bpfc insns | longest test path "
        "| bpfc peak memory | libpcap -O |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for kind in ("host", "port"):
        for n in (10, 100, 1000, 10000):
            if n > max_terms:
                continue
            expr, parts = _terms(kind, n)
            prog = chain_or([libpcap.compile(p, "EN10MB", 262144, False, 0) for p in parts])
            t, c = time.perf_counter(), time.process_time()
            out = optimize(prog)
            secs, cpu = time.perf_counter() - t, time.process_time() - c
            tracemalloc.start()
            optimize(prog)
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            lib = _libpcap_optimized(expr, timeout) if n <= 1000 else "not run (parser overflows)"
            print(
                f"| {kind} | {n} | {len(prog)} | {cpu:.2f} s ({secs:.2f} s) | {len(out)} "
                f"| {_longest(out)} "
                f"| {peak:.0f} MB | {lib} |"
            )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus-upstream")
    parser.add_argument("--quick", action="store_true", help="scaling up to 1,000 terms only")
    parser.add_argument("--max-terms", type=int, default=10000)
    parser.add_argument("--libpcap-timeout", type=float, default=60.0)
    parser.add_argument("--skip-corpus", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_corpus:
        upstream_table(args.corpus)
        expressions_table()
    scaling_table(1000 if args.quick else args.max_terms, args.libpcap_timeout)
    compile_table(1000 if args.quick else args.max_terms, args.libpcap_timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
