"""One fixture file per pass: each case is a listing, ``=>``, and the listing after that pass.

The pass runs alone (to its fixed point) and the blocks are laid out again; the
result must be exactly the expected listing and return the same value as the input
on the verify sample.  Regenerate a fixture only after reading the new output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.opt_helpers import first_difference, packets_for

from bpfc.isa.listing_reader import parse_listing
from bpfc.opt import optimize
from bpfc.opt.manager import PASSES

FIXTURES = Path(__file__).parent / "fixtures"
BY_NAME = dict(PASSES)


def _cases():
    for name in BY_NAME:
        path = FIXTURES / f"{name}.txt"
        for case in path.read_text().split("----\n"):
            title, _, rest = case.strip().partition("\n")
            before, _, after = rest.partition("\n=>\n")
            yield pytest.param(name, before, after, id=f"{name}: {title.removeprefix('# title: ')}")


def test_every_pass_has_fixtures():
    assert {p.stem for p in FIXTURES.glob("*.txt")} >= set(BY_NAME)


@pytest.mark.parametrize("name, before, after", list(_cases()))
def test_pass_fixture(name, before, after):
    prog = parse_listing(before)
    got = optimize(prog, passes=[(name, BY_NAME[name])], reject_empty=False)
    assert got == parse_listing(after)
    assert first_difference(prog, got, packets_for(prog)) is None
