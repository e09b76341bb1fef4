"""bpfc's own golden listings: what this tree compiles each corpus case to.

They change whenever codegen or the optimizer changes, on purpose or not, so the corpus
test compares them and fails on any change; they are rewritten only by an explicit
``bpfc verify --update-golden``.  A listing equal to libpcap's (compacted) is stored as
``"=libpcap_opt"`` / ``"=libpcap_unopt"`` to keep the files small and to show at a
glance where bpfc and libpcap 1.10.3 emit the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bpfc.corpus.schema import Case, Corpus, compact, write_jsonl

SAME = {"opt": "=libpcap_opt", "unopt": "=libpcap_unopt"}


def compile_case(case: Case, optimize: bool) -> Any:
    """bpfc's program for ``case`` (raises bpfc's errors)."""
    import bpfc

    return bpfc.compile(case.expr, case.linktype, case.snaplen, optimize, case.netmask)


def listing(program: Any) -> list[str]:
    return compact(program.dump("d").splitlines())


def resolve(case: Case, stored: Any, mode: str) -> list[str] | None:
    """A golden entry as lines (``None`` when there is none)."""
    if stored == SAME[mode]:
        return list(case.libpcap_opt if mode == "opt" else case.libpcap_unopt)
    return stored


def golden_entry(case: Case) -> dict[str, Any]:
    """The golden record for ``case`` as this tree compiles it."""
    from bpfc.errors import BpfcError

    entry: dict[str, Any] = {"id": case.id}
    for mode, optimize in (("opt", True), ("unopt", False)):
        try:
            lines = listing(compile_case(case, optimize))
        except BpfcError as err:
            entry[f"{mode}_error"] = str(err)
            continue
        libpcap = list(case.libpcap_opt if optimize else case.libpcap_unopt)
        entry[mode] = SAME[mode] if lines == libpcap else lines
    return entry


def update_golden(
    corpus: Corpus, selected: Iterable[Case], log: Callable[[str], None] = print
) -> int:
    """Rewrite golden/<topic>.jsonl for the ``selected`` cases (others kept); return how
    many entries changed."""
    changed = 0
    for case in selected:
        entry = golden_entry(case)
        body = {k: v for k, v in entry.items() if k != "id"}
        if corpus.golden.get(case.id) != body:
            changed += 1
            corpus.golden[case.id] = body
    for topic in corpus.topics():
        rows = [
            {"id": c.id, **corpus.golden[c.id]}
            for c in corpus.cases
            if c.topic == topic and c.id in corpus.golden
        ]
        write_jsonl(corpus.root / "golden" / f"{topic}.jsonl", rows)
    log(f"golden listings: {changed} changed")
    return changed
