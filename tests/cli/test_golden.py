"""``bpfc golden record`` and ``bpfc verify DIR`` end to end, as a user runs them: the
installed ``bpfc`` command in an empty directory."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpfc import libpcap

BPFC = Path(sys.executable).parent / "bpfc"
COMMAND = [str(BPFC)] if BPFC.exists() else [sys.executable, "-m", "bpfc"]

SUITE = """\
# capture filters of the edge sensors
web: tcp port 80 or tcp port 443
dns: udp port 53 @linktype=LINUX_SLL
[lx]
@linux on
tagged: vlan 100 and icmp
"""


def bpfc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_record_verify_edit_update(tmp_path: Path) -> None:
    (tmp_path / "filters.suite").write_text(SUITE)
    rec = bpfc(tmp_path, "golden", "record", "filters.suite", "-o", "golden")
    assert rec.returncode == 0, rec.stderr
    assert "recorded 3 of 3 filters in golden (12 files written)" in rec.stdout
    assert "web  [EN10MB]  tcp port 80 or tcp port 443:" in rec.stdout
    before = tree(tmp_path / "golden")
    again = bpfc(tmp_path, "golden", "record", "filters.suite", "-o", "golden", "-q")
    assert again.returncode == 0 and "(0 files written)" in again.stdout
    assert tree(tmp_path / "golden") == before  # re-recording changes no byte

    ok = bpfc(tmp_path, "verify", "golden")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "3 passed, 0 failed" in ok.stdout and "topic" in ok.stdout and "link type" in ok.stdout

    (tmp_path / "filters.suite").write_text(SUITE.replace("port 443", "port 8443"))
    red = bpfc(tmp_path, "verify", "golden")
    assert red.returncode == 1
    out = red.stdout
    assert "FAIL web  [EN10MB]  tcp port 80 or tcp port 8443" in out
    assert "behaviour changed" in out and "verdict mismatch(es):" in out
    diff = out.split("--- golden opt")[1].splitlines()
    assert any(line.strip().startswith("-(") and "#0x1bb" in line for line in diff)  # 443
    assert any(line.strip().startswith("+(") and "#0x20fb" in line for line in diff)  # 8443
    assert (tmp_path / "golden" / "failures" / "web.pcap").exists()
    assert "1 failed" in out

    upd = bpfc(tmp_path, "verify", "golden", "--update")
    assert upd.returncode == 0, upd.stdout + upd.stderr
    assert "rewrote golden/cases/web.d" in upd.stdout
    assert "1 filter(s) re-recorded" in upd.stdout
    green = bpfc(tmp_path, "verify", "golden", "-q")
    assert green.returncode == 0 and "3 passed, 0 failed" in green.stdout


def test_code_change_alone_is_reported_and_strict_fails(tmp_path: Path) -> None:
    (tmp_path / "f.suite").write_text("ssh: tcp port 22\n")
    assert bpfc(tmp_path, "golden", "record", "f.suite", "-o", "g").returncode == 0
    (tmp_path / "f.suite").write_text("ssh: tcp dst port 22 or tcp src port 22\n")
    soft = bpfc(tmp_path, "verify", "g")
    assert soft.returncode == 0 and "CHANGED ssh" in soft.stdout
    assert "1 changed without a verdict change" in soft.stdout
    strict = bpfc(tmp_path, "verify", "g", "--strict-listings")
    assert strict.returncode == 1 and "FAIL ssh" in strict.stdout
    verdicts_only = bpfc(tmp_path, "verify", "g", "--no-listings")
    assert verdicts_only.returncode == 0 and "listing differs" not in verdicts_only.stdout
    assert "expression changed" in verdicts_only.stdout  # the edit is still said


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_a_stored_tcpdump_listing_verifies(tmp_path: Path) -> None:
    listing = subprocess.run(
        ["tcpdump", "-d", "tcp port 80"], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "listings").mkdir()
    (tmp_path / "listings" / "http.filter").write_text("tcp port 80\n")
    (tmp_path / "listings" / "http.d").write_text(listing)
    ok = bpfc(tmp_path, "verify", "listings")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed, 0 failed" in ok.stdout
    (tmp_path / "listings" / "http.filter").write_text("tcp port 81\n")
    bad = bpfc(tmp_path, "verify", "listings")
    assert bad.returncode == 1 and "FAIL http.d" in bad.stdout


@pytest.mark.parametrize(
    ("args", "setup", "message"),
    [
        (["golden", "record", "nope.suite", "-o", "g"], None, "nope.suite: no such suite file"),
        (["golden", "record", "f.suite"], "tcp\n", "the following arguments are required: -o"),
        (["golden"], None, "say what to do"),
        (
            ["golden", "record", "f.suite", "-o", "g", "--libpcap", "x.so"],
            "tcp\n",
            "--libpcap needs",
        ),
        (
            ["golden", "record", "f.suite", "-o", "g"],
            "tcp @snaplen=big\n",
            "f.suite:1:5: bad snaplen",
        ),
    ],
)
def test_usage_errors_are_one_line(
    tmp_path: Path, args: list[str], setup: str | None, message: str
) -> None:
    if setup is not None:
        (tmp_path / "f.suite").write_text(setup)
    got = bpfc(tmp_path, *args)
    assert got.returncode == 1 and got.stderr.count("\n") == 1, got.stderr
    assert message in got.stderr and "Traceback" not in got.stderr


@pytest.mark.skipif(not libpcap.available(), reason="the system libpcap is not installed")
def test_the_oracle_s_disagreements_fail_the_recording(tmp_path: Path) -> None:
    (tmp_path / "f.suite").write_text("ok: tcp port 80\nnew: vxlan 4\nnone: tcp and udp\n")
    version = libpcap.version()
    if "1.10." not in version:
        pytest.skip(f"{version} knows vxlan")
    got = bpfc(tmp_path, "golden", "record", "f.suite", "-o", "g", "--oracle", "libpcap")
    assert got.returncode == 1, got.stdout + got.stderr
    assert "ok  [EN10MB]  tcp port 80: " in got.stdout and "libpcap: verdicts agree" in got.stdout
    assert "new  [EN10MB]  vxlan 4: " in got.stdout and "libpcap: rejects it" in got.stdout
    assert "DISAGREE libpcap rejects it: " in got.stdout
    assert "ERROR f.suite:3:" in got.stdout  # both refuse 'tcp and udp': no disagreement
    assert got.stdout.count("DISAGREE") == 1
    assert "1 disagree with libpcap" in got.stdout


def test_a_filter_bpfc_refuses_fails_the_recording_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "f.suite").write_text("ok: tcp\nbad: tcp port\n")
    got = bpfc(tmp_path, "golden", "record", "f.suite", "-o", "g")
    assert got.returncode == 1 and "ERROR f.suite:2:" in got.stdout
    assert "recorded 1 of 2 filters" in got.stdout
