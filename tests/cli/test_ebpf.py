"""``bpfc --ebpf TARGET ...`` (bpfc/cli/ebpf.py) through bpfc.cli.main."""

from __future__ import annotations

import pytest

import bpfc
from bpfc.cli import main
from bpfc.cli.ebpf import wants_ebpf
from bpfc.ebpf.insn import decode


def test_listing_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ebpf", "xdp", "ip"]) == 0
    out = capsys.readouterr().out
    assert out == bpfc.compile("ip").to_ebpf("xdp").dump()
    assert out.splitlines()[0] == "   0: (61) r2 = *(u32 *)(r1 +0)"


def test_dd_is_a_c_array(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ebpf", "tc", "-dd", "arp"]) == 0
    out = capsys.readouterr().out
    assert "static const struct bpf_insn bpfc_prog[] = {" in out
    assert out.count("}, /* (") == len(bpfc.compile("arp").to_ebpf("tc"))


@pytest.mark.parametrize(("fmt", "needle"), [("c", "__always_inline"), ("c-program", 'SEC("tc")')])
def test_c_formats(fmt: str, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ebpf", "tc", "--format", fmt, "--name", "my_filter", "udp"]) == 0
    out = capsys.readouterr().out
    assert needle in out and "my_filter(void *data, void *data_end)" in out


def test_binary_formats_to_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    raw = tmp_path / "p.bin"
    assert main(["--ebpf", "socket", "--format", "raw", "-o", str(raw), "tcp port 80"]) == 0
    prog = bpfc.compile("tcp port 80").to_ebpf("socket")
    assert decode(raw.read_bytes()) == list(prog.insns)
    obj = tmp_path / "p.o"
    args = ["--ebpf", "xdp", "--format", "elf", "--section", "xdp.frags", "-o", str(obj), "ip"]
    assert main(args) == 0
    assert obj.read_bytes()[:4] == b"\x7fELF" and b"xdp.frags\0" in obj.read_bytes()


def test_verdicts_and_guards(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ebpf", "xdp", "--accept", "tx", "--reject", "0", "ip"]) == 0
    out = capsys.readouterr().out
    assert "w0 = 3" in out and "w0 = 0" in out
    assert main(["--ebpf", "xdp", "--guards", "per-load", "tcp port 80"]) == 0
    per_load = capsys.readouterr().out
    assert main(["--ebpf", "xdp", "tcp port 80"]) == 0
    assert len(capsys.readouterr().out.splitlines()) < len(per_load.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ebpf", "bogus", "ip"], "invalid choice: 'bogus'"),
        (["--ebpf", "xdp", "--accept", "foo", "ip"], "unknown xdp verdict 'foo'"),
        (["--ebpf", "xdp", "--linux", "vlan 3"], "xdp programs do not have"),
        (["--ebpf", "socket", "--format", "c", "ip"], "XDP and TC"),
        (["--ebpf", "socket", "--reject", "1", "ip"], "reject verdict must be 0"),
        (["--ebpf", "tc", "ip and"], "syntax error"),
    ],
)
def test_errors_are_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("bpfc: ")
    if "syntax" not in message:
        assert err.count("\n") == 1


def test_a_failed_run_keeps_the_existing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "keep.o"
    out.write_bytes(b"old")
    assert main(["--ebpf", "xdp", "--linux", "--format", "elf", "-o", str(out), "vlan 3"]) == 1
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.o"]


def test_binary_output_is_not_written_to_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["--ebpf", "xdp", "--format", "raw", "ip"]) == 1
    assert "binary" in capsys.readouterr().err


def test_wants_ebpf() -> None:
    assert wants_ebpf(["-d", "--ebpf", "xdp", "ip"]) and wants_ebpf(["--ebpf=tc", "ip"])
    assert not wants_ebpf(["-d", "ip"]) and not wants_ebpf(["--", "--ebpf"])


@pytest.mark.parametrize("args", [["--ebpf", "--help"], ["--ebpf", "xdp", "-h"]])
def test_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: bpfc --ebpf xdp|tc|socket") and "--loop-bound" in out
