"""``bpfc verify``: replay the golden corpus with the bundled interpreter (no libpcap).

    bpfc verify [CORPUS] [-k PATTERN] [--update-golden] [--no-listings] [-v] [--show-known]

Exit status 0 when every selected case passes (known failures excepted), 1 otherwise.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from bpfc.cli.args import ArgumentParser
from bpfc.corpus import report
from bpfc.corpus.golden import update_golden
from bpfc.corpus.schema import Corpus, default_root, load
from bpfc.corpus.verify import run_corpus, select
from bpfc.errors import UsageError


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="bpfc verify", description="replay the golden corpus with the bundled interpreter"
    )
    p.add_argument(
        "corpus",
        nargs="?",
        type=Path,
        help="corpus directory (default: ./corpus of a bpfc source checkout: the "
        "corpus is not installed with the package)",
    )
    p.add_argument("-k", dest="pattern", help="only cases whose id or expression contains this")
    p.add_argument("--update-golden", action="store_true", help="rewrite bpfc's golden listings")
    p.add_argument("--no-listings", action="store_true", help="compare verdicts only")
    p.add_argument("--show-known", action="store_true", help="also describe known failures")
    p.add_argument("-q", "--quiet", action="store_true", help="print only failures and totals")
    return p


def _load(given: Path | None) -> Corpus:
    """The corpus in ``given``, or bpfc's own; a UsageError says what is missing or wrong."""
    if given is None:
        root = default_root()
        if not (root / "expected").is_dir():
            raise UsageError(
                "no corpus found: the golden corpus is not installed with the package; "
                "run bpfc verify from a bpfc source checkout, or pass the corpus DIR"
            )
    else:
        root = given
        if not root.is_dir():
            raise UsageError(f"{root}: no such directory")
        if not (root / "expected").is_dir():
            raise UsageError(f"{root}: not a bpfc corpus (it has no expected/ directory)")
    try:
        return load(root)
    except (KeyError, TypeError, AttributeError, IndexError) as err:
        raise UsageError(f"{root}: malformed corpus ({type(err).__name__}: {err})") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"{root}: malformed corpus (a file is not UTF-8: {err.reason})") from None


def main_verify(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    corpus = _load(args.corpus)
    root = corpus.root
    cases = select(corpus.cases, args.pattern)
    if not cases:
        raise UsageError(f"no case matches {args.pattern!r}")
    if args.update_golden:
        update_golden(corpus, cases)
        return 0
    start = time.perf_counter()
    results = run_corpus(corpus, cases, listings=not args.no_listings)
    elapsed = time.perf_counter() - start
    for text in report.failures(results, args.show_known):
        print(text)
        print()
    if args.quiet:
        print(report.summary(results, not args.no_listings).splitlines()[-1])
    else:
        print(f"corpus {root} (expected data from {corpus.meta.get('libpcap', '?')})")
        print(report.summary(results, not args.no_listings))
    print(f"{len(results)} cases in {elapsed:.1f} s")
    return 1 if any(r.status in ("fail", "xpass") for r in results) else 0


main = main_verify
