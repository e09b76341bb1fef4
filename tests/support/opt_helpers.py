"""Shared helpers for the optimizer tests (no tests here): upstream cases and packet sets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from bpfc.isa.insn import Insn
from bpfc.isa.listing_reader import parse_listing
from bpfc.opt.verify import sample
from bpfc.packetgen.explore import explore
from bpfc.packetgen.packet import Packet
from bpfc.vm.interp import interpret as run


@lru_cache(maxsize=1)
def upstream_accepts(root: Path) -> tuple[dict, ...]:
    """Upstream accept cases whose unoptimized listing parses (the 'special' one excluded)."""
    out = []
    with open(root / "libpcap-filtertests.jsonl") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["kind"] != "accept" or rec.get("special"):
                continue
            rec["unopt"] = parse_listing("\n".join(rec["expected_unopt"]))
            out.append(rec)
    return tuple(out)


def packets_for(prog: list[Insn], count: int = 120, seed: int = 0) -> list[bytes]:
    """The verify sample plus packets steered into the program's own comparisons."""
    base = sample(prog, count=count, seed=seed)
    seeds = [Packet(p, len(p)) for p in base[-40:]]
    more = explore([prog], seeds, rounds=2, limit=80, seed=seed)
    return base + [p.data for p in more]


def first_difference(a: list[Insn], b: list[Insn], packets: list[bytes]) -> str | None:
    for pkt in packets:
        x, y = run(a, pkt), run(b, pkt)
        if x != y:
            return f"{x} != {y} on {pkt.hex()}"
    return None


def corpus_records() -> list[dict]:
    """Every case of the project's golden corpus (corpus/expected/*.jsonl), file by file."""
    out = []
    for path in sorted(
        (Path(__file__).resolve().parents[2] / "corpus" / "expected").glob("*.jsonl")
    ):
        with open(path, encoding="utf-8") as handle:
            out.extend(json.loads(line) for line in handle)
    return out


def project_expressions() -> list[tuple[str, str]]:
    """``(link type, expression)`` rows of tests/opt/fixtures/expressions.tsv."""
    rows = []
    path = Path(__file__).resolve().parents[1] / "opt" / "fixtures" / "expressions.tsv"
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            dlt, expr = line.split("\t")
            rows.append((dlt, expr))
    return rows


def lay_out(blocks: list, exits: Sequence[Insn], prefix: Sequence[Insn] = ()) -> list[Insn]:
    """A listing of ``blocks`` (``(stmts, code, k, t, f)``; ``t``/``f`` index the blocks,
    then ``exits``) after the statements ``prefix``, each block's test jumping to the
    first instruction of its targets: the shape the optimizer's hypothesis tests draw."""
    out = list(prefix)
    start = []
    pos = len(out)
    for stmts, *_ in blocks:
        start.append(pos)
        pos += len(stmts) + 1
    start += [pos + e for e in range(len(exits))]
    for i, (stmts, code, k, t, f) in enumerate(blocks):
        out += stmts
        here = start[i] + len(stmts)
        out.append(Insn(code, start[t] - here - 1, start[f] - here - 1, k))
    return out + list(exits)
