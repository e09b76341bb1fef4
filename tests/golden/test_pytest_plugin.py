"""The bpf_golden fixture, run as a user runs it (pytester), and the cost of loading it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TEST = """
def test_web(bpf_golden):
    bpf_golden.check("EXPR", linktype="EN10MB")
"""


def write_test(pytester: pytest.Pytester, expr: str) -> None:
    pytester.makepyfile(test_filters=TEST.replace("EXPR", expr))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_create_pass_change_update(pytester: pytest.Pytester) -> None:
    write_test(pytester, "tcp port 80")
    first = run(pytester)
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(["*created golden files*test_web.*check them in and run again*"])
    root = pytester.path / "bpf_golden" / "test_filters" / "cases"
    assert sorted(p.name for p in root.iterdir()) == [
        "test_web.O.d", "test_web.d", "test_web.json", "test_web.pcap",
    ]  # fmt: skip
    run(pytester).assert_outcomes(passed=1)

    write_test(pytester, "tcp port 81")
    changed = run(pytester)
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*'tcp port 81' no longer matches*",
            "FAIL test_web  [[]EN10MB]  tcp port 81",
            "*behaviour changed*",
            "*verdict mismatch(es):*",
            "*expected 262144, got 0*",
            "*--- golden opt*",
            "*#0x50*",
            "*pytest --bpf-golden-update*",
        ]
    )
    updated = run(pytester, "--bpf-golden-update")
    updated.assert_outcomes(passed=1)
    updated.stdout.fnmatch_lines(["*bpf_golden*", "rewrote *test_web.d"])
    run(pytester).assert_outcomes(passed=1)
    assert json.loads((root / "test_web.json").read_text())["expr"] == "tcp port 81"


def test_code_change_alone_fails_unless_listings_false(pytester: pytest.Pytester) -> None:
    write_test(pytester, "tcp port 22")
    run(pytester)
    write_test(pytester, "tcp dst port 22 or tcp src port 22")
    run(pytester).stdout.fnmatch_lines(["*code changed, behaviour kept*"])
    pytester.makepyfile(
        test_filters=TEST.replace("EXPR", "tcp dst port 22 or tcp src port 22").replace(
            'linktype="EN10MB")', 'linktype="EN10MB", listings=False)'
        )
    )
    run(pytester).assert_outcomes(passed=1)


def test_several_checks_in_one_test_and_a_broken_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_two="""
def test_two(bpf_golden):
    bpf_golden.check("udp", linktype="RAW")
    bpf_golden.check("icmp", name="ping")
"""
    )
    run(pytester, "--bpf-golden-update").assert_outcomes(passed=1)
    root = pytester.path / "bpf_golden" / "test_two" / "cases"
    assert {p.stem for p in root.glob("*.json")} == {"test_two", "test_two.ping"}
    (root / "test_two.ping.json").write_text('{"id": "test_two.ping", "expr"')
    broken = run(pytester)
    broken.assert_outcomes(failed=1)
    broken.stdout.fnmatch_lines(["*test_two.ping.json: corrupted golden file*"])


def test_the_fixture_is_inert_for_other_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    run(pytester).assert_outcomes(passed=1)
    assert not (pytester.path / "bpf_golden").exists()


def test_loading_the_plugin_is_cheap() -> None:
    code = (
        "import sys, bpfc.golden.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('bpfc', 'lark'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['bpfc', 'bpfc.golden', 'bpfc.golden.pytest_plugin']"


def test_the_plugin_is_registered_by_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("bpfc_golden")
    assert plugin is not None and Path(plugin.__file__).name == "pytest_plugin.py"
