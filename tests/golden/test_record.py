"""Recording: deterministic bytes, provenance kept when nothing changed, the oracle's word."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bpfc
from bpfc import libpcap
from bpfc.errors import UsageError
from bpfc.golden.record import load_oracle, record_filter, record_suite
from bpfc.golden.store import read_case, read_index
from bpfc.golden.suite import Filter, parse_suite
from bpfc.isa.listing import image

SUITE = "web: tcp port 80\ndns: udp port 53 @linktype=LINUX_SLL\n[lx]\n@linux on\nv: vlan 10\n"


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_recording_twice_changes_no_byte(tmp_path: Path) -> None:
    suite = tmp_path / "f.suite"
    suite.write_text(SUITE)
    out = tmp_path / "golden"
    first = record_suite(suite, out, log=lambda _: None)
    assert all(r.error is None and len(r.written) == 4 for r in first)
    before = snapshot(out)
    index = read_index(out)
    index["recorded"] = "2001-01-01"  # as if recorded long ago
    (out / "golden.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    before["golden.json"] = (out / "golden.json").read_bytes()
    again = record_suite(suite, out, log=lambda _: None)
    assert all(r.written == [] for r in again)
    assert snapshot(out) == before  # the old date is kept: nothing else changed
    suite.write_text(SUITE.replace("port 80", "port 81"))
    third = record_suite(suite, out, log=lambda _: None)
    assert [len(r.written) for r in third] == [4, 0, 0]
    assert read_index(out)["recorded"] != "2001-01-01"
    assert read_index(out)["suite"] == "../f.suite"


def test_a_recorded_case_holds_bpfc_s_own_answers(tmp_path: Path) -> None:
    suite = tmp_path / "f.suite"
    suite.write_text(SUITE)
    record_suite(suite, tmp_path / "g", log=lambda _: None)
    case = read_case(tmp_path / "g", "lx/v")
    opt = bpfc.compile("vlan 10", linux=True)
    assert case.linux and case.listing_opt == opt.dump("d")
    assert case.returns_opt == [opt.run(d, w, linux=True) for d, w in case.packets]
    assert {bool(v) for v in case.returns_opt} == {True, False}


def test_a_filter_bpfc_refuses_is_reported_with_its_place(tmp_path: Path) -> None:
    (f,) = parse_suite("ok: tcp\n  bad:  tcp and hst 1\n", "s.suite")[1:]
    got = record_filter(f)
    assert got.case is None and got.error is not None
    assert got.error.startswith("s.suite:2:17: bad: bpfc refuses 'tcp and hst 1'")


def test_stale_cases_are_kept_and_named(tmp_path: Path) -> None:
    suite = tmp_path / "f.suite"
    suite.write_text("a: tcp\nb: udp\n")
    record_suite(suite, tmp_path / "g", log=lambda _: None)
    suite.write_text("a: tcp\n")
    said: list[str] = []
    record_suite(suite, tmp_path / "g", log=said.append)
    assert (tmp_path / "g" / "cases" / "b.json").exists()
    assert said and "no filter 'b'" in said[0] and "delete by hand" in said[0]


class SkewedOracle:
    """A stand-in libpcap whose programs test port 81 where bpfc's test port 80."""

    def version(self) -> str:
        return "skewed 1.0"

    def compile(self, expr: str, linktype: str, snaplen: int, optimize: bool, mask: int) -> list:
        return list(bpfc.compile(expr.replace("80", "81"), linktype, snaplen, optimize))

    def bpf_image(self, insn: Any, n: int) -> str:
        return image(insn, n)

    def make_bpf_filter(self, insns: list) -> Any:
        prog = bpfc.Program.from_insns(insns)
        return lambda data, wirelen: prog.run(data, wirelen)


def test_every_disagreement_with_the_oracle_is_reported() -> None:
    got = record_filter(Filter("web", "tcp port 80", "EN10MB"), SkewedOracle())
    assert got.case is not None and got.case.oracle is not None
    assert got.case.oracle["verdicts"].startswith("differ on")
    assert got.case.oracle["library"] == "skewed 1.0"
    assert got.disagreements and all("libpcap" in d and "bpfc" in d for d in got.disagreements)
    differing = int(got.case.oracle["verdicts"].split()[-1])
    assert len(got.disagreements) == differing


@pytest.mark.skipif(not libpcap.available(), reason="the system libpcap is not installed")
def test_the_system_libpcap_agrees_on_a_plain_filter() -> None:
    got = record_filter(Filter("web", "tcp port 80", "EN10MB"), load_oracle("libpcap", None))
    assert got.disagreements == [] and got.case is not None
    assert got.case.oracle == {
        "library": libpcap.version(), "listing_opt": got.case.oracle["listing_opt"],
        "listing_unopt": "same", "verdicts": "agree",
    }  # fmt: skip


def test_unknown_oracles_and_libraries_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown oracle"):
        load_oracle("tcpdump", None)
    with pytest.raises(UsageError, match="cannot load"):
        load_oracle("libpcap", str(tmp_path / "nothing.so"))


class LenientOracle(SkewedOracle):
    """A stand-in libpcap that compiles what bpfc refuses."""

    def compile(self, expr: str, linktype: str, snaplen: int, optimize: bool, mask: int) -> list:
        return list(bpfc.compile("tcp", linktype, snaplen, optimize))


def test_a_filter_only_libpcap_compiles_is_a_disagreement() -> None:
    got = record_filter(Filter("x", "tcp and udp", "EN10MB"), LenientOracle())
    assert got.case is None and "expression rejects all packets" in (got.error or "")
    assert got.disagreements == [
        f"libpcap compiles it ({len(bpfc.compile('tcp'))} instructions) where bpfc refuses it"
    ]


@pytest.mark.skipif(not libpcap.available(), reason="the system libpcap is not installed")
def test_a_filter_both_refuse_is_no_disagreement() -> None:
    got = record_filter(Filter("x", "tcp and udp", "EN10MB"), load_oracle("libpcap", None))
    assert got.case is None and got.disagreements == []
