"""Stored tcpdump listings as golden files: check bpfc's program against each by behaviour.

Teams already keep ``tcpdump -d`` output in their repositories.  A *listings directory*
holds pairs::

    http.filter     the expression, as for tcpdump -F ('#' comments, lines joined), plus
                    optional settings lines of the suite format (@linktype LINUX_SLL,
                    @snaplen 96, @netmask 255.255.255.0, @linux on)
    http.d          its `tcpdump -d` output (or http.dd: -dd, http.ddd: -ddd)

Each listing file is one case (id: its file name).  bpfc compiles the expression (optimized
and not), a targeted packet set is built for all three programs (:mod:`bpfc.golden.paths`),
and the stored program, run by bpfc's interpreter, must accept and drop the packets bpfc's
programs accept and drop (on a truncated packet either of bpfc's two answers holds).  How
many bytes an accept keeps (tcpdump's snapshot length, ``ret #N``) is not behaviour: a
different value is a note suggesting the ``@snaplen`` that makes them equal.  A stored listing
whose code differs from bpfc's (say, libpcap's optimizer's) with the same behaviour passes,
with the diff shown; it fails only with ``strict`` (``--strict-listings``).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from bpfc.corpus.verify import Mismatch
from bpfc.golden.paths import seed_for, targeted_packets_for
from bpfc.golden.record import compile_pair, returns
from bpfc.golden.replay import GoldenResult
from bpfc.golden.store import FAILURES, GoldenCase, GoldenFileError, pcap_bytes, write_file
from bpfc.golden.suite import Filter, Settings, SuiteError, apply_setting

FORMATS = {".d": "d", ".dd": "dd", ".ddd": "ddd"}
FILTER_SUFFIX = ".filter"


def is_listings_dir(root: Path) -> bool:
    return root.is_dir() and any(root.glob(f"*{FILTER_SUFFIX}"))


def read_filter(path: Path) -> Filter:
    """A ``.filter`` file: settings lines and the expression (errors name file and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SuiteError(str(path), 1, 1, f"not UTF-8 text ({err.reason})") from None
    settings = Settings()
    words: list[str] = []
    first = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("@"):
            match = re.match(r"@([A-Za-z_]\w*)(?:\s*=\s*|\s+|$)(.*)$", line)
            if not match:
                raise SuiteError(str(path), lineno, 1, "bad setting (write @KEY VALUE)")
            where = (str(path), lineno, raw.index("@") + 1)
            settings = apply_setting(settings, match.group(1), match.group(2).strip(), where, False)
            continue
        first = first or lineno
        words.append(line)
    if not words:
        raise SuiteError(str(path), 1, 1, "no filter expression")
    if len(settings.linktypes) != 1:
        raise SuiteError(str(path), 1, 1, "a listing is for one link type: give one @linktype")
    return Filter(
        path.name, " ".join(words), settings.linktypes[0], settings.snaplen,
        settings.netmask, settings.linux, str(path), first,
    )  # fmt: skip


def read_stored(path: Path) -> list[tuple[int, int, int, int]]:
    """The program in a stored listing (its format from the suffix)."""
    from bpfc.errors import AsmError
    from bpfc.isa.asm import read

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise GoldenFileError(f"{path}: not UTF-8 ({err.reason})") from None
    try:
        return [tuple(i) for i in read(text, FORMATS[path.suffix])]  # type: ignore[misc]
    except (AsmError, ValueError) as err:
        raise GoldenFileError(f"{path}: not a tcpdump {path.suffix[1:]} listing: {err}") from None


def check_listing(f: Filter, listing: Path, strict: bool = False) -> GoldenResult:
    """Check the stored program in ``listing`` against bpfc's for ``f``."""
    from bpfc.errors import BpfcError
    from bpfc.program import Program

    stored = read_stored(listing)
    case = GoldenCase(listing.name, f.expr, f.linktype, f.snaplen, f.netmask, f.linux)
    case.group = "(listings)"
    result = GoldenResult(case, strict=strict)
    try:
        opt, unopt = compile_pair(f)
    except BpfcError as err:
        result.errors.append(f"bpfc refuses it: {err}")
        return result
    try:
        program = Program.from_insns(stored)
    except BpfcError as err:
        raise GoldenFileError(f"{listing}: the stored program is not valid: {err}") from None
    pkts, _ = targeted_packets_for(
        f.expr, f.linktype, [stored, list(opt), list(unopt)],
        seed=seed_for(listing.name + "\0" + f.expr), linux=f.linux,
    )  # fmt: skip
    packets = [(p.data, p.wirelen) for p in pkts]
    result.packets = len(packets)
    want = returns(program, packets, f.linux)
    got = {"opt": returns(opt, packets, f.linux), "unopt": returns(unopt, packets, f.linux)}
    accepts: set[tuple[int, int]] = set()
    for mode, other in (("opt", "unopt"), ("unopt", "opt")):
        for index, (data, wirelen) in enumerate(packets):
            value = got[mode][index]
            if bool(value) == bool(want[index]):
                if value != want[index]:
                    accepts.add((want[index], value))
                continue
            if len(data) < wirelen and bool(got[other][index]) == bool(want[index]):
                continue  # truncated: which loads run first is the program's choice
            result.mismatches.append(Mismatch(mode, index, want[index], value, data, wirelen))
    for theirs, ours in sorted(accepts):
        # the accept value is the snapshot length tcpdump compiled with, not behaviour
        result.notes.append(
            f"the stored program accepts with {theirs} bytes, bpfc's with {ours} "
            f"(@snaplen {theirs} in {listing.stem}{FILTER_SUFFIX} makes them equal)"
        )
    stored_text = program.dump("d")
    if stored_text not in (opt.dump("d"), unopt.dump("d")):
        diff = difflib.unified_diff(
            stored_text.splitlines(), opt.dump("d").splitlines(),
            f"stored {listing.name}", "bpfc opt", lineterm="", n=2,
        )  # fmt: skip
        result.listing_diffs.append(list(diff))
    return result


def replay_listings(
    root: Path, pattern: str | None = None, strict: bool = False
) -> list[GoldenResult]:
    """Check every listing file of ``root`` against its ``.filter``."""
    from bpfc.golden.replay import _matches

    results: list[GoldenResult] = []
    names = sorted(p for p in root.iterdir() if p.suffix in FORMATS or p.suffix == FILTER_SUFFIX)
    stems_with_listing = {p.stem for p in names if p.suffix in FORMATS}
    for path in names:
        if path.suffix == FILTER_SUFFIX:
            if path.stem not in stems_with_listing:
                f = read_filter(path)
                if _matches(pattern, f.id, f.expr):
                    result = GoldenResult(
                        GoldenCase(f.id, f.expr, f.linktype, group="(listings)"), strict=strict
                    )
                    result.errors.append(
                        f"no listing beside it ({path.stem}.d, .dd or .ddd from tcpdump)"
                    )
                    results.append(result)
            continue
        filter_path = path.with_suffix(FILTER_SUFFIX)
        if not filter_path.exists():
            raise GoldenFileError(f"{path}: no {filter_path.name} beside it (the expression)")
        f = read_filter(filter_path)
        if not _matches(pattern, path.name, f.expr):
            continue
        result = check_listing(f, path, strict)
        if result.mismatches:
            seen: dict[bytes, int] = {}
            for m in result.mismatches:
                seen.setdefault(m.data, m.wirelen)
            target = root / FAILURES / f"{path.name}.pcap"
            write_file(target, pcap_bytes(f.linktype, 262144, list(seen.items())))
            result.failure_pcap = target
        results.append(result)
    return results
