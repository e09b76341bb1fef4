"""``bpfc [options] EXPRESSION`` behaves like ``tcpdump -d`` and friends."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("bpfc.syntax.parse")

from bpfc.cli import main  # noqa: E402
from bpfc.compiler import compile as bpfc_compile  # noqa: E402


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_default_output_is_the_d_listing(capsys) -> None:  # noqa: ANN001
    status, out, _ = run(capsys, "tcp", "port", "80")
    assert status == 0
    assert out.rstrip("\n") == bpfc_compile("tcp port 80").dump("d").rstrip("\n")
    assert out.splitlines()[0] == "(000) ldh      [12]"


def test_words_are_joined_with_spaces(capsys) -> None:  # noqa: ANN001
    _, joined, _ = run(capsys, "-O", "host 10.0.0.1 and", "udp")
    _, single, _ = run(capsys, "-O", "host 10.0.0.1 and udp")
    assert joined == single


@pytest.mark.parametrize(("flag", "fmt"), [("-d", "d"), ("-dd", "dd"), ("-ddd", "ddd")])
def test_dump_levels(capsys, flag: str, fmt: str) -> None:  # noqa: ANN001
    _, out, _ = run(capsys, flag, "-O", "ip")
    assert out.rstrip("\n") == bpfc_compile("ip", optimize=False).dump(fmt).rstrip("\n")


def test_ddd_first_line_is_the_count(capsys) -> None:  # noqa: ANN001
    _, out, _ = run(capsys, "-ddd", "-O", "arp")
    lines = out.split()
    assert int(lines[0]) == 4


def test_format_option(capsys) -> None:  # noqa: ANN001
    _, out, _ = run(capsys, "--format", "json", "-O", "ip6")
    assert out.lstrip().startswith("[")


def test_linktype_and_snaplen(capsys) -> None:  # noqa: ANN001
    _, out, _ = run(capsys, "-y", "LINUX_SLL", "-s", "1500", "ip")
    assert "ldh      [14]" in out
    assert "ret      #1500" in out
    _, out2, _ = run(capsys, "-y", "dlt_linux_sll", "-s", "1500", "ip")
    _, out3, _ = run(capsys, "-y", "113", "-s", "1500", "ip")
    assert out == out2 == out3


def test_netmask_enables_ip_broadcast(capsys) -> None:  # noqa: ANN001
    """Without -m the netmask is 0, as tcpdump compiles without a live interface (the
    API's default stays libpcap's PCAP_NETMASK_UNKNOWN, which refuses 'ip broadcast')."""
    status, out, _ = run(capsys, "-O", "ip broadcast")
    assert status == 0
    assert out == bpfc_compile("ip broadcast", netmask=0, optimize=False).dump("d")
    with pytest.raises(ValueError, match="netmask not known, so 'ip broadcast' not supported"):
        bpfc_compile("ip broadcast")
    status, out, _ = run(capsys, "-m", "255.255.255.0", "ip broadcast")
    assert status == 0
    assert "#0xff" in out


def test_file_with_comments(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "filter.txt"
    path.write_text("# web traffic\ntcp port 80 # http\n  or udp port 53\n")
    _, from_file, _ = run(capsys, "-F", str(path))
    _, direct, _ = run(capsys, "tcp port 80 or udp port 53")
    assert from_file == direct


def test_list_linktypes(capsys) -> None:  # noqa: ANN001
    status, out, _ = run(capsys, "-L")
    assert status == 0
    assert "EN10MB" in out and "LINUX_SLL2" in out and "DLT 113" in out


def test_error_has_caret_and_exit_status(capsys) -> None:  # noqa: ANN001
    status, out, err = run(capsys, "tcp port 70000")
    assert status == 1
    assert out == ""
    assert "port number 70000 greater than maximum 65535" in err
    assert "^" in err


def test_unknown_linktype_is_one_line(capsys) -> None:  # noqa: ANN001
    status, _, err = run(capsys, "-y", "NOSUCHDLT", "ip")
    assert status == 1
    assert "NOSUCHDLT" in err and "Traceback" not in err


def test_cfg_subcommand_prints_dot(capsys) -> None:  # noqa: ANN001
    status, out, _ = run(capsys, "cfg", "--graph", "tcp or udp")
    assert status == 0
    assert out.startswith("digraph cfg {")
    assert out.count("->") >= 4
    assert "ret #262144" in out and "ret #0" in out


def test_help(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "-y LINKTYPE" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
@pytest.mark.parametrize("flag", ["-d", "-dd", "-ddd"])
@pytest.mark.parametrize("expr", ["tcp port 80", "udp and not arp or ip6", "ip[2:2] > 100"])
def test_same_text_as_tcpdump(capsys, flag: str, expr: str) -> None:  # noqa: ANN001
    """Unoptimized output is byte-identical to tcpdump's (libpcap 1.10.3 flavour)."""
    ref = subprocess.run(
        ["tcpdump", "-O", flag, "-y", "EN10MB", expr], capture_output=True, text=True, check=True
    ).stdout
    _, out, _ = run(capsys, "-O", flag, "--flavor", "1.10", expr)
    assert out == ref
