"""Replaying a golden directory: behaviour changes fail, code changes alone are reported."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfc.capture import read_packets
from bpfc.golden.record import record_filter, record_suite
from bpfc.golden.replay import check, describe, replay, update
from bpfc.golden.store import GoldenFileError, case_path
from bpfc.golden.suite import Filter
from bpfc.packetgen.compose import compose, pool

SUITE = "web: tcp port 80\nssh: tcp port 22\n[s]\nd: udp port 53\n"
QUIET = {"log": lambda _: None}


@pytest.fixture
def golden(tmp_path: Path) -> tuple[Path, Path]:
    suite = tmp_path / "f.suite"
    suite.write_text(SUITE)
    record_suite(suite, tmp_path / "g", **QUIET)
    return suite, tmp_path / "g"


def by_id(results: list) -> dict:
    return {r.case.id: r for r in results}


def test_an_unchanged_suite_passes(golden: tuple[Path, Path]) -> None:
    suite, root = golden
    index, path, results = replay(root)
    assert path == suite and index["suite"] == "../f.suite"
    assert [r.status for r in results] == ["pass"] * 3 and not any(r.changed for r in results)


def test_a_changed_verdict_fails_with_the_packets_in_hex_and_a_pcap(
    golden: tuple[Path, Path],
) -> None:
    suite, root = golden
    suite.write_text(SUITE.replace("port 80", "port 8080"))
    results = by_id(replay(root)[2])
    web = results["web"]
    assert web.status == "fail" and web.mismatches and web.listing_diffs
    assert results["ssh"].status == "pass"
    text = describe(web)
    assert text.startswith("FAIL web  [EN10MB]  tcp port 8080") and "behaviour changed" in text
    assert "expression changed: 'tcp port 80' -> 'tcp port 8080'" in text
    assert "-" in text and "#0x50" in text and "#0x1f90" in text  # the listing diff
    first = web.mismatches[0]
    assert f"{first.data[:16].hex(' ')}" in text
    assert web.failure_pcap is not None and web.failure_pcap.exists()
    written = {(rec[5], rec[2]) for rec in read_packets(web.failure_pcap)}
    assert written == {(m.data, m.wirelen) for m in web.mismatches}


def test_the_same_behaviour_with_other_code_passes_unless_strict(golden: tuple[Path, Path]) -> None:
    suite, root = golden
    suite.write_text(SUITE.replace("tcp port 22", "tcp dst port 22 or tcp src port 22"))
    ssh = by_id(replay(root)[2])["ssh"]
    assert ssh.status == "pass" and ssh.changed and ssh.listing_diffs and not ssh.mismatches
    assert describe(ssh).startswith("CHANGED ssh") and "behaviour kept" in describe(ssh)
    strict = by_id(replay(root, strict=True)[2])["ssh"]
    assert strict.status == "fail" and "with --strict-listings" in describe(strict)


def test_new_and_removed_filters_fail(golden: tuple[Path, Path]) -> None:
    suite, root = golden
    suite.write_text("web: tcp port 80\nnew: icmp\nbad: tcp and hst\n")
    results = by_id(replay(root)[2])
    assert results["new"].status == "fail" and "no golden files" in results["new"].errors[0]
    assert results["bad"].errors[0].startswith(f"{suite}:3:14: bpfc refuses it:")
    for gone in ("ssh", "s/d"):
        assert results[gone].status == "fail" and "no such filter" in results[gone].errors[0]


def test_update_rewrites_what_changed_and_keeps_what_it_cannot_regenerate(
    golden: tuple[Path, Path],
) -> None:
    suite, root = golden
    suite.write_text("web: tcp port 8080\nssh: tcp port 22\nnew: icmp\n")
    said: list[str] = []
    ok = update(root, suite, replay(root)[2], said.append)
    assert ok is False  # s/d has no filter any more: kept, not deleted
    assert case_path(root, "s/d", ".json").exists()
    rewrote = [line for line in said if line.startswith("rewrote ")]
    assert {Path(line.split()[1]).name for line in rewrote} == {
        f"{i}{s}" for i in ("web", "new") for s in (".json", ".d", ".O.d", ".pcap")
    }
    assert any("kept" in line and "s/d" in line for line in said)
    results = by_id(replay(root)[2])
    assert all(results[i].status == "pass" for i in ("web", "ssh", "new"))


def test_a_filter_that_no_longer_compiles_is_not_updated(golden: tuple[Path, Path]) -> None:
    suite, root = golden
    before = case_path(root, "web", ".d").read_bytes()
    suite.write_text(SUITE.replace("tcp port 80", "tcp port"))
    results = replay(root)[2]
    assert by_id(results)["web"].errors[0].startswith("bpfc refuses it now")
    said: list[str] = []
    assert update(root, suite, results, said.append) is False
    assert case_path(root, "web", ".d").read_bytes() == before
    assert any(line.startswith("not updated: ") for line in said)


def test_a_missing_suite_or_a_broken_case_is_an_error(golden: tuple[Path, Path]) -> None:
    suite, root = golden
    case_path(root, "ssh", ".pcap").write_bytes(b"\xd4\xc3\xb2\xa1junk")
    with pytest.raises(GoldenFileError, match=r"ssh\.pcap: corrupted or edited by hand"):
        replay(root)
    suite.unlink()
    with pytest.raises(GoldenFileError, match=r"f\.suite: no such suite"):
        replay(root)


def test_pattern_selects_by_id_or_expression(golden: tuple[Path, Path]) -> None:
    _, root = golden
    assert [r.case.id for r in replay(root, pattern="s/*")[2]] == ["s/d"]
    assert [r.case.id for r in replay(root, pattern="port 22")[2]] == ["ssh"]


@settings(max_examples=12)
@given(
    st.sampled_from(["EN10MB", "LINUX_SLL", "RAW"]),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_a_fresh_recording_always_replays_green(linktype: str, seed: int, linux: bool) -> None:
    """Invariant: what record_filter stores, check() finds unchanged (for any expression)."""
    expr = compose(pool(linktype), random.Random(seed), depth=3)
    f = Filter("x", expr, linktype, linux=linux)
    recorded = record_filter(f)
    if recorded.case is None:  # bpfc refuses it ("rejects all packets", protochain...)
        assert recorded.error is not None
        return
    result = check(f, recorded.case, strict=True)
    assert result.status == "pass" and not result.changed, describe(result)
    # and a different filter with different verdicts on these packets is caught
    other = Filter("x", f"not ({expr})", linktype, linux=linux)
    if len(set(recorded.case.returns_opt)) > 1:
        assert check(other, recorded.case).status == "fail"
