"""The grammar-level front-end differential against libpcap master, in CI.

A fixed seed draws BPFC_FRONT_END_CASES (default 4,000) expressions over every link type
bpfc and master both know (tests/support/grammar_gen.py) and compares accept/reject, the whole
error message and, where both compile, the verdicts (tests/support/front_end.py).  Any
disagreement not covered by tests/support/front_end_allowed.txt fails the test, listed in full;
``python tools/front_end_differential.py N --seed S`` runs the same comparison at scale
and prints the table.  Skips, with the reason, where libpcap master is not built.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.front_end import (
    ALLOWED,
    DISAGREEMENTS,
    allowance,
    load_allowed,
    master_linktypes,
    run,
    upstream_names,
)
from support.grammar_gen import (
    AQUALS,
    COMMON_LINKTYPES,
    DQUALS,
    PNAMES,
    Generator,
    bpfc_linktype_names,
)
from support.oracles import master_library

import bpfc
from bpfc import libpcap
from bpfc.errors import CompileError
from bpfc.syntax.lexer import KEYWORDS

SEED = 17
COUNT = int(os.environ.get("BPFC_FRONT_END_CASES", "4000"))
_WORD = re.compile(r"[A-Za-z0-9][-_.A-Za-z0-9]*")


@pytest.fixture(scope="module")
def master_path() -> str:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    return str(path)


def test_generator_is_reproducible() -> None:
    linktypes = bpfc_linktype_names()
    first = list(Generator(5, linktypes).cases(300))
    assert first == list(Generator(5, linktypes).cases(300))
    assert first != list(Generator(6, linktypes).cases(300))


def test_generator_reaches_every_keyword_and_production() -> None:
    generator = Generator(SEED, bpfc_linktype_names())
    cases = list(generator.cases(COUNT))
    words: set[str] = set()
    for case in cases:
        words.update(_WORD.findall(case.expr))
    assert sorted(k for k in KEYWORDS if k not in words) == []
    productions = {case.production for case in cases}
    assert {name for name, _, _ in generator.primitives} <= productions
    joined = "\n".join(case.expr for case in cases)
    for qualifier in (*PNAMES, *DQUALS, *AQUALS):
        assert f"{qualifier} " in joined, qualifier
    for operator in ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "!=", ">=", "<="):
        assert f" {operator} " in joined, operator


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_bpfc_refuses_generated_expressions_only_with_compile_errors(seed: int) -> None:
    # any seed: bpfc compiles or raises CompileError, never anything else (no master needed)
    for case in Generator(seed, COMMON_LINKTYPES).cases(20):
        try:
            bpfc.compile(case.expr, linktype=case.linktype)
        except CompileError as err:
            assert str(err) and "\n" not in str(err), case


def test_generator_draws_every_shared_link_type(master_path: str) -> None:
    linktypes = master_linktypes(libpcap.library(master_path))
    assert len(linktypes) > 150
    drawn = {case.linktype for case in Generator(SEED, linktypes).cases(COUNT)}
    assert len(drawn) > 0.95 * len(linktypes)


def test_allow_list_lines_have_reasons() -> None:
    allowed = load_allowed()
    assert allowed, f"{ALLOWED.name} is empty or missing"
    assert all(a.reason and a.category in DISAGREEMENTS for a in allowed)
    assert len(allowed) <= 25, "the allow-list is meant to stay small: fix, do not list"


def test_front_end_agrees_with_master(master_path: str) -> None:
    allowed = load_allowed()
    counts: Counter[str] = Counter()
    failures = []
    names, why = upstream_names()
    if names is None:
        print(f"\nnames from the system's hosts file: {why}")
    for outcome in run(master_path, COUNT, SEED, system=False, names=names):
        counts[outcome.category] += 1
        if outcome.category in DISAGREEMENTS and allowance(outcome, allowed) is None:
            failures.append(outcome)
    both_reject = counts["message"] + counts["agree-reject"]
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"\nfront-end differential, {COUNT} cases, seed {SEED}: {summary}")
    assert counts["agree-accept"] > COUNT // 10, "too few programs compared: the generator drifted"
    assert both_reject > COUNT // 2
    if failures:
        shown = "\n".join(str(o) for o in failures[:40])
        pytest.fail(
            f"{len(failures)} disagreements with libpcap master not in {ALLOWED.name}:\n{shown}",
            pytrace=False,
        )
