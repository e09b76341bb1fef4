"""Byte identity of ``optimizer="libpcap"`` with libpcap master's optimized programs.

    python bench/libpcap_identity.py [--count 3000] [--seed 2] [--generated 20000]
                                     [--generated-seed 17] [--list 10]

Four sets, each compiled by ``bpfc.compile(..., optimizer="libpcap")`` and compared,
instruction for instruction (or refusal message for refusal message), with master:

* corpus: corpus/expected's recorded master listings (every case);
* upstream: libpcap's accept cases (../shared/corpus-upstream/) against the optimized
  listings its test suite records;
* compositions: ``--count`` random and/or/not compositions (tests/support/
  size_compositions.py), against the live master library;
* generated: ``--generated`` expressions of the front-end differential's grammar
  generator (tests/support/grammar_gen.py) over every link type both know, against master
  in a crash-isolated worker (most are refused by both: refusals must match too).

A case that differs is split by whether the two *unoptimized* programs differ already
(code generation's difference, which the optimizer mode cannot fix) or only the
optimized ones (the model's or the layout's).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import bpfc  # noqa: E402
from bpfc import libpcap  # noqa: E402
from bpfc.corpus.schema import compact  # noqa: E402
from bpfc.errors import CompileError  # noqa: E402


def ours(expr: str, linktype: str, optimize: bool = True, **kw: object) -> object:
    try:
        prog = bpfc.compile(expr, linktype, optimize=optimize, optimizer="libpcap", **kw)
    except CompileError as err:
        return f"refused: {err.message}"
    return [tuple(i) for i in prog]


def corpus_set() -> tuple[Counter, list[str]]:
    counts: Counter = Counter()
    bad = []
    for path in sorted((ROOT / "corpus" / "expected").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            try:
                prog = bpfc.compile(
                    rec["expr"], rec["linktype"], rec.get("snaplen", 262144),
                    netmask=rec.get("netmask"), optimizer="libpcap",
                )  # fmt: skip
                got = compact(prog.dump("d").splitlines())
            except CompileError as err:
                got = [f"refused: {err.message}"]
            same = got == rec["libpcap_opt"]
            counts["identical" if same else "different"] += 1
            if not same:
                bad.append(f"{rec['id']} {rec['expr']!r}")
    return counts, bad


def upstream_set() -> tuple[Counter, list[str]]:
    from conftest import UPSTREAM
    from support.upstream_cases import _netmask, cases, resolver, savefile_info

    counts: Counter = Counter()
    bad = []
    if not UPSTREAM.is_dir():
        return counts, [f"no upstream corpus at {UPSTREAM}"]
    for rec in cases(UPSTREAM, "accept", savefile=True):
        want = None if rec.get("opt_rejected") else [x.rstrip() for x in rec["expected_opt"]]
        try:
            prog = bpfc.compile(
                rec["expr"], linktype=rec["dlt"], snaplen=rec.get("snaplen", 262144),
                netmask=_netmask(rec), resolver=resolver(UPSTREAM),
                savefile=savefile_info(rec), optimizer="libpcap",
            )  # fmt: skip
            got = [x.rstrip() for x in prog.dump("d").splitlines()]
        except CompileError:
            got = None
        counts["identical" if got == want else "different"] += 1
        if got != want:
            bad.append(f"{rec['id']} {rec['dlt']} {rec['expr']!r}")
    return counts, bad


def _compare(cases, master_compile) -> tuple[Counter, list[str]]:
    counts: Counter = Counter()
    bad = []
    for expr, linktype in cases:
        theirs = master_compile(expr, linktype, True)
        mine = ours(expr, linktype)
        if mine == theirs:
            counts["identical" if isinstance(mine, list) else "same refusal"] += 1
        elif master_compile(expr, linktype, False) != ours(expr, linktype, False):
            counts["differs unoptimized too (code generation)"] += 1
            bad.append(f"codegen {linktype} {expr!r}")
        else:
            counts["optimized only"] += 1
            bad.append(f"OPTIMIZER {linktype} {expr!r}")
    return counts, bad


def compositions_set(master_path: Path, count: int, seed: int) -> tuple[Counter, list[str]]:
    from support.size_compositions import compositions

    lib = libpcap.library(master_path)

    def master(expr: str, linktype: str, optimize: bool) -> object:
        try:
            return [tuple(i) for i in lib.compile(expr, linktype, 262144, optimize)]
        except libpcap.LibpcapError as err:
            return f"refused: {err.message}"

    cases = list(compositions(count, seed, lambda e, d: lib.compile(e, d, 262144, True)))
    return _compare(cases, master)


def generated_set(master_path: Path, count: int, seed: int) -> tuple[Counter, list[str]]:
    from support.front_end import master_linktypes
    from support.grammar_gen import Generator

    worker = libpcap.CompileWorker(master_path)

    def master(expr: str, linktype: str, optimize: bool) -> object:
        try:
            return [tuple(i) for i in worker.compile(expr, linktype, 262144, optimize)]
        except libpcap.LibpcapCrash:
            return "master crashed"
        except libpcap.LibpcapError as err:
            return f"refused: {err.message}"

    gen = Generator(seed, master_linktypes(libpcap.library(master_path)))
    return _compare([(c.expr, c.linktype) for c in gen.cases(count)], master)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--generated", type=int, default=20000)
    parser.add_argument("--generated-seed", type=int, default=17)
    parser.add_argument("--list", type=int, default=10, help="differences listed per set")
    args = parser.parse_args()
    from support.oracles import master_library

    master_path, why = master_library()
    sets = [("corpus", corpus_set), ("upstream", upstream_set)]
    if master_path is None:
        print(f"libpcap master unavailable ({why}): live sets skipped")
    else:
        sets += [
            ("compositions", lambda: compositions_set(master_path, args.count, args.seed)),
            ("generated", lambda: generated_set(master_path, args.generated, args.generated_seed)),
        ]
    for name, run in sets:
        start = time.perf_counter()
        counts, bad = run()
        total = sum(counts.values())
        parts = ", ".join(f"{n} {k}" for k, n in counts.most_common())
        print(f"{name}: {total} cases: {parts} ({time.perf_counter() - start:.0f} s)")
        for line in bad[: args.list]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
