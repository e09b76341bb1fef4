"""The package list in pyproject.toml covers every package in the tree, grammar included.

The grammar lives in ``grammar/`` but ships as ``bpfc.grammar``, so setuptools' automatic
discovery cannot be used; a package added to the tree and forgotten in the list would be
missing from wheels (``pip install .``) while still working in an editable checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _listed() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^packages = \[(.*?)\]", text, re.S | re.M)
    assert block, "pyproject.toml has no explicit packages list"
    return set(re.findall(r'"([\w.]+)"', block.group(1)))


def _in_tree() -> set[str]:
    found = {"bpfc.grammar"} if (ROOT / "grammar" / "__init__.py").is_file() else set()
    for init in (ROOT / "bpfc").rglob("__init__.py"):
        if "__pycache__" in init.parts:
            continue
        found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def test_every_package_is_listed_for_wheels() -> None:
    assert _in_tree() - _listed() == set()


def test_no_listed_package_is_missing_from_the_tree() -> None:
    assert _listed() - _in_tree() == set()


def test_grammar_ships_as_package_data() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '"bpfc.grammar" = ["*.lark"]' in text
    assert (ROOT / "grammar" / "pcap_filter.lark").is_file()
