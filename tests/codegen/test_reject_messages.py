"""Semantic errors: the upstream reject cases bpfc claims fail with libpcap's message.

``tests/codegen/data/codegen_reject_claimed.txt`` lists the case ids (for the link types the
code generator supports); each must raise :class:`CompileError` whose message contains
the case's ``errstr``, as libpcap's test suite checks.  Plus direct checks of
positions and of the templates in :mod:`bpfc.codegen.messages`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("bpfc.syntax.parse")

from bpfc.codegen import messages  # noqa: E402
from bpfc.compiler import compile as bpfc_compile  # noqa: E402
from bpfc.errors import CompileError  # noqa: E402

HERE = Path(__file__).resolve().parent
CLAIMED = [
    line.strip()
    for line in (HERE / "data" / "codegen_reject_claimed.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.fixture(scope="module")
def corpus(upstream: Path):  # noqa: ANN201
    spec = importlib.util.spec_from_file_location(
        "upstream_listing_match", HERE.parents[1] / "bench" / "upstream_listing_match.py"
    )
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cases = {}
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] == "reject":
                cases[case["id"]] = case
    return cases, bench.fixture_resolver(upstream)


def test_claim_is_substantial() -> None:
    assert len(CLAIMED) >= 14000
    assert len(set(CLAIMED)) == len(CLAIMED)


def test_claimed_rejects_have_libpcap_messages(corpus) -> None:  # noqa: ANN001
    cases, resolver = corpus
    failures = []
    for case_id in CLAIMED:
        case = cases[case_id]
        try:
            bpfc_compile(
                case["expr"],
                case["dlt"],
                int(case.get("snaplen") or 262144),
                True,
                case.get("netmask"),
                linux=bool(case.get("linuxext")),
                resolver=resolver,
            )
        except CompileError as err:
            if case["errstr"] not in str(err):
                failures.append(f"{case['dlt']} {case['expr']!r}: {err} != {case['errstr']}")
            continue
        failures.append(f"{case['dlt']} {case['expr']!r}: accepted, expected {case['errstr']}")
    assert not failures, f"{len(failures)} claimed rejects differ:\n" + "\n".join(failures[:10])


@pytest.mark.parametrize(
    ("expr", "message", "start"),
    [
        ("tcp port 70000", messages.port_too_big(70000), 0),
        ("ip and ip[0:3] = 1", messages.DATA_SIZE, 7),
        ("ip broadcast", messages.NETMASK_UNKNOWN, None),
        ("aarp host 1.2.3.4", messages.invalid_qual("aarp", "host <IPv4 address>"), 0),
        ("udp or host 1.2.3.0/24", messages.invalid_qual("host", "1.2.3.0/24"), 7),
        ("net 10.1.2.3/8", messages.non_network_bits("10.1.2.3/8"), 0),
        ("ip6 host fe80::/64", messages.invalid_qual("host", "fe80::/64"), 0),
    ],
)
def test_message_and_position(expr: str, message: str, start: int | None) -> None:
    with pytest.raises(CompileError) as info:
        bpfc_compile(expr)
    assert info.value.message == message
    assert info.value.expr == expr
    if start is not None:
        assert info.value.position == start


def test_unknown_host_names_the_host() -> None:
    from bpfc.names import StaticResolver

    with pytest.raises(CompileError, match="unknown host 'nosuch.example'"):
        bpfc_compile("host nosuch.example", resolver=StaticResolver([], [], []))
