"""Regenerate ``bpfc/syntax/_tables.py`` from the grammar: ``python -m bpfc.syntax.gen_tables``.

Importing Lark costs more start-up time than everything else in bpfc's front end, so the
parser bpfc runs is a small LALR driver (:mod:`bpfc.syntax.lalr`) over tables that Lark
computes here, once, from ``grammar/pcap_filter.lark`` (with ``strict=True``: any conflict
is an error).  This is what Lark's own "standalone" tool does, minus the generated runtime.
The tables record the grammar's SHA-256; when the grammar changes and the tables do not,
a test fails (``BPFC_PARSER=lark`` runs Lark itself meanwhile; bpfc does not hash the
grammar at run time, which cost ~10 ms of every start-up).  Lark
numbers the states differently from run to run, so regenerating rewrites the whole file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HEADER = '''"""LALR tables for grammar/pcap_filter.lark, by bpfc.syntax.gen_tables: do not edit.

``ACTIONS[state][terminal or rule name]``: ``n >= 0`` shift (or go) to state ``n``;
``n < 0`` reduce by ``RULES[-1 - n]``.  ``RULES[i]``: (name of the rule reduced, number of
symbols, tree name, collapse a single child, children kept as (index, splice)).
"""

# fmt: off

import json
from typing import Any

'''


def grammar_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_tables(grammar: str) -> dict[str, Any]:
    """The parse table and tree-shaping rules Lark derives from ``grammar``."""
    from lark import Lark
    from lark.parsers.lalr_analysis import Reduce

    from bpfc.syntax.larkbridge import PcapLexer

    lark = Lark(grammar, parser="lalr", lexer=PcapLexer, strict=True, maybe_placeholders=False)
    table = lark.parser.parser.parser.parse_table
    rules: dict[Any, int] = {}
    rule_rows: list[tuple[str, int, str, bool, tuple[tuple[int, bool], ...]]] = []
    actions: list[dict[str, int]] = []
    for state in range(len(table.states)):
        row: dict[str, int] = {}
        for symbol, (action, arg) in sorted(table.states[state].items()):
            if action is Reduce:
                if arg not in rules:
                    rules[arg] = len(rule_rows)
                    rule_rows.append(_rule_row(arg))
                row[symbol] = -1 - rules[arg]
            else:
                row[symbol] = arg
        actions.append(row)
    return {
        "start": table.start_states["start"],
        "end": table.end_states["start"],
        "actions": actions,
        "rules": rule_rows,
    }


def _rule_row(rule: Any) -> tuple[str, int, str, bool, tuple[tuple[int, bool], ...]]:
    """Lark's tree building for one rule: ``?rule`` collapses a single child unless the
    alternative has an alias; ``_rule`` children are spliced into their parent; terminals
    named ``_X`` are dropped (the grammar declares none, so all tokens stay)."""
    keep = []
    for index, sym in enumerate(rule.expansion):
        if rule.options.keep_all_tokens or not (sym.is_term and sym.filter_out):
            keep.append((index, (not sym.is_term) and sym.name.startswith("_")))
    collapse = bool(rule.options.expand1 and not rule.alias)
    name = str(rule.alias or rule.origin.name)
    return (str(rule.origin.name), len(rule.expansion), name, collapse, tuple(keep))


def render(tables: dict[str, Any], sha: str) -> str:
    """The tables as one JSON string constant: compiling a module of ~350 dict displays
    takes tens of milliseconds when bytecode is not cached, decoding JSON well under one."""
    data = json.dumps(
        {"actions": tables["actions"], "rules": tables["rules"]}, separators=(",", ":")
    )
    chunks = [data[i : i + 90] for i in range(0, len(data), 90)]
    body = "\n".join(f"    {chunk!r}" for chunk in chunks)
    return (
        HEADER
        + f'GRAMMAR_SHA256 = "{sha}"\nSTART = {tables["start"]}\nEND = {tables["end"]}\n'
        + f"_DATA = json.loads(\n{body}\n)\n"
        + 'ACTIONS: list[dict[str, int]] = _DATA["actions"]\n'
        + "RULES: list[tuple[str, int, str, bool, list[list[Any]]]] = [\n"
        + '    (o, n, t, c, [tuple(k) for k in keep]) for o, n, t, c, keep in _DATA["rules"]\n'
        + "]\n"
    )


def main(argv: list[str] | None = None) -> int:
    from bpfc.syntax.parse import grammar_text

    text = grammar_text()
    out = Path(__file__).with_name("_tables.py")
    out.write_text(render(build_tables(text), grammar_sha256(text)), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
