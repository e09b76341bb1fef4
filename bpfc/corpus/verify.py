"""Replay the corpus: compile each case with bpfc, run it with the bundled interpreter
over the case's packets, and compare with libpcap's recorded verdicts and with bpfc's
golden listings.  Needs no libpcap.

Each case compiles twice (optimized and not); both programs must return libpcap's value
for every packet, and both listings must equal the golden ones.  Where libpcap's own
optimized and unoptimized programs disagree (a truncated packet: which loads run before
the verdict is decided depends on the program), either of its two answers is accepted.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

from bpfc.corpus.golden import compile_case, listing, resolve
from bpfc.corpus.schema import Case, Corpus


@dataclass
class Mismatch:
    """A packet on which bpfc's program returned something else than libpcap's."""

    mode: str  # "opt" or "unopt"
    index: int
    expected: int
    got: int
    data: bytes
    wirelen: int


@dataclass
class Result:
    """What replaying one case found."""

    case: Case
    errors: list[str] = field(default_factory=list)  # bpfc refused to compile
    mismatches: list[Mismatch] = field(default_factory=list)
    listing_diffs: list[list[str]] = field(default_factory=list)
    listings_checked: bool = True

    @property
    def verdicts_ok(self) -> bool:
        return not self.errors and not self.mismatches

    @property
    def listings_ok(self) -> bool:
        return not self.listing_diffs

    @property
    def ok(self) -> bool:
        return self.verdicts_ok and self.listings_ok

    @property
    def status(self) -> str:
        """``pass``, ``fail``, ``xfail`` (known failure) or ``xpass`` (known, yet passed)."""
        if self.case.xfail is None:
            return "pass" if self.ok else "fail"
        return "xpass" if self.ok else "xfail"


def select(cases: Iterable[Case], pattern: str | None) -> list[Case]:
    """Cases whose id or expression contains ``pattern`` (or matches it, with wildcards)."""
    if not pattern:
        return list(cases)
    if any(ch in pattern for ch in "*?["):
        return [
            c for c in cases if fnmatch.fnmatch(c.id, pattern) or fnmatch.fnmatch(c.expr, pattern)
        ]
    return [c for c in cases if pattern in c.id or pattern in c.expr]


def check_case(corpus: Corpus, case: Case, listings: bool = True) -> Result:
    """Replay ``case``; never raises for bpfc's own errors (they are recorded)."""
    from bpfc.errors import BpfcError

    result = Result(case, listings_checked=listings)
    packets = corpus.packets(case.packets)
    if len(case.expected()) != len(packets):
        result.errors.append(
            f"corpus inconsistent: {len(case.expected())} verdicts for {len(packets)} packets"
        )
        return result
    golden = corpus.golden.get(case.id, {})
    for mode, optimize in (("opt", True), ("unopt", False)):
        try:
            program = compile_case(case, optimize)
        except BpfcError as err:
            result.errors.append(f"{mode}: bpfc refuses it: {err}")
            want_error = golden.get(f"{mode}_error")
            if listings and want_error != str(err):
                result.listing_diffs.append(
                    [f"{mode}: golden error {want_error!r}, got {str(err)!r}"]
                )
            continue
        run = program._filter(False)
        expected = case.expected(mode)
        other = case.expected("unopt" if optimize else "opt")
        for index, ((data, wirelen), want) in enumerate(zip(packets, expected, strict=True)):
            got = run(data, wirelen)
            if got != want and got != other[index]:
                result.mismatches.append(Mismatch(mode, index, want, got, data, wirelen))
        if listings:
            want_lines = resolve(case, golden.get(mode), mode)
            got_lines = listing(program)
            if want_lines is None:
                result.listing_diffs.append([f"{mode}: no golden listing (run --update-golden)"])
            elif want_lines != got_lines:
                diff = difflib.unified_diff(
                    want_lines, got_lines, f"golden {mode}", f"bpfc {mode}", lineterm="", n=2
                )
                result.listing_diffs.append(list(diff))
    return result


def run_corpus(corpus: Corpus, cases: Iterable[Case], listings: bool = True) -> list[Result]:
    return [check_case(corpus, case, listings) for case in cases]
