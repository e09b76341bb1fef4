"""The ``bpf_golden`` pytest fixture: golden files for the filters a project's tests use.

::

    def test_capture_filter(bpf_golden):
        bpf_golden.check("tcp port 80", linktype="EN10MB")

The first run records the filter (listings, a targeted packet set, verdicts: the layout of
``bpfc golden record``) under ``bpf_golden/<test module>/`` beside the test file and fails,
so the new files are looked at and checked in.  Later runs compile the filter again and
fail on any change, with the listing diff and each differing verdict.  ``pytest
--bpf-golden-update`` writes the files of the checks that are new or changed (and passes).

Registered through the ``pytest11`` entry point, so it loads in every pytest run where bpfc
is installed: this module imports only pytest at import time, and nothing runs unless a
test asks for the fixture.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

_WRITTEN = pytest.StashKey[list]()
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+-]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bpf-golden", "bpfc golden files (the bpf_golden fixture)")
    group.addoption(
        "--bpf-golden-update",
        action="store_true",
        default=False,
        help="rewrite the golden files of bpf_golden checks that changed",
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    written = config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.section("bpf_golden")
        for line in written:
            terminalreporter.write_line(line)


class BpfGolden:
    """The fixture's value: :meth:`check` compares a filter with its golden files."""

    def __init__(self, root: Path, test_name: str, update: bool, config: pytest.Config) -> None:
        self.root = root
        self.test_name = _UNSAFE.sub("_", test_name).strip("_") or "test"
        self.update = update
        self._config = config
        self._calls = 0

    def _id(self, name: str | None) -> str:
        self._calls += 1
        if name is not None:
            return f"{self.test_name}.{_UNSAFE.sub('_', name)}"
        return self.test_name if self._calls == 1 else f"{self.test_name}.{self._calls}"

    def check(
        self,
        expr: str,
        linktype: str = "EN10MB",
        *,
        snaplen: int = 262144,
        netmask: str | None = None,
        linux: bool = False,
        name: str | None = None,
        listings: bool = True,
    ) -> None:
        """Compare ``expr`` (compiled with these settings) with its golden files.

        ``name`` tells apart several checks in one test (default: their order);
        ``listings=False`` fails only on a verdict change, not on a code change."""
        from bpfc.golden.record import record_filter
        from bpfc.golden.replay import check, describe
        from bpfc.golden.store import GoldenFileError, case_path, read_case, write_case
        from bpfc.golden.suite import Filter
        from bpfc.linktypes import lookup

        case_id = self._id(name)
        f = Filter(case_id, expr, lookup(linktype).name, snaplen, netmask, linux)
        written = self._config.stash.setdefault(_WRITTEN, [])
        exists = case_path(self.root, case_id, ".json").exists()
        if exists and not self.update:
            try:
                case = read_case(self.root, case_id)
            except GoldenFileError as err:
                pytest.fail(f"bpf_golden: {err} (rewrite: pytest --bpf-golden-update)", False)
            result = check(f, case, strict=listings)
            if result.ok and not (listings and result.notes):
                return
            text = describe(result)
            pytest.fail(
                f"bpf_golden: '{expr}' no longer matches {case_path(self.root, case_id, '.*')}\n"
                f"{text}\n(if the change is intended: pytest --bpf-golden-update)",
                False,
            )
        recorded = record_filter(f)
        if recorded.error is not None or recorded.case is None:
            pytest.fail(f"bpf_golden: {recorded.error}", False)
        paths = write_case(self.root, recorded.case)
        written += [f"{'rewrote' if exists else 'created'} {p}" for p in paths]
        if not exists and not self.update:
            pytest.fail(
                f"bpf_golden: created golden files {case_path(self.root, case_id, '.*')} for "
                f"'{expr}' ({len(recorded.case.packets)} packets); check them in and run again",
                False,
            )


@pytest.fixture
def bpf_golden(request: pytest.FixtureRequest) -> BpfGolden:
    """Golden files for filters, under ``bpf_golden/<test module>/`` beside the test."""
    path = Path(str(request.node.path))
    root = path.parent / "bpf_golden" / path.stem
    update = bool(request.config.getoption("bpf_golden_update"))
    return BpfGolden(root, request.node.name, update, request.config)
