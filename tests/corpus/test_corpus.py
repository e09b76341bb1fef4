"""The golden corpus (corpus/): every case replayed with bpfc's compiler and interpreter,
plus the corpus's own invariants and the ``bpfc verify`` command line.

Each case compiles its expression optimized and not, runs both programs over the
case's packet file and compares with the recorded return values of libpcap master (the
oracle ``tools/regenerate_corpus.py`` uses by default) and with bpfc's golden listings
(``bpfc verify --update-golden`` rewrites those).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.cli import main as cli_main
from bpfc.corpus import check_case, load, select
from bpfc.corpus.report import describe
from bpfc.corpus.schema import Case, compact, default_root, encode_verdicts
from bpfc.corpus.topics import load_topics, parse_topic

ROOT = default_root()
CORPUS = load(ROOT)


def _params() -> list:
    out = []
    for case in CORPUS.cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_case(case: Case) -> None:
    result = check_case(CORPUS, case)
    assert result.ok, describe(result)


# ------------------------------------------------------------------ corpus invariants


def test_size_and_spread() -> None:
    assert len(CORPUS.cases) >= 1000
    assert len({c.linktype for c in CORPUS.cases}) >= 10
    assert len(CORPUS.topics()) >= 10
    assert CORPUS.meta["libpcap"].startswith("libpcap version 1.11.0-PRE-GIT")  # master
    assert CORPUS.meta["cases"] == len(CORPUS.cases)
    groups = {c.packets for c in CORPUS.cases}
    assert CORPUS.meta["packets"] == sum(len(CORPUS.packets(g)) for g in groups)
    assert CORPUS.meta["linktypes"] == sorted({c.linktype for c in CORPUS.cases})


def test_only_what_the_oracle_rejects_is_excluded() -> None:
    # With master as the oracle nothing is left out for being a 1.10.3 bug or for
    # running libpcap's program (protochain runs in a child): only master's refusals.
    rows = [json.loads(line) for line in (ROOT / "excluded.jsonl").open()]
    assert CORPUS.meta["excluded"] == len(rows)
    short = CORPUS.meta["libpcap"].split()[2]  # 'libpcap version 1.11.0-PRE-GIT (...)'
    assert all(row["reason"].startswith(f"libpcap {short} rejects it: ") for row in rows)
    assert any("protochain" in c.expr for c in CORPUS.cases)
    assert any(c.linktype.startswith("ARCNET") for c in CORPUS.cases)


def test_cases_come_from_topic_files() -> None:
    sources = {s.id: s for s in load_topics(ROOT / "topics")}
    excluded = {json.loads(line)["id"] for line in (ROOT / "excluded.jsonl").open()}
    for case in CORPUS.cases:
        src = sources[case.id]
        want = (src.expr, src.linktype, src.netmask, src.snaplen)
        assert want == (case.expr, case.linktype, case.netmask, case.snaplen)
        assert case.accept == case.snaplen
    assert not excluded & {c.id for c in CORPUS.cases}
    assert set(sources) == excluded | {c.id for c in CORPUS.cases}


def test_every_case_has_both_verdicts_and_packets() -> None:
    for case in CORPUS.cases:
        values = case.expected()
        assert len(values) == len(CORPUS.packets(case.packets)), case.id
        assert len(case.expected("unopt")) == len(values)
    # every case's packet set tells accept from reject somewhere in its group
    assert sum(any(c.expected()) and not all(c.expected()) for c in CORPUS.cases) > 0.9 * len(
        CORPUS.cases
    )


def test_golden_covers_every_case() -> None:
    assert {c.id for c in CORPUS.cases} <= set(CORPUS.golden)


def test_excluded_have_reasons() -> None:
    for line in (ROOT / "excluded.jsonl").open():
        row = json.loads(line)
        assert row["reason"] and row["expr"] and row["linktype"]


def test_known_failures_name_real_cases() -> None:
    ids = {c.id for c in CORPUS.cases}
    assert all(c.xfail is None or c.id in ids for c in CORPUS.cases)
    text = (
        (ROOT / "known_failures.txt").read_text() if (ROOT / "known_failures.txt").exists() else ""
    )
    listed = [ln.split()[0] for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert set(listed) <= ids


# ------------------------------------------------------------------ schema units


@given(st.lists(st.sampled_from([0, 262144]), max_size=50))
def test_verdicts_round_trip(values: list[int]) -> None:
    text, returns = encode_verdicts(values, 262144)
    assert returns is None and len(text) == len(values)
    case = Case("t/EN10MB/000", "tcp", "EN10MB", "g", text, (), ())
    assert case.expected() == values
    assert Case.from_json(case.to_json()).expected() == values


@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20))
def test_unusual_return_values_kept(values: list[int]) -> None:
    text, returns = encode_verdicts(values, 262144)
    case = Case("t/EN10MB/000", "tcp", "EN10MB", "g", text, (), (), returns=returns)
    assert Case.from_json(case.to_json()).expected() == values


def test_compact_listing() -> None:
    lines = ["(000) ldh      [12]", "(001) jeq      #0x800           jt 2\tjf 3", "(002) txa      "]
    assert compact(lines) == ["ldh [12]", "jeq #0x800 jt 2 jf 3", "txa"]


def test_topic_parsing_and_errors() -> None:
    text = "# c\n@linktypes EN10MB RAW\ntcp\n@netmask 255.0.0.0\n@snaplen 96\nip broadcast\n"
    got = list(parse_topic("t", text))
    assert [s.id for s in got] == ["t/EN10MB/000", "t/RAW/000", "t/EN10MB/001", "t/RAW/001"]
    assert got[2].netmask == "255.0.0.0" and got[0].netmask is None
    assert (got[0].snaplen, got[2].snaplen) == (262144, 96)
    with pytest.raises(ValueError, match=r"t\.txt:1: bad snaplen 'x'"):
        list(parse_topic("t", "@snaplen x\n"))
    with pytest.raises(ValueError, match=r"t\.txt:1: expression before any @linktypes"):
        list(parse_topic("t", "tcp\n"))
    with pytest.raises(ValueError, match=r"unknown directive '@bogus'"):
        list(parse_topic("t", "@bogus x\n"))


def test_select() -> None:
    assert all("EN10MB" in c.id for c in select(CORPUS.cases, "/EN10MB/"))
    assert all(c.id.startswith("pflog/") for c in select(CORPUS.cases, "pflog/*"))
    assert select(CORPUS.cases, None) == CORPUS.cases


# ------------------------------------------------------------------ bpfc verify


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """A copy of the pflog topic only (a real, small corpus)."""
    dst = tmp_path / "corpus"
    for sub in ("expected", "golden"):
        (dst / sub).mkdir(parents=True)
        shutil.copy(ROOT / sub / "pflog.jsonl", dst / sub / "pflog.jsonl")
    (dst / "packets").mkdir()
    shutil.copy(ROOT / "packets" / "pflog-PFLOG.pcap", dst / "packets")
    shutil.copy(ROOT / "meta.json", dst / "meta.json")
    return dst


def test_verify_passes(small_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["verify", str(small_corpus)]) == 0
    out = capsys.readouterr().out
    assert "pflog" in out and "PFLOG" in out and " 0 failed" in out


def test_verify_reports_a_wrong_verdict(small_corpus: Path, capsys) -> None:
    path = small_corpus / "expected" / "pflog.jsonl"
    rows = [json.loads(line) for line in path.open()]
    first = rows[0]["verdicts"]
    rows[0]["verdicts"] = ("0" if first[0] == "1" else "1") + first[1:]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli_main(["verify", str(small_corpus)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {rows[0]['id']}" in out and "packet 0" in out and "0000  " in out


def test_verify_reports_listing_change_and_update_golden(small_corpus: Path, capsys) -> None:
    path = small_corpus / "golden" / "pflog.jsonl"
    rows = [json.loads(line) for line in path.open()]
    rows[1]["opt"] = ["ret #1"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli_main(["verify", str(small_corpus)]) == 1
    assert "-ret #1" in capsys.readouterr().out
    assert cli_main(["verify", str(small_corpus), "--no-listings"]) == 0
    assert cli_main(["verify", str(small_corpus), "--update-golden"]) == 0
    assert cli_main(["verify", str(small_corpus)]) == 0


def test_verify_pattern_and_errors(small_corpus: Path, capsys, tmp_path: Path) -> None:
    assert cli_main(["verify", str(small_corpus), "-k", "pflog/PFLOG/000", "-q"]) == 0
    assert "1 passed" in capsys.readouterr().out
    assert cli_main(["verify", str(small_corpus), "-k", "no-such-case"]) == 1
    assert "no case matches" in capsys.readouterr().err
    assert cli_main(["verify", str(tmp_path / "nowhere")]) == 1
    assert "no such directory" in capsys.readouterr().err


def test_verify_fails_when_a_known_failure_passes(small_corpus: Path, capsys) -> None:
    (small_corpus / "known_failures.txt").write_text("# x\npflog/PFLOG/000 was broken once\n")
    assert cli_main(["verify", str(small_corpus)]) == 1
    out = capsys.readouterr().out
    assert "XPASS pflog/PFLOG/000" in out and "1 known failures now passing" in out
