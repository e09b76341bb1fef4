"""Stored tcpdump listings: each is checked against bpfc's program by behaviour."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import bpfc
from bpfc.golden.store import GoldenFileError
from bpfc.golden.stored_listings import is_listings_dir, read_filter, replay_listings
from bpfc.golden.suite import SuiteError

TCPDUMP = shutil.which("tcpdump")


def tcpdump(flag: str, expr: str) -> str:
    proc = subprocess.run(
        [TCPDUMP or "tcpdump", flag, expr], capture_output=True, text=True, check=True, timeout=60
    )
    return proc.stdout


def test_a_filter_file_joins_lines_and_reads_settings(tmp_path: Path) -> None:
    path = tmp_path / "dns.filter"
    path.write_text("# the resolver\n@linktype LINUX_SLL\n@snaplen 96\nudp and\n  port 53\n")
    f = read_filter(path)
    assert (f.id, f.expr, f.linktype, f.snaplen, f.line) == (
        "dns.filter",
        "udp and port 53",
        "LINUX_SLL",
        96,
        4,
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("# nothing\n", "no filter expression"),
        ("@linktype EN10MB RAW\ntcp\n", "one link type"),
        ("@speed 9\ntcp\n", "unknown setting"),
    ],
)
def test_bad_filter_files_are_named(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "x.filter"
    path.write_text(text)
    with pytest.raises(SuiteError, match=words) as info:
        read_filter(path)
    assert str(info.value).startswith(str(path))


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("flag", ["-d", "-dd", "-ddd"])
def test_real_tcpdump_listings_verify(tmp_path: Path, flag: str) -> None:
    (tmp_path / "http.filter").write_text("tcp port 80\n")
    (tmp_path / f"http.{flag[1:]}").write_text(tcpdump(flag, "tcp port 80"))
    assert is_listings_dir(tmp_path)
    (result,) = replay_listings(tmp_path)
    assert result.case.id == f"http.{flag[1:]}" and result.packets > 5
    assert result.status == "pass" and result.verdicts_ok


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
def test_a_listing_of_another_filter_fails_with_the_differing_packets(tmp_path: Path) -> None:
    (tmp_path / "dns.filter").write_text("udp port 53\n")
    (tmp_path / "dns.d").write_text(tcpdump("-d", "udp port 5353"))
    (result,) = replay_listings(tmp_path)
    assert result.status == "fail" and result.mismatches and result.listing_diffs
    assert result.failure_pcap == tmp_path / "failures" / "dns.d.pcap"


def test_the_same_code_as_bpfc_has_no_listing_diff(tmp_path: Path) -> None:
    (tmp_path / "a.filter").write_text("ip and udp\n")
    (tmp_path / "a.d").write_text(bpfc.compile("ip and udp", optimize=False).dump("d"))
    (result,) = replay_listings(tmp_path, strict=True)
    assert result.status == "pass" and result.listing_diffs == []


def test_pairs_missing_a_half_are_reported(tmp_path: Path) -> None:
    (tmp_path / "lonely.filter").write_text("tcp\n")
    (result,) = replay_listings(tmp_path)
    assert result.status == "fail" and "no listing beside it" in result.errors[0]
    (tmp_path / "orphan.ddd").write_text("1\n6 0 0 0\n")
    with pytest.raises(GoldenFileError, match=r"orphan\.ddd: no orphan\.filter beside it"):
        replay_listings(tmp_path)


def test_a_listing_that_is_not_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "x.filter").write_text("tcp\n")
    (tmp_path / "x.ddd").write_text("tcpdump: LINUX_SLL is not one of the DLTs\n")
    with pytest.raises(GoldenFileError, match=r"x\.ddd: not a tcpdump ddd listing"):
        replay_listings(tmp_path)


def test_a_different_snapshot_length_is_a_note_not_a_failure(tmp_path: Path) -> None:
    (tmp_path / "u.filter").write_text("udp\n")
    (tmp_path / "u.ddd").write_text(bpfc.compile("udp", snaplen=65535).dump("ddd"))
    (result,) = replay_listings(tmp_path)
    assert result.status == "pass" and result.verdicts_ok
    assert result.notes == [
        "the stored program accepts with 65535 bytes, bpfc's with 262144 "
        "(@snaplen 65535 in u.filter makes them equal)"
    ]
    (tmp_path / "u.filter").write_text("@snaplen 65535\nudp\n")
    (again,) = replay_listings(tmp_path)
    assert again.notes == [] and again.listing_diffs == []
