"""``bpfc golden record SUITE -o DIR``: record a suite of one's own filters as golden files.

    bpfc golden record SUITE -o DIR [--oracle libpcap [--libpcap PATH]] [-q]

Per filter: its listings (optimized and not, ``-d`` text), a packet set that takes every
branch the generated packets reach, and the verdict on each packet (layout:
:mod:`bpfc.golden.store`).  ``--oracle libpcap`` also compiles and runs every filter with
libpcap (the system's, or the one at ``--libpcap PATH``) and reports each disagreement;
the run then fails when any verdict differs.  Replay with ``bpfc verify DIR``.  Exit
status 0 when every filter was recorded (and, with an oracle, agrees), 1 otherwise.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from bpfc.cli.args import ArgumentParser
from bpfc.errors import UsageError


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="bpfc golden", description="golden files for your own filters")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    rec = sub.add_parser(
        "record",
        help="record a suite's listings, packets and verdicts into a directory",
        description="record a suite's listings, packets and verdicts into a directory",
    )
    rec.error = p.error  # type: ignore[method-assign]  # one-line usage errors here too
    rec.add_argument("suite", type=Path, help="the suite file (see docs/golden.md)")
    rec.add_argument("-o", dest="output", type=Path, required=True, help="golden directory")
    rec.add_argument(
        "--oracle", choices=["libpcap"], help="also compile and run each filter with libpcap"
    )
    rec.add_argument("--libpcap", metavar="PATH", help="the libpcap shared library to load")
    rec.add_argument("-q", "--quiet", action="store_true", help="print only problems and totals")
    return p


def _oracle_summary(oracle: dict) -> str:
    if "rejects" in oracle:
        return "rejects it"
    return f"verdicts {oracle.get('verdicts', '?')}"


def main_golden(argv: Sequence[str]) -> int:
    from bpfc.golden.record import load_oracle, record_suite

    args = _parser().parse_args(list(argv))
    if args.action != "record":
        raise UsageError("say what to do: bpfc golden record SUITE -o DIR")
    if args.libpcap and not args.oracle:
        raise UsageError("--libpcap needs --oracle libpcap")
    if not args.suite.is_file():
        raise UsageError(f"{args.suite}: no such suite file")
    if args.output.exists() and not args.output.is_dir():
        raise UsageError(f"{args.output}: exists and is not a directory")
    oracle = load_oracle(args.oracle, args.libpcap)
    results = record_suite(args.suite, args.output, oracle)
    failed = disagreed = written = 0
    for r in results:
        if r.error is not None:
            failed += 1
            print(f"ERROR {r.error}")
            for text in r.disagreements:
                disagreed += 1
                print(f"  DISAGREE {text}")
            continue
        case = r.case
        assert case is not None
        written += len(r.written)
        if not args.quiet or r.disagreements:
            print(
                f"{case.id}  [{case.linktype}]  {case.expr}: {len(case.packets)} packets, "
                f"edges covered opt {case.coverage['opt']} unopt {case.coverage['unopt']}"
                + (f", libpcap: {_oracle_summary(case.oracle)}" if case.oracle else "")
            )
        for note in r.notes if not args.quiet else ():
            print(f"  note: {note}")
        if r.disagreements:
            disagreed += 1
            for text in r.disagreements:
                print("  DISAGREE " + text.replace("\n", "\n  "))
    print(
        f"recorded {len(results) - failed} of {len(results)} filters in {args.output} "
        f"({written} files written)"
        + (f"; {disagreed} disagree with libpcap" if oracle is not None else "")
    )
    return 1 if failed or disagreed else 0


main = main_golden
