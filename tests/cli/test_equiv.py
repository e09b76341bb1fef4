"""``bpfc equiv A B``: exit 0 same, 1 different, 2 unknown, 3 error (one line on stderr)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bpfc
from bpfc import equiv
from bpfc.capture import read_packets
from bpfc.cli import main

needs_z3 = pytest.mark.skipif(not equiv.solver_available(), reason="z3-solver is not installed")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["equiv", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_different_prints_the_packet_and_writes_it(tmp_path: Path, capsys) -> None:
    pcap = tmp_path / "diff.pcap"
    status, out, err = _run(capsys, "-w", str(pcap), "tcp port 80", "tcp port 81")
    assert status == 1 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("different: A returns 262144, B returns 0")
    assert "  decoded: IP" in out and ".80:" in out.replace(".80 ", ".80:")
    assert any(line.startswith("  0000  ") for line in lines)
    (record,) = list(read_packets(pcap))
    data, wirelen = bytes(record[5]), record[2]
    assert bpfc.compile("tcp port 80").run(data, wirelen) == 262144
    assert bpfc.compile("tcp port 81").run(data, wirelen) == 0
    hexdump = "".join(line.split("  ", 2)[2] for line in lines if line.startswith("  00"))
    assert bytes.fromhex(hexdump.replace(" ", "")) == data


@needs_z3
def test_same_is_proved(capsys) -> None:
    status, out, _ = _run(capsys, "not (tcp or udp)", "not tcp and not udp")
    assert status == 0 and out.startswith("same:") and "proved" in out


def test_unknown_without_the_solver(tmp_path: Path, capsys) -> None:
    keep = tmp_path / "keep.pcap"
    keep.write_bytes(b"precious")
    status, out, err = _run(
        capsys, "--no-solver", "-w", str(keep), "tcp", "ip proto 6 or ip6 proto 6"
    )
    assert status == 2 and out.startswith("unknown: no difference on ")
    assert "not proved" in out and "not written" in err
    assert keep.read_bytes() == b"precious"


def test_program_file_against_expression(tmp_path: Path, capsys) -> None:
    prog = tmp_path / "prog.txt"
    prog.write_text(bpfc.compile("udp port 53", "LINUX_SLL").dump("d"))
    raw = tmp_path / "prog.bin"
    raw.write_bytes(bytes(bpfc.compile("udp port 54", "LINUX_SLL")))
    status, out, _ = _run(capsys, "-y", "LINUX_SLL", f"@{prog}", "udp port 53")
    assert status == (2 if not equiv.solver_available() else 0), out
    status, out, _ = _run(capsys, "--ya", "LINUX_SLL", "--yb", "LINUX_SLL", f"@{prog}", f"@{raw}")
    assert status == 1 and "A returns 262144, B returns 0" in out


def test_verdicts_only(tmp_path: Path, capsys) -> None:
    prog = tmp_path / "old.txt"
    prog.write_text(bpfc.compile("arp").dump("d").replace("#262144", "#65535"))
    assert _run(capsys, f"@{prog}", "arp")[0] == 1
    assert _run(capsys, "--verdicts", "--no-solver", f"@{prog}", "arp")[0] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["tcp port", "tcp"], "A: can't parse filter expression: syntax error (at character"),
        (["tcp", "udp and"], "B: can't parse filter expression"),
        (["@/no/such/file", "tcp"], "A: /no/such/file: No such file or directory"),
        (["@", "tcp"], "A: '@' names no file"),
        (["-y", "NO_SUCH_LINK", "tcp", "udp"], "A: unknown data link type"),
        (["-s", "x", "tcp", "udp"], "invalid snaplen x"),
        (["-s", "300000", "tcp", "udp"], "invalid snaplen 300000"),
        (["--timeout", "0", "tcp", "udp"], "--timeout must be positive"),
        (["@-", "@-"], "only one side can read standard input"),
        (["tcp"], "the following arguments are required: B"),
        (["--bogus", "tcp", "udp"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line_and_status_3(argv: list[str], message: str, capsys) -> None:
    status, out, err = _run(capsys, *argv)
    assert status == 3 and out == ""
    assert err.count("\n") == 1 and err.startswith("bpfc equiv: ") and message in err


def test_bad_program_files(tmp_path: Path, capsys) -> None:
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\x06\x00\x00\x00\x00\x00\x00\x80\xff")  # 9 bytes: not whole insns
    text = tmp_path / "bad.txt"
    text.write_text("ldh [12]\nfrobnicate #3\n")
    for path, words in ((odd, "whole number"), (text, "line 2")):
        status, _, err = _run(capsys, f"@{path}", "tcp")
        assert status == 3 and err.count("\n") == 1
        assert f"A: {path}: " in err and words in err


def test_write_failure_keeps_nothing_half_written(tmp_path: Path, capsys) -> None:
    target = tmp_path / "no-such-dir" / "out.pcap"
    status, out, err = _run(capsys, "-w", str(target), "tcp", "udp")
    assert status == 3 and err.count("\n") == 1 and str(target.parent) in err
    assert not target.parent.exists()


def test_the_installed_command(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(bpfc.__file__).parent.parent))
    done = subprocess.run(
        [sys.executable, "-m", "bpfc", "equiv", "--no-solver", "icmp", "icmp"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout.startswith("unknown:") and done.stderr == ""
