"""Upstream accept cases: bpfc's unoptimized listing equals libpcap master's.

``tests/upstream/data/codegen_upstream_claimed.txt`` lists the case ids bpfc claims; every one
must match exactly (a regression fails here), and the claim must not shrink.  Extend
the list when new primitives or link types land (``bench/upstream_listing_match.py``
shows what matches).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("bpfc.syntax.parse")

HERE = Path(__file__).resolve().parent
CLAIMED = [
    line.strip()
    for line in (HERE / "data" / "codegen_upstream_claimed.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def _bench():  # noqa: ANN202 - the bench module
    spec = importlib.util.spec_from_file_location(
        "upstream_listing_match", HERE.parents[1] / "bench" / "upstream_listing_match.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(upstream: Path):  # noqa: ANN201
    bench = _bench()
    cases = {}
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] == "accept":
                cases[case["id"]] = case
    return bench, cases, bench.fixture_resolver(upstream)


def test_claim_is_substantial() -> None:
    assert len(CLAIMED) >= 2000
    assert len(set(CLAIMED)) == len(CLAIMED)


def test_claimed_listings_match(corpus) -> None:  # noqa: ANN001
    bench, cases, resolver = corpus
    failures = []
    for case_id in CLAIMED:
        case = cases[case_id]
        try:
            got = bench.unopt_listing(case, resolver)
        except Exception as err:  # noqa: BLE001 - reported below
            failures.append(f"{case_id} {case['dlt']} {case['expr']!r}: {err}")
            continue
        if got != case["expected_unopt"]:
            diff = "\n".join(
                f"  {a:<48} | {b}" for a, b in zip(case["expected_unopt"], got, strict=False)
            )
            failures.append(f"{case_id} {case['dlt']} {case['expr']!r}\n{diff}")
    assert not failures, f"{len(failures)} claimed cases differ:\n" + "\n".join(failures[:5])
