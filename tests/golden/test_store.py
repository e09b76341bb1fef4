"""The golden layout: cases round-trip byte for byte; anything damaged is an error naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfc.golden.store import (
    GoldenCase,
    GoldenFileError,
    case_ids,
    case_path,
    digest,
    read_case,
    read_index,
    write_case,
    write_index,
)

INDEX = {"format": "bpfc-golden", "version": 1, "suite": "../f.suite", "bpfc": "0", "oracle": None}


def sample(case_id: str = "web", returns: list[int] | None = None) -> GoldenCase:
    packets = [(b"\x00" * 20, 20), (b"\x01" * 10, 60), (b"", 0)]
    values = returns if returns is not None else [262144, 0, 0]
    return GoldenCase(
        case_id, "tcp port 80", "EN10MB", listing_opt="(000) ret      #0\n",
        listing_unopt="(000) ret      #1\n", packets=packets, returns_opt=values,
        returns_unopt=list(values), coverage={"opt": "1/1", "unopt": "1/1"},
    )  # fmt: skip


@settings(max_examples=40)
@given(
    st.lists(st.tuples(st.binary(max_size=40), st.integers(0, 100)), max_size=6).flatmap(
        lambda pk: st.tuples(
            st.just(pk),
            st.lists(st.sampled_from([0, 262144, 7]), min_size=len(pk), max_size=len(pk)),
        )
    )
)
def test_a_case_round_trips(tmp_path_factory: pytest.TempPathFactory, data) -> None:  # noqa: ANN001
    root = tmp_path_factory.mktemp("g")
    packets, values = data
    packets = [(b, max(w, len(b))) for b, w in packets]
    case = GoldenCase("sec/x@RAW", "ip", "RAW", packets=packets, returns_opt=values,
                      returns_unopt=values[::-1], listing_opt="a\n",
                      listing_unopt="b\n")  # fmt: skip
    assert len(write_case(root, case)) == 4
    back = read_case(root, "sec/x@RAW")
    assert (back.packets, back.returns_opt, back.returns_unopt) == (packets, values, values[::-1])
    assert back.files() == case.files()
    assert write_case(root, back) == []  # the same bytes: nothing rewritten
    assert case_ids(root) == ["sec/x@RAW"]


def test_verdicts_are_a_string_unless_other_values_occur(tmp_path: Path) -> None:
    write_case(tmp_path, sample("a"))
    write_case(tmp_path, sample("b", [5, 0, 262144]))
    a = json.loads(case_path(tmp_path, "a", ".json").read_text())
    b = json.loads(case_path(tmp_path, "b", ".json").read_text())
    assert a["verdicts_opt"] == "100" and "returns_opt" not in a
    assert b["returns_opt"] == [5, 0, 262144] and "verdicts_opt" not in b


def damage_json(root: Path) -> Path:
    path = case_path(root, "web", ".json")
    path.write_text(path.read_text()[:40])
    return path


def damage_pcap(root: Path) -> Path:
    path = case_path(root, "web", ".pcap")
    path.write_bytes(path.read_bytes()[:30])
    return path


def unreadable_pcap(root: Path) -> Path:
    """A packet file that is no pcap, with a checksum to match (as if the JSON were edited)."""
    path = case_path(root, "web", ".pcap")
    path.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\0" * 10)
    meta_path = case_path(root, "web", ".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"]["pcap"] = digest(path.read_bytes())
    meta_path.write_text(json.dumps(meta))
    return path


def edit_listing(root: Path) -> Path:
    path = case_path(root, "web", ".d")
    path.write_text(path.read_text().replace("#0", "#1"))
    return path


def no_checksums(root: Path) -> Path:
    path = case_path(root, "web", ".json")
    meta = json.loads(path.read_text())
    del meta["sha256"]
    path.write_text(json.dumps(meta))
    return path


def drop_listing(root: Path) -> Path:
    path = case_path(root, "web", ".O.d")
    path.unlink()
    return path


def short_verdicts(root: Path) -> Path:
    path = case_path(root, "web", ".json")
    meta = json.loads(path.read_text())
    meta["verdicts_opt"] = "10"
    path.write_text(json.dumps(meta))
    return path


def bad_verdict_text(root: Path) -> Path:
    path = case_path(root, "web", ".json")
    path.write_text(path.read_text().replace('"100"', '"1x0"', 1))
    return path


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (damage_json, "corrupted golden file (invalid JSON"),
        (damage_pcap, "corrupted or edited by hand"),
        (unreadable_pcap, "corrupted packet file"),
        (edit_listing, "corrupted or edited by hand (its sha256 is not the one web.json"),
        (no_checksums, "no sha256 of its files"),
        (drop_listing, "missing golden file"),
        (short_verdicts, "corrupted golden files (3 packets said"),
        (bad_verdict_text, "verdicts_opt missing or not a string"),
    ],
)
def test_damage_is_an_error_naming_the_file(tmp_path: Path, damage, words: str) -> None:  # noqa: ANN001
    write_case(tmp_path, sample())
    path = damage(tmp_path)
    with pytest.raises(GoldenFileError) as info:
        read_case(tmp_path, "web")
    assert str(info.value).startswith(str(path)) and words in str(info.value)


@pytest.mark.parametrize(
    ("index", "words"),
    [
        ({**INDEX, "version": 99}, "unknown golden format version 99"),
        ({**INDEX, "format": "other"}, "not a bpfc golden index"),
        ({k: v for k, v in INDEX.items() if k != "suite"}, 'no "suite" path'),
    ],
)
def test_the_index_is_checked(tmp_path: Path, index: dict, words: str) -> None:
    write_index(tmp_path, index)
    with pytest.raises(GoldenFileError, match=words):
        read_index(tmp_path)


def test_a_truncated_index_is_named(tmp_path: Path) -> None:
    (tmp_path / "golden.json").write_text('{"format": "bpfc-go')
    with pytest.raises(GoldenFileError, match=r"golden\.json: corrupted golden file"):
        read_index(tmp_path)


def test_a_windows_checkout_of_the_listings_still_reads(tmp_path: Path) -> None:
    write_case(tmp_path, sample())
    path = case_path(tmp_path, "web", ".d")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert read_case(tmp_path, "web").listing_opt == sample().listing_opt


def test_write_index_adds_a_gitignore_for_failures(tmp_path: Path) -> None:
    assert write_index(tmp_path, INDEX) is True
    assert write_index(tmp_path, INDEX) is False
    assert (tmp_path / ".gitignore").read_text() == "failures/\n"


@settings(max_examples=60)
@given(st.sampled_from([".d", ".O.d", ".pcap"]), st.integers(0, 10**6), st.integers(1, 255))
def test_any_change_to_a_listing_or_the_packets_is_caught(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, where: int, flip: int
) -> None:
    root = tmp_path_factory.mktemp("flip")
    write_case(root, sample())
    path = case_path(root, "web", suffix)
    data = bytearray(path.read_bytes())
    data[where % len(data)] ^= flip
    path.write_bytes(bytes(data))
    with pytest.raises(GoldenFileError) as info:
        read_case(root, "web")
    assert str(info.value).startswith(str(path))
