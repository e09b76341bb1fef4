"""``bpfc``'s options behave as the installed ``tcpdump``'s do (skipped where it is absent).

Each case runs both programs on the same command line and compares what matters: the
accept value (``-s``), the listing (``ip broadcast``, which tcpdump compiles with netmask
0 when it has no live interface), or the error, which must be one line for bpfc and say
what tcpdump says (with ``bpfc:`` for ``tcpdump:``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")


def bpfc(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bpfc", *argv], capture_output=True, text=True, timeout=120
    )


def tcpdump(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert TCPDUMP is not None
    environ = {**os.environ, **(env or {})}
    return subprocess.run(
        [TCPDUMP, *argv], capture_output=True, text=True, timeout=120, env=environ
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("bpfc: ")
    return done.stderr.removeprefix("bpfc: ").rstrip("\n")


def tcpdump_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done
    lines = [line for line in done.stderr.splitlines() if line.startswith("tcpdump: ")]
    return lines[-1].removeprefix("tcpdump: ")


SNAPLENS = ["0", "1", "0x10", "010", " 12", "+12", "262144", "262145", "300000", "-5",
            "99999999999", "", "10abc", "0x", "1e3", "١٢"]  # fmt: skip
"""tcpdump reads ``-s`` with ``strtol(.., 0)`` and refuses anything outside 0..262144.
(Not here: values that C's ``(int)`` cast wraps into range, such as 4294967396, which
tcpdump takes as 100 and bpfc refuses.)"""


@needs_tcpdump
@pytest.mark.parametrize("text", SNAPLENS)
def test_snaplen_like_tcpdump(text: str) -> None:
    theirs = tcpdump("-O", "-d", "-y", "EN10MB", "-s", text, "ip")
    ours = bpfc("-O", "-d", "--flavor", "1.10", "-y", "EN10MB", "-s", text, "ip")
    if theirs.returncode == 0:
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout
    else:
        assert one_line_error(ours) == tcpdump_error(theirs)


@needs_tcpdump
@pytest.mark.parametrize("linktype", ["EN10MB", "LINUX_SLL", "RAW"])
@pytest.mark.parametrize("expr", ["ip broadcast", "ip broadcast or ip multicast"])
def test_ip_broadcast_like_tcpdump(linktype: str, expr: str) -> None:
    """Against tcpdump running on libpcap master (bpfc's code generation; 1.10.3 lays
    out the compound expression differently)."""
    from support.oracles import master_soname_dir

    soname, why = master_soname_dir()
    if soname is None:
        pytest.skip(why)
    theirs = tcpdump("-O", "-d", "-y", linktype, expr, env={"LD_LIBRARY_PATH": str(soname)})
    assert theirs.returncode == 0, theirs.stderr
    ours = bpfc("-O", "-d", "-y", linktype, expr)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def test_netmask_option_reaches_the_code() -> None:
    listing = bpfc("-O", "-d", "-m", "255.255.0.0", "ip broadcast").stdout
    assert "#0xffff " in listing or "#0xffff\n" in listing  # the host part of the mask
    assert re.search(r"invalid netmask", one_line_error(bpfc("-m", "255.0", "ip broadcast")))


@needs_tcpdump
def test_filter_file_errors_like_tcpdump(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    assert one_line_error(bpfc("-F", missing)) == tcpdump_error(tcpdump("-d", "-F", missing))
    folder = str(tmp_path)
    assert one_line_error(bpfc("-F", folder)) == tcpdump_error(tcpdump("-d", "-F", folder))


def test_binary_filter_file_is_one_line(tmp_path: Path) -> None:
    """tcpdump refuses these too (a syntax error, or the expression cut at the NUL)."""
    for data in (b"\x7fELF\x02\x01\x01\x00\xd0\xff", b"tcp\x00port 80"):
        path = tmp_path / "binary"
        path.write_bytes(data)
        assert "not a text file" in one_line_error(bpfc("-F", str(path)))
        if TCPDUMP is not None and data.startswith(b"\x7f"):
            assert tcpdump("-d", "-y", "EN10MB", "-F", str(path)).returncode != 0


def test_long_program_warning_is_one_plain_line() -> None:
    expr = " or ".join(f"tcp port {n}" for n in range(1, 700))
    done = bpfc("-O", expr)
    assert done.returncode == 0
    assert done.stderr.count("\n") == 1, done.stderr
    assert re.fullmatch(r"bpfc: warning: program has \d+ instructions; .*4096\n", done.stderr)
    assert ".py" not in done.stderr


@needs_tcpdump
def test_huge_bad_token_echoes_little(tmp_path: Path) -> None:
    path = tmp_path / "filter"
    path.write_text("tcp or " + "x" * 100_000 + "\n")
    theirs = tcpdump("-d", "-y", "EN10MB", "-F", str(path))
    assert theirs.returncode != 0 and len(theirs.stderr) < 1000
    ours = bpfc("-F", str(path))
    assert ours.returncode == 1 and "Traceback" not in ours.stderr
    assert len(ours.stderr) < 1000, len(ours.stderr)
    lines = ours.stderr.splitlines()
    caret = next(line for line in lines if "^" in line)
    assert lines[lines.index(caret) - 1].rstrip().endswith("...")  # the cut is marked


def test_version() -> None:
    import bpfc as package

    done = bpfc("--version")
    assert done.returncode == 0 and done.stdout == f"bpfc {package.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", package.__version__)


def test_help_lists_every_subcommand_and_the_compile_options() -> None:
    from bpfc.cli import SUBCOMMANDS

    done = bpfc("--help")
    assert done.returncode == 0
    for name, (_, summary) in SUBCOMMANDS.items():
        assert re.search(rf"^  {name} +{re.escape(summary)}$", done.stdout, re.M), name
    for option in ("-y LINKTYPE", "-s SNAPLEN", "-m NETMASK", "-F FILE", "-O", "--flavor"):
        assert option in done.stdout


def _everyday() -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from tcpdump_listing_match import EVERYDAY

    return EVERYDAY


@needs_tcpdump
def test_unoptimized_listings_equal_tcpdump_on_master() -> None:
    """The README's claim: ``bpfc -O -d`` is ``tcpdump -O -d`` on libpcap master, byte for
    byte, and ``--flavor 1.10`` changes only spacing (never an instruction)."""
    from support.oracles import master_soname_dir

    from bpfc.cli import main

    soname, why = master_soname_dir()
    if soname is None:
        pytest.skip(why)
    env = {"LD_LIBRARY_PATH": str(soname)}
    for expr in _everyday():
        theirs = tcpdump("-O", "-d", "-y", "EN10MB", expr, env=env)
        assert theirs.returncode == 0, (expr, theirs.stderr)
        listings = {}
        for flavor in ("master", "1.10"):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert main(["-O", "-d", "--flavor", flavor, expr]) == 0
            listings[flavor] = out.getvalue()
        assert listings["master"] == theirs.stdout, expr
        assert listings["1.10"].split() == listings["master"].split(), expr
