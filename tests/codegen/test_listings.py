"""Generator output equals libpcap master's unoptimized listing, for hand-built ASTs.

These pin the code generator without depending on the parser: each case names an
upstream accept case (DLT, expression text) and gives the AST the parser should build
for it; the expected listing comes from the upstream corpus.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from bpfc import ast, linktypes
from bpfc.cfg import finish
from bpfc.codegen.dispatch import gen_expr, new_state
from bpfc.compiler import parse_netmask
from bpfc.emit import linearize
from bpfc.isa.dump import dump

Q = ast.Qualifiers


def _v6(text: str) -> ast.IPv6Id:
    return ast.IPv6Id(text, ipaddress.IPv6Address(text).packed)


def _rel(op: str, proto: str, index: int, value: int, size: int = 1) -> ast.Relation:
    return ast.Relation(op, ast.Load(proto, ast.Const(index), size), ast.Const(value))


CASES: list[tuple[str, str, ast.Node]] = [
    ("EN10MB", "tcp port 25", ast.Primitive(Q("tcp", None, "port"), ast.NumberId(25))),
    ("EN10MB", "tcp src port 25", ast.Primitive(Q("tcp", "src", "port"), ast.NumberId(25))),
    ("EN10MB", "tcp dst port 25", ast.Primitive(Q("tcp", "dst", "port"), ast.NumberId(25))),
    (
        "EN10MB",
        "tcp portrange 25-53",
        ast.Primitive(Q("tcp", None, "portrange"), ast.NameId("25-53")),
    ),
    ("EN10MB", "udp port 53", ast.Primitive(Q("udp", None, "port"), ast.NumberId(53))),
    ("EN10MB", "ipx", ast.ProtoAbbrev("ipx")),
    ("EN10MB", "iso", ast.ProtoAbbrev("iso")),
    ("EN10MB", "stp", ast.ProtoAbbrev("stp")),
    ("EN10MB", "netbeui", ast.ProtoAbbrev("netbeui")),
    ("EN10MB", "atalk", ast.ProtoAbbrev("atalk")),
    ("EN10MB", "aarp", ast.ProtoAbbrev("aarp")),
    ("EN10MB", "ip", ast.ProtoAbbrev("ip")),
    ("EN10MB", "ip6", ast.ProtoAbbrev("ip6")),
    ("EN10MB", "arp", ast.ProtoAbbrev("arp")),
    ("EN10MB", "icmp", ast.ProtoAbbrev("icmp")),
    ("EN10MB", "icmp6", ast.ProtoAbbrev("icmp6")),
    ("EN10MB", "vrrp", ast.ProtoAbbrev("vrrp")),
    ("EN10MB", "link proto 0", ast.Primitive(Q("link", None, "proto"), ast.NumberId(0))),
    ("EN10MB", "link proto 1501", ast.Primitive(Q("link", None, "proto"), ast.NumberId(1501))),
    ("EN10MB", "ether proto 6", ast.Primitive(Q("link", None, "proto"), ast.NumberId(6))),
    ("EN10MB", "arp host 1.2.3.4", ast.Primitive(Q("arp", None, "host"), ast.IPv4Id("1.2.3.4"))),
    ("EN10MB", "rarp src 1.2.3.4", ast.Primitive(Q("rarp", "src", None), ast.IPv4Id("1.2.3.4"))),
    (
        "EN10MB",
        "arp net 192.168.0.0/16",
        ast.Primitive(Q("arp", None, "net"), ast.IPv4NetId(ast.IPv4Id("192.168.0.0"), 16)),
    ),
    ("EN10MB", "arp net 192.168", ast.Primitive(Q("arp", None, "net"), ast.IPv4Id("192.168"))),
    ("EN10MB", "ip proto \\tcp", ast.Primitive(Q("ip", None, "proto"), ast.NameId("tcp"))),
    ("EN10MB", "ip6 proto 6", ast.Primitive(Q("ip6", None, "proto"), ast.NumberId(6))),
    ("EN10MB", "proto \\tcp", ast.Primitive(Q(None, None, "proto"), ast.NameId("tcp"))),
    (
        "EN10MB",
        "ether host ab:cd:ef:0:0:1",
        ast.Primitive(Q("link", None, "host"), ast.EtherId("x", bytes.fromhex("abcdef000001"))),
    ),
    (
        "EN10MB",
        "ether src host ab-cd-ef-00-00-02",
        ast.Primitive(Q("link", "src", "host"), ast.EtherId("x", bytes.fromhex("abcdef000002"))),
    ),
    ("EN10MB", "ip[0xab] == 0xcd", _rel("=", "ip", 0xAB, 0xCD)),
    ("EN10MB", "tcp[0xab] == 0xcd", _rel("=", "tcp", 0xAB, 0xCD)),
    ("EN10MB", "icmp6[0xab] = 0xcd", _rel("=", "icmp6", 0xAB, 0xCD)),
    ("EN10MB", "link[7:2] == 0x1234", _rel("=", "link", 7, 0x1234, 2)),
    ("EN10MB", "broadcast", ast.Broadcast(None)),
    ("EN10MB", "multicast", ast.Multicast(None)),
    ("RAW", "greater 100", ast.Greater(100)),
    ("RAW", "less 200", ast.Less(200)),
    ("RAW", "len >= 100", ast.Relation(">=", ast.Len(), ast.Const(100))),
    ("RAW", "ip broadcast", ast.Broadcast("ip")),
    ("RAW", "ip6 host ::1", ast.Primitive(Q("ip6", None, "host"), _v6("::1"))),
    (
        "IP_OVER_FC",
        "net fe80::/10",
        ast.Primitive(Q(None, None, "net"), ast.IPv6NetId(_v6("fe80::"), 10)),
    ),
]


@pytest.fixture(scope="module")
def accept_cases(upstream: Path) -> dict[tuple[str, str], dict]:
    found: dict[tuple[str, str], dict] = {}
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] == "accept":
                found.setdefault((case["dlt"], case["expr"]), case)
    return found


@pytest.mark.parametrize(("dlt", "expr", "tree"), CASES, ids=[f"{d}:{e}" for d, e, _ in CASES])
def test_listing_matches_libpcap_master(accept_cases, dlt, expr, tree) -> None:  # noqa: ANN001
    case = accept_cases[(dlt, expr)]
    state = new_state(
        linktypes.lookup(dlt),
        snaplen=int(case.get("snaplen") or 262144),
        netmask=parse_netmask(case.get("netmask")),
    )
    root = finish(gen_expr(state, tree), state.snaplen)
    assert dump(linearize(root), "d").rstrip("\n").split("\n") == case["expected_unopt"]
