"""Other projects' interpreter suites: Linux ``test_bpf`` classic cases and x/net/bpf's VM tests.

Packets are built as ``README-interp.md`` says: ``data[:len]`` zero-padded, empty for
``FLAG_NO_DATA``, ``data[:len] + frag_data`` for ``FLAG_SKB_FRAG``; ``wirelen`` is the
buffer length.  libpcap mode is compared with ``libpcap_results`` where Linux and
libpcap differ, Linux mode with the kernel's ``expectations``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bpfc import vm
from bpfc.errors import ValidationError
from bpfc.isa.validation import validate

HERE = Path(__file__).resolve().parents[3] / "shared" / "corpus-upstream"

# the skb context lib/test_bpf.c gives every classic test (README-interp.md)
SKB = {
    "protocol": 0x0800,
    "pkttype": 3,
    "mark": 0x1234AAAA,
    "rxhash": 0x1234AAAB,
    "queue": 123,
    "vlan_tci": 0xFFFF,
    "vlan_present": True,
    "ifindex": 577,
    "hatype": 588,
    "cpu": 0,
    "mac_offset": 0,
}

CANNOT = {
    "LD_PAYLOAD_OFF": "SKF_AD_PAY_OFFSET needs the kernel's flow dissector (bpfc: metadata)",
}


def _records(name: str) -> list[dict[str, Any]]:
    import os

    root = Path(os.environ.get("BPFC_UPSTREAM", HERE))
    path = root / name
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


KERNEL = _records("kernel-test-bpf-classic.jsonl")
ANCILLARY = _records("kernel-test-bpf-classic-ancillary.jsonl")
GO = _records("go-xnetbpf-vm.jsonl")


def _runnable(records: list[dict[str, Any]]) -> list[Any]:
    out = []
    for r in records:
        if "FLAG_EXPECTED_FAIL" in r["flags"]:
            continue
        for index, (length, _result) in enumerate(r["expectations"]):
            out.append(pytest.param(r, index, id=f"{r['name']}@{length}"))
    return out


def _packet(record: dict[str, Any], length: int) -> bytes:
    if "FLAG_NO_DATA" in record["flags"]:
        return b""
    data = bytes.fromhex(record["data"])[:length]
    data += bytes(length - len(data))
    if "FLAG_SKB_FRAG" in record["flags"]:
        data += bytes.fromhex(record["frag_data"])
    return data


@pytest.fixture(autouse=True)
def _need_corpus(upstream: Path) -> None:
    """Skips every test here (through the shared fixture) when the corpus is absent."""


@pytest.mark.parametrize(("record", "index"), _runnable(KERNEL))
def test_kernel_classic_libpcap_semantics(record: dict[str, Any], index: int) -> None:
    length, linux_result = record["expectations"][index]
    expected = record["libpcap_results"][index] if "libpcap_results" in record else linux_result
    packet = _packet(record, length)
    assert vm.run(record["insns"], packet) == expected


@pytest.mark.parametrize(("record", "index"), _runnable(KERNEL))
def test_kernel_classic_linux_semantics(record: dict[str, Any], index: int) -> None:
    length, expected = record["expectations"][index]
    packet = _packet(record, length)
    linear = None if "FLAG_SKB_FRAG" not in record["flags"] else length
    meta = dict(SKB, net_offset=min(length, 14), linear_len=linear)
    assert vm.run(record["insns"], packet, linux=True, **meta) == expected


@pytest.mark.parametrize(("record", "index"), _runnable(ANCILLARY))
def test_kernel_ancillary_linux_mode(record: dict[str, Any], index: int) -> None:
    if record["name"] in CANNOT:
        pytest.skip(CANNOT[record["name"]])
    length, expected = record["expectations"][index]
    packet = _packet(record, length)
    linear = None if "FLAG_SKB_FRAG" not in record["flags"] else length
    meta = dict(SKB, net_offset=min(length, 14), linear_len=linear)
    assert vm.run(record["insns"], packet, linux=True, **meta) == expected


@pytest.mark.parametrize(
    "record", [pytest.param(r, id=r["name"]) for r in GO if not r.get("expect_reject")]
)
def test_go_vm(record: dict[str, Any]) -> None:
    packet = bytes.fromhex(record["input"])
    assert vm.run(record["insns"], packet, len(packet)) == record["ret"]


def _expected_fail() -> list[Any]:
    out = []
    for r in KERNEL + ANCILLARY:
        if "FLAG_EXPECTED_FAIL" in r["flags"]:
            out.append(pytest.param(r["insns"], id=f"kernel:{r['name']}"))
    for r in GO:
        if r.get("expect_reject") and r.get("insns") is not None:
            out.append(pytest.param(r["insns"], id=f"go:{r['name']}"))
    return out


@pytest.mark.parametrize("insns", _expected_fail())
def test_strict_validator_rejects_expected_failures(insns: list[list[int]]) -> None:
    with pytest.raises(ValidationError):
        validate(insns, strict=True)


@pytest.mark.parametrize(
    "record",
    [pytest.param(r, id=r["name"]) for r in KERNEL + ANCILLARY if "libpcap_validate" in r],
)
def test_default_validator_matches_libpcap_verdict(record: dict[str, Any]) -> None:
    try:
        validate(record["insns"])
        ours = True
    except ValidationError:
        ours = False
    assert ours == record["libpcap_validate"]


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(r, id=r["name"])
        for r in KERNEL + ANCILLARY
        if "FLAG_EXPECTED_FAIL" not in r["flags"]
    ],
)
def test_strict_validator_accepts_runnable_kernel_programs(record: dict[str, Any]) -> None:
    validate(record["insns"], strict=True)


def test_corpus_counts() -> None:
    assert len(_runnable(KERNEL)) == 119
    assert len(GO) == 62
    assert len(_expected_fail()) == 11 + 1 + 10
