"""``bpfc --optimizer libpcap``: the text ``tcpdump -d/-dd/-ddd`` prints on libpcap master.

The reference is the installed tcpdump run on libpcap master (``LD_LIBRARY_PATH`` at
master's soname folder); skipped where either is absent.  Run as ``tcpdump`` (a symlink),
bpfc uses this optimizer by default.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.oracles import master_soname_dir

from bpfc.cli.compile import default_optimizer

TCPDUMP = shutil.which("tcpdump")

EXPRESSIONS = (
    "tcp port 80",
    "udp port 53 or arp",
    "host 10.0.0.1 and not port 22",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "ip6 and (icmp6 or tcp dst portrange 6000-6010)",
    "vlan and ip",
    "ip[2:2] - ip[0] * 4 > 20",
)


def bpfc(*argv: str, prog: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bpfc", *argv] if prog is None else [prog, *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def master_tcpdump():
    if TCPDUMP is None:
        pytest.skip("tcpdump is not installed")
    soname, why = master_soname_dir()
    if soname is None:
        pytest.skip(why)

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LD_LIBRARY_PATH": str(soname)}
        return subprocess.run(
            [TCPDUMP, *argv], capture_output=True, text=True, timeout=120, env=env
        )

    return run


@pytest.mark.parametrize("dump", ["-d", "-dd", "-ddd"])
def test_dumps_equal_tcpdump_on_master(master_tcpdump, dump: str) -> None:
    for expr in EXPRESSIONS:
        theirs = master_tcpdump(dump, "-y", "EN10MB", expr)
        assert theirs.returncode == 0, theirs.stderr
        ours = bpfc("--optimizer", "libpcap", dump, "-y", "EN10MB", expr)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout, expr


def test_refusal_exits_like_tcpdump(master_tcpdump) -> None:
    theirs = master_tcpdump("-d", "ip and not ip")
    ours = bpfc("--optimizer", "libpcap", "-d", "ip and not ip")
    assert theirs.returncode == ours.returncode == 1
    assert ours.stdout == ""
    assert ours.stderr.strip() == "bpfc: expression rejects all packets"
    assert "expression rejects all packets" in theirs.stderr


def test_run_as_tcpdump_defaults_to_libpcap(master_tcpdump, tmp_path: Path) -> None:
    entry = shutil.which("bpfc")
    if entry is None:
        pytest.skip("no bpfc console script on PATH")
    link = tmp_path / "tcpdump"
    link.symlink_to(entry)
    expr = "udp port 53 or arp"
    assert bpfc("-ddd", expr, prog=str(link)).stdout == master_tcpdump("-ddd", expr).stdout
    assert bpfc("-ddd", expr).stdout != master_tcpdump("-ddd", expr).stdout  # bpfc's own


def test_default_optimizer_by_program_name() -> None:
    assert default_optimizer("/usr/local/bin/tcpdump") == "libpcap"
    assert default_optimizer("tcpdump") == "libpcap"
    assert default_optimizer("/usr/bin/bpfc") == "bpfc"
    assert default_optimizer("tcpdump.real") == "bpfc"


def test_unknown_optimizer_is_a_one_line_error() -> None:
    done = bpfc("--optimizer", "gcc", "tcp")
    assert done.returncode != 0 and done.stdout == ""
    assert "invalid choice: 'gcc'" in done.stderr and "Traceback" not in done.stderr


LIVE = ("vlan and tcp", "vlan 10 or arp", "vlan and vlan 20 and udp port 53", "not vlan")


def test_live_linux_vlan_equals_tcpdump_on_master(master_tcpdump) -> None:
    """``-i lo``: Linux ``vlan`` code keeps jumps among a block's statements through
    master's optimizer; their offsets are resolved as master's ``convert_code_r`` does."""
    for expr in LIVE:
        theirs = master_tcpdump("-i", "lo", "-ddd", expr)
        if theirs.returncode != 0:
            pytest.skip(f"tcpdump cannot open lo: {theirs.stderr.strip()[:100]}")
        ours = bpfc("--optimizer", "libpcap", "-i", "lo", "-ddd", expr)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout, expr
