"""Any command line either works or fails with one line on stderr and status 1.

Hypothesis builds argument vectors from bpfc's own options, subcommands and files
(a good program, a missing file, a binary file, a directory) mixed with random words
and numbers.  A failure must be the documented shape: ``bpfc...: message`` on one line
(a compile error may add the expression and a caret line, and a hint), never a
traceback, and never the last-resort "internal error" (which would mean a bug that the
CLI only hid).  ``--help`` may exit 0 through ``SystemExit``.  ``capture``, ``filter``
and ``verify`` are left out: they open interfaces, read captures or replay the corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfc.cli import main

SUBCOMMANDS = ["", "asm", "disasm", "run", "validate", "cfg"]
OPTIONS = ["-d", "-dd", "-ddd", "-O", "-y", "-s", "-m", "-F", "--linux", "--format",
           "--flavor", "-L", "--meta", "--wirelen", "-i", "--byteorder", "-f", "--raw",
           "--strict", "-o", "--before", "--graph", "--version", "--bogus", "-"]  # fmt: skip
VALUES = ["tcp", "port", "80", "ip broadcast", "and", "(", "0", "-5", "0x10", "99999999999",
          "EN10MB", "LINUX_SLL", "113", "NOPE", "255.255.255.0", "1.2", "d", "asm", "json",
          "1.10", "master", "ifindex=2", "foo=1", "mark=x", "big", "raw", "45000014",
          "zz", "", " ", "#", "\\", "'", "\u00e9"]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("cli-fuzz")
    good = folder / "prog.d"
    good.write_text("(000) ret      #262144\n")
    binary = folder / "prog.bin"
    binary.write_bytes(b"\x06\x00\x00\x00\x00\x00\x04\x00\xff\xfe")
    expr = folder / "filter.txt"
    expr.write_text("tcp port 80 # web\n")
    return [str(good), str(binary), str(expr), str(folder), str(folder / "missing")]


def argv_strategy(files: list[str]) -> st.SearchStrategy[list[str]]:
    word = st.one_of(
        st.sampled_from(OPTIONS),
        st.sampled_from(VALUES),
        st.sampled_from(files),
        st.integers(-(2**40), 2**40).map(str),
        st.text(max_size=6),
    )
    return st.tuples(st.sampled_from(SUBCOMMANDS), st.lists(word, max_size=6)).map(
        lambda parts: ([parts[0]] if parts[0] else []) + parts[1]
    )


def check_failure_shape(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.splitlines()
    assert lines and lines[0].startswith("bpfc"), err
    assert len(lines) == 1 or (len(lines) <= 4 and lines[1].startswith("  ")), err


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_argv_works_or_fails_in_one_line(
    data: st.DataObject, files: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = data.draw(argv_strategy(files))
    if "-o" in argv:  # never write over the fixture files
        argv = [word for word in argv if word != "-o"]
    try:
        status = main(argv)
    except SystemExit as exit_:
        assert exit_.code == 0, (argv, capsys.readouterr().err)  # --help
        capsys.readouterr()
        return
    out, err = capsys.readouterr()
    assert status in (0, 1), (argv, status)
    if status == 1:
        check_failure_shape(err)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "PROG", "00", "--meta", "foo=2"],
        ["run", "PROG", "00", "--meta", "ifindex=x"],
        ["run", "PROG", "zz"],
        ["-s", "0x"],
        ["-y", "NOPE", "tcp"],
        ["--bogus"],
        ["asm", "--format", "nope", "PROG"],
    ],
)
def test_known_bad_command_lines(argv: list[str], files: list[str], capsys) -> None:  # noqa: ANN001
    argv = [files[0] if word == "PROG" else word for word in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    check_failure_shape(err)
    assert err.count("\n") == 1


def test_fixture_files_exist(files: list[str]) -> None:
    assert Path(files[0]).is_file() and not Path(files[-1]).exists()
