"""Text reports of a corpus replay: the summary table and one readable diff per failure."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bpfc.corpus.verify import Result

MAX_PACKETS_SHOWN = 3
HEX_BYTES = 96


def _row(name: str, rows: list[Result], listings: bool) -> str:
    verdicts = sum(r.verdicts_ok for r in rows)
    lists = sum(r.listings_ok for r in rows) if listings else "-"
    known = sum(r.status in ("xfail", "xpass") for r in rows)
    return f"{name:<26} {len(rows):>6} {verdicts:>12} {lists!s:>12} {known:>6}"


def _table(
    title: str, key: Callable[[Result], str], results: list[Result], listings: bool
) -> list[str]:
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    out = [f"{title:<26} {'cases':>6} {'verdicts ok':>12} {'listings ok':>12} {'known':>6}"]
    out += [_row(name, groups[name], listings) for name in sorted(groups)]
    return out


def summary(results: list[Result], listings: bool = True) -> str:
    """Per-topic and per-link-type tables, then the totals."""
    lines = _table("topic", lambda r: r.case.topic, results, listings)
    lines.append("")
    lines += _table("link type", lambda r: r.case.linktype, results, listings)
    lines.append("")
    lines.append(_row("total", results, listings))
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "xfail", "xpass")}
    lines.append(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['xfail']} known failures, "
        f"{counts['xpass']} known failures now passing"
    )
    return "\n".join(lines)


def hexdump(data: bytes, limit: int = HEX_BYTES) -> list[str]:
    out = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off : off + 16]
        out.append(f"      {off:04x}  {chunk.hex(' ')}")
    if len(data) > limit:
        out.append(f"      ... ({len(data) - limit} more bytes)")
    return out


def describe(result: Result) -> str:
    """A readable account of one failing (or unexpectedly passing) case."""
    case = result.case
    head = {"fail": "FAIL", "xfail": "KNOWN", "xpass": "XPASS"}.get(result.status, "PASS")
    lines = [f"{head} {case.id}  [{case.linktype}]  {case.expr}"]
    if case.netmask:
        lines.append(f"  netmask {case.netmask}")
    if case.xfail:
        lines.append(f"  known failure: {case.xfail}")
    lines += [f"  {err}" for err in result.errors]
    if result.mismatches:
        lines.append(f"  {len(result.mismatches)} verdict mismatch(es):")
    for m in result.mismatches[:MAX_PACKETS_SHOWN]:
        lines.append(
            f"    {m.mode} packet {m.index} (caplen {len(m.data)}, wirelen {m.wirelen}): "
            f"expected {m.expected}, got {m.got}"
        )
        lines += hexdump(m.data)
    if len(result.mismatches) > MAX_PACKETS_SHOWN:
        lines.append(f"    ... {len(result.mismatches) - MAX_PACKETS_SHOWN} more")
    for diff in result.listing_diffs:
        lines.append("  listing differs from golden:")
        lines += [f"    {line}" for line in diff]
    return "\n".join(lines)


def failures(results: Iterable[Result], show_known: bool = False) -> list[str]:
    shown = ("fail", "xpass", "xfail") if show_known else ("fail", "xpass")
    return [describe(r) for r in results if r.status in shown]
