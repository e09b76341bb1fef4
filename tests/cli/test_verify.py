"""``bpfc verify`` says what is wrong with the corpus it was given, or where one comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bpfc.cli.verify as verify_cli
from bpfc.cli import main


def fails_with(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bpfc verify: "), err
    return err.removeprefix("bpfc verify: ").strip()


def test_missing_directory(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    where = tmp_path / "nowhere"
    assert fails_with(capsys, ["verify", str(where)]) == f"{where}: no such directory"


def test_directory_without_expected_data(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    message = fails_with(capsys, ["verify", str(tmp_path)])
    assert message.startswith(str(tmp_path)) and "no expected/ directory" in message
    assert "pass the corpus directory" not in message  # it was passed


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{not json", "invalid JSON"),
        (json.dumps({"id": "x"}), "malformed corpus"),
        (json.dumps([1, 2]), "malformed corpus"),
    ],
)
def test_malformed_case(tmp_path: Path, capsys, line: str, why: str) -> None:  # noqa: ANN001
    (tmp_path / "expected").mkdir()
    (tmp_path / "expected" / "cases.jsonl").write_text(line + "\n")
    message = fails_with(capsys, ["verify", str(tmp_path)])
    assert str(tmp_path) in message and why in message


def test_no_default_corpus_says_where_one_comes_from(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    monkeypatch.setattr(verify_cli, "default_root", lambda: tmp_path / "corpus")
    message = fails_with(capsys, ["verify"])
    assert "source checkout" in message and "pass the corpus DIR" in message


def test_help_says_where_the_default_corpus_is(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "source checkout" in text and "not installed with the package" in text


@pytest.mark.parametrize("option", ["--update", "--strict-listings", "--suite=x.suite"])
def test_golden_only_options_are_refused_for_the_corpus(
    tmp_path: Path, capsys, option: str
) -> None:  # noqa: ANN001
    message = fails_with(capsys, ["verify", str(tmp_path), option])
    assert "golden directory" in message


def test_a_directory_of_no_known_kind_names_all_three(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    (tmp_path / "notes.txt").write_text("hello\n")
    message = fails_with(capsys, ["verify", str(tmp_path)])
    assert "expected/" in message and "golden.json" in message and ".filter" in message


def test_a_golden_directory_with_an_unknown_version_is_an_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    (tmp_path / "golden.json").write_text(
        json.dumps({"format": "bpfc-golden", "version": 7, "suite": "s"})
    )
    message = fails_with(capsys, ["verify", str(tmp_path)])
    assert message.startswith(str(tmp_path / "golden.json"))
    assert "unknown golden format version 7" in message
