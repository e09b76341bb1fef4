"""``bpfc verify``: replay golden files with the bundled interpreter (no libpcap).

    bpfc verify [DIR] [-k PATTERN] [--update-golden] [--no-listings] [-q] [--show-known]
    bpfc verify GOLDEN_DIR [--update] [--strict-listings] [--suite PATH]
    bpfc verify LISTINGS_DIR [--strict-listings]

``DIR`` is one of three kinds, told apart by what it holds: the project corpus
(``expected/``, the default), a user's golden directory from ``bpfc golden record``
(``golden.json``; :mod:`bpfc.golden.replay`), or a directory of ``NAME.filter`` files
with their stored ``tcpdump -d``/``-dd``/``-ddd`` listings (:mod:`bpfc.golden.stored_listings`).
All three print the same failure blocks and summary table.  Exit status 0 when every
selected case passes (known failures excepted), 1 otherwise.
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
        prog="bpfc verify",
        description="replay golden files with the bundled interpreter: the golden corpus, "
        "a golden directory of your filters (bpfc golden record) or stored tcpdump listings "
        "(NAME.filter beside NAME.d/.dd/.ddd); see docs/golden.md",
    )
    p.add_argument(
        "corpus",
        nargs="?",
        type=Path,
        help="corpus, golden or listings directory (default: ./corpus of a bpfc source "
        "checkout: the corpus is not installed with the package)",
    )
    p.add_argument("-k", dest="pattern", help="only cases whose id or expression contains this")
    p.add_argument("--update-golden", action="store_true", help="rewrite bpfc's golden listings")
    p.add_argument("--no-listings", action="store_true", help="compare verdicts only")
    p.add_argument("--show-known", action="store_true", help="also describe known failures")
    p.add_argument("-q", "--quiet", action="store_true", help="print only failures and totals")
    p.add_argument(
        "--update",
        action="store_true",
        help="golden directory: re-record the filters that changed, printing each file rewritten",
    )
    p.add_argument(
        "--strict-listings",
        action="store_true",
        help="golden or listings directory: a changed listing fails even when every verdict "
        "is the same",
    )
    p.add_argument(
        "--suite",
        type=Path,
        help="golden directory: the suite to replay (default: the one recorded in its golden.json)",
    )
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
            raise UsageError(
                f"{root}: not a bpfc corpus (it has no expected/ directory), nor a golden "
                "directory (golden.json) nor listings (NAME.filter files)"
            )
    try:
        return load(root)
    except (KeyError, TypeError, AttributeError, IndexError) as err:
        raise UsageError(f"{root}: malformed corpus ({type(err).__name__}: {err})") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"{root}: malformed corpus (a file is not UTF-8: {err.reason})") from None


def _print_results(
    title: str, results: list, quiet: bool, start: float, listings: bool = True
) -> int:
    from bpfc.golden.replay import describe

    if not listings:  # --no-listings: verdicts only, as for the corpus
        for result in results:
            result.listing_diffs.clear()
            result.listings_checked = False

    elapsed = time.perf_counter() - start
    for result in results:
        if result.status != "pass" or result.changed:
            print(describe(result))
            print()
    table = report.summary(results, listings)
    changed = sum(r.status == "pass" and r.changed for r in results)
    if quiet:
        print(table.splitlines()[-1])
    else:
        print(title)
        print(table)
    if changed:
        print(f"{changed} changed without a verdict change (see CHANGED above)")
    print(f"{len(results)} cases in {elapsed:.1f} s")
    return 1 if any(r.status == "fail" for r in results) else 0


def _verify_golden(args: argparse.Namespace) -> int:
    """A user's golden directory (``golden.json``) or a directory of stored listings."""
    from bpfc.golden import replay, store
    from bpfc.golden import stored_listings as listings

    root = args.corpus
    if args.no_listings and args.strict_listings:
        raise UsageError("--no-listings and --strict-listings contradict each other")
    start = time.perf_counter()
    if store.is_golden_dir(root):
        index, suite, results = replay.replay(root, args.suite, args.pattern, args.strict_listings)
        if not results:
            raise UsageError(f"no filter matches {args.pattern!r}")
        if args.update or args.update_golden:  # the corpus's spelling works here too
            return 0 if replay.update(root, suite, results) else 1
        title = (
            f"golden {root} (suite {suite}; recorded {index.get('recorded', '?')} by bpfc "
            f"{index.get('bpfc', '?')}, oracle {index.get('oracle') or 'none'})"
        )
        return _print_results(title, results, args.quiet, start, not args.no_listings)
    if args.update or args.update_golden:
        raise UsageError(f"{root}: --update rewrites a golden directory; stored listings are yours")
    results = listings.replay_listings(root, args.pattern, args.strict_listings)
    if not results:
        raise UsageError(f"{root}: no listing matches {args.pattern!r}")
    return _print_results(f"listings {root}", results, args.quiet, start, not args.no_listings)


def main_verify(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    if args.corpus is not None and args.corpus.is_dir() and not (args.corpus / "expected").is_dir():
        from bpfc.golden import store
        from bpfc.golden import stored_listings as listings

        if store.is_golden_dir(args.corpus) or listings.is_listings_dir(args.corpus):
            return _verify_golden(args)
    if args.update or args.strict_listings or args.suite is not None:
        raise UsageError(
            "--update, --strict-listings and --suite are for a golden directory "
            "(bpfc golden record) or a listings directory"
        )
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
