"""``bpfc asm|disasm|run|validate`` through bpfc.cli.main, plus one real subprocess."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bpfc import Program
from bpfc.cli import main

ARP_ASM = "  ldh [12]\n  jne #0x806, drop\n  ret #-1\ndrop: ret #0\n"
ARP = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x806), (0x06, 0, 0, 0xFFFFFFFF), (6, 0, 0, 0)])
ARP_PACKET = "000000000000 000000000000 0806" + "00" * 28
IP_PACKET = "00" * 12 + "0800" + "00" * 28


@pytest.fixture
def arp_file(tmp_path):
    path = tmp_path / "arp.s"
    path.write_text(ARP_ASM)
    return str(path)


@pytest.fixture
def arp_bin(tmp_path):
    path = tmp_path / "arp.bin"
    path.write_bytes(bytes(ARP))
    return str(path)


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_asm_defaults_to_dd(arp_file, capsys):
    assert main(["asm", arp_file]) == 0
    assert capsys.readouterr().out == ARP.dump("dd")


@pytest.mark.parametrize("fmt", ["d", "ddd", "asm", "xt_bpf", "json", "c"])
def test_asm_formats(arp_file, capsys, fmt):
    assert main(["asm", "--format", fmt, arp_file]) == 0
    assert capsys.readouterr().out == ARP.dump(fmt)


def test_asm_raw_to_file_and_stdin(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.bin"
    _stdin(monkeypatch, ARP_ASM.encode())
    assert main(["asm", "--raw", "-o", str(out), "-"]) == 0
    assert out.read_bytes() == bytes(ARP)
    _stdin(monkeypatch, ARP.dump("ddd").encode())
    assert main(["asm", "--raw", "--byteorder", "big", "-o", str(out), "-"]) == 0
    assert out.read_bytes() == ARP.to_bytes("big")


def test_disasm_raw_bytes(arp_bin, capsys):
    assert main(["disasm", arp_bin]) == 0
    assert capsys.readouterr().out == ARP.dump("d")
    assert main(["disasm", "--format", "ddd", arp_bin]) == 0
    assert capsys.readouterr().out == "4\n40 0 0 12\n21 0 1 2054\n6 0 0 4294967295\n6 0 0 0\n"


def test_disasm_text_flavor_and_forced_raw(tmp_path, capsys):
    path = tmp_path / "tax.ddd"
    path.write_text("3\n0 0 0 1\n7 0 0 0\n22 0 0 0\n")
    assert main(["disasm", "--flavor", "1.10", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "(001) tax      "
    big = tmp_path / "big.bin"
    big.write_bytes(ARP.to_bytes("big"))
    assert main(["disasm", "-i", "raw", "--byteorder", "big", str(big)]) == 0
    assert capsys.readouterr().out == ARP.dump("d")


def test_utf8_comments_and_bom_are_text(tmp_path, capsys):
    path = tmp_path / "arp.s"
    path.write_bytes("\ufeff; ARP — only\n".encode() + ARP_ASM.encode())
    assert main(["disasm", "-f", "ddd", str(path)]) == 0
    assert capsys.readouterr().out == ARP.dump("ddd")
    assert main(["disasm", "-i", "asm", str(tmp_path / "missing")]) == 1
    binary = tmp_path / "arp.bin"
    binary.write_bytes(bytes(ARP))
    assert main(["disasm", "-i", "asm", str(binary)]) == 1
    assert "input is not text, so it cannot be read as asm" in capsys.readouterr().err


def test_run_prints_one_value_per_packet(arp_file, capsys):
    assert main(["run", arp_file, ARP_PACKET, IP_PACKET, "0x" + ARP_PACKET.replace(" ", "")]) == 0
    assert capsys.readouterr().out.split() == ["4294967295", "0", "4294967295"]


def test_run_wirelen_meta_and_packets_from_stdin(tmp_path, monkeypatch, capsys):
    path = tmp_path / "len.s"
    path.write_text("ld #len\nret a\n")
    assert main(["run", "--wirelen", "1500", str(path), "aabb"]) == 0
    assert capsys.readouterr().out == "1500\n"
    proto = tmp_path / "proto.s"
    proto.write_text("ldh #proto\nret a\n")
    assert main(["run", "--meta", "protocol=0x86dd", str(proto), "00"]) == 0
    assert capsys.readouterr().out == "34525\n"
    _stdin(monkeypatch, b"aa:bb:cc\n\n0102\n")
    assert main(["run", str(path)]) == 0
    assert capsys.readouterr().out.split() == ["3", "2"]


def test_validate(arp_bin, tmp_path, capsys):
    assert main(["validate", arp_bin]) == 0
    assert capsys.readouterr().out == "valid (libpcap rules): 4 instructions\n"
    retx = tmp_path / "retx.ddd"
    retx.write_text("1\n14 0 0 0\n")
    assert main(["validate", str(retx)]) == 0
    capsys.readouterr()
    assert main(["validate", "--linux", str(retx)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bpfc validate: insn 0:") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "content", "message"),
    [
        (["asm"], b"ldh [12]\nfoo #1\n", "bpfc asm: line 2: unknown mnemonic 'foo'\n"),
        (["disasm"], b"\x00" * 12, "bpfc disasm: 12 bytes is not a whole number of 8-byte"),
        (["disasm"], b"", "bpfc disasm: empty input: no instructions\n"),
        (["validate"], b"jeq #1, 9, 9\nret #0\n", "bpfc validate: insn 0: "),
        (["run"], b"ret #1\n", "bpfc run: packet 'zz' is not hex bytes\n"),
    ],
)
def test_errors_are_one_line_and_exit_1(tmp_path, capsys, argv, content, message):
    path = tmp_path / "prog"
    path.write_bytes(content)
    extra = ["zz"] if argv == ["run"] else []
    assert main([*argv, str(path), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_missing_file_is_one_line(capsys):
    assert main(["disasm", "/nonexistent/prog"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bpfc disasm: ") and "No such file" in err and err.count("\n") == 1


@pytest.mark.parametrize("name", ["asm", "disasm", "run", "validate"])
def test_help(name, capsys):
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: bpfc {name}")


def test_python_m_bpfc_disasm_subprocess(arp_bin):
    result = subprocess.run(
        [sys.executable, "-m", "bpfc", "disasm", "--format", "xt_bpf", arp_bin],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "4,40 0 0 12,21 0 1 2054,6 0 0 4294967295,6 0 0 0\n"


def test_output_file_is_replaced_whole_or_left_as_it_was(tmp_path: Path, capsys) -> None:
    """``-o`` writes beside the target and renames: an existing file keeps its mode on
    success, and a write that fails (``/dev/full``) is one line, exit status 1."""
    src = tmp_path / "p.txt"
    src.write_text("ret #1\n")
    out = tmp_path / "out.bin"
    out.write_bytes(b"old contents")
    out.chmod(0o640)
    assert main(["asm", str(src), "-o", str(out), "--format", "d"]) == 0
    assert out.read_text().strip() == "(000) ret      #1"
    assert oct(out.stat().st_mode & 0o777) == oct(0o640)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    capsys.readouterr()
    assert main(["asm", str(src), "-o", "/dev/full", "--format", "d"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/dev/full" in err[0]
