"""Name tables, address parsers and resolvers, against libpcap's own translate tests."""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc import names
from bpfc.names import tables
from bpfc.names.addr import format_mac


@cache
def _aux(path: Path) -> dict:
    with open(path / "libpcap-filtertests-aux.json", encoding="utf-8") as f:
        return json.load(f)


def _blocks(upstream: Path, cfunc: str) -> list[dict]:
    return [b for b in _aux(upstream)["translate_accept_blocks"] if b["cfunc"] == cfunc]


def _rejects(upstream: Path, cfunc: str) -> list[str]:
    return [b["arg"] for b in _aux(upstream)["translate_reject_tests"] if b["cfunc"] == cfunc]


# ------------------------------------------------------------------ libpcap translate tests


def test_nametoeproto_matches_libpcap(upstream: Path) -> None:
    blocks = _blocks(upstream, "pcap_nametoeproto")
    assert len(blocks) >= 15
    for block in blocks:
        for alias in block["aliases"]:
            got = names.ether_proto(alias)
            if block["expect"] == "PROTO_UNDEF":
                assert got is None, alias
            else:
                assert got == int(block["expect"], 16), alias


def test_nametollc_matches_libpcap(upstream: Path) -> None:
    blocks = _blocks(upstream, "pcap_nametollc")
    assert len(blocks) >= 5
    for block in blocks:
        for alias in block["aliases"]:
            want = None if block["expect"] == "PROTO_UNDEF" else int(block["expect"], 16)
            assert names.llc_sap(alias) == want, alias


def test_ether_aton_matches_libpcap(upstream: Path) -> None:
    blocks = _blocks(upstream, "pcap_ether_aton")
    assert blocks
    for block in blocks:
        for alias in block["aliases"]:
            octets = names.ether_aton(alias)
            assert octets is not None and format_mac(octets) == block["expect"], alias
    rejects = _rejects(upstream, "pcap_ether_aton")
    assert len(rejects) >= 20
    for arg in rejects:
        assert names.ether_aton(arg) is None, arg


def test_decnet_addresses_match_libpcap(upstream: Path) -> None:
    for block in _blocks(upstream, "pcapint_atodn"):
        area, node = (int(x) for x in block["expect"].split("."))
        for alias in block["aliases"]:
            assert names.parse_decnet(alias) == (area << 10) | node, alias
    for arg in _rejects(upstream, "pcapint_atodn"):
        assert names.parse_decnet(arg) is None, arg


def test_arcnet_addresses_match_libpcap(upstream: Path) -> None:
    for block in _blocks(upstream, "pcapint_atoan"):
        for alias in block["aliases"]:
            assert names.parse_arcnet(alias) == int(block["expect"][1:], 16), alias
    for arg in _rejects(upstream, "pcapint_atoan"):
        assert names.parse_arcnet(arg) is None, arg


# ------------------------------------------------------------------ resolvers


def _fixture_resolver(upstream: Path) -> names.StaticResolver:
    fx = _aux(upstream)["name_service_fixtures"]
    return names.StaticResolver(fx["hosts"], fx["ethers"], fx["networks"])


def test_static_resolver_serves_the_upstream_fixtures(upstream: Path) -> None:
    res = _fixture_resolver(upstream)
    assert isinstance(res, names.Resolver)
    v4 = [ipaddress.IPv4Address(a) for a in ("192.168.243.1", "192.168.242.4", "192.168.244.2")]
    v4.append(ipaddress.IPv4Address("192.168.241.3"))
    assert res.host("eth-ipv4x4-noipv6.host357.libpcap.test") == v4
    both = res.host("eth-ipv4-ipv6.host123.libpcap.test")
    assert [a.version for a in both] == [4, 6]
    assert res.host("host.invalid.") == []
    assert res.ether("eth-noipv4-noipv6.host123.libpcap.test") == bytes.fromhex("aa000400140e")
    assert res.ether("noeth-ipv4-noipv6.host123.libpcap.test") is None
    assert res.network("net-10-20-0-0.libpcap.test") == 0x0A140000
    assert res.network("nonesuch") is None


def test_lookups_are_case_insensitive(upstream: Path) -> None:
    res = _fixture_resolver(upstream)
    assert res.host("NOETH-IPV4-NOIPV6.host123.LIBPCAP.test") == [
        ipaddress.IPv4Address("10.20.30.40")
    ]
    assert res.ether("Eth-IPv4-IPv6.Host123.libpcap.test") is not None
    assert res.network("NET-10-0-0-0.libpcap.test") == 0x0A000000


def test_static_resolver_skips_comments_and_malformed_lines() -> None:
    res = names.StaticResolver(
        ["# comment", "not-an-address foo", "10.0.0.1 a b # trailing", "10.0.0.1 a", ""],
        ["zz:zz foo", "1:2:3:4:5:6 e"],
        ["loopback 127", "bad x.y"],
    )
    assert res.host("a") == [ipaddress.IPv4Address("10.0.0.1")]
    assert res.host("b") == res.host("a")
    assert res.host("foo") == []
    assert res.ether("foo") is None and res.ether("e") == bytes([1, 2, 3, 4, 5, 6])
    assert res.network("loopback") == 127 and res.network("bad") is None


def test_system_resolver_reads_etc_files_without_dns(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("192.0.2.7 box box.example\n")
    (tmp_path / "ethers").write_text("0:1:2:3:4:5 box\n")
    res = names.SystemResolver(etc=tmp_path)
    assert res.host("BOX.example") == [ipaddress.IPv4Address("192.0.2.7")]
    assert res.ether("box") == bytes(range(6))
    assert res.network("anything") is None  # missing file: empty
    assert res.host("example.com") == []  # no DNS unless asked
    assert res.service("ssh") == 22


# ------------------------------------------------------------------ tables


@pytest.mark.parametrize(
    ("name", "number"), [("tcp", 6), ("udp", 17), ("icmp", 1), ("ipv6-icmp", 58), ("ip", 0)]
)
def test_ip_protocols(name: str, number: int) -> None:
    assert names.ip_proto(name) == number


def test_services_follow_nametoport() -> None:
    assert names.nametoport("domain") == (53, None)  # same port for tcp and udp
    assert names.nametoport("ssh") == (22, "tcp")
    assert names.nametoport("nosuchservice") is None
    assert names.service("domain", "udp") == 53
    udp_only = next(n for n, (t, u, _) in tables.SERVICES.items() if t is None and u is not None)
    assert names.nametoport(udp_only) == (tables.SERVICES[udp_only][1], "udp")
    assert names.service(udp_only, "tcp") is None
    assert names.service_conflict(udp_only, "tcp") == "udp"
    assert names.service_conflict("domain", "tcp") is None


def test_port_ranges() -> None:
    assert names.port_range("1-1024") == (1, 1024)
    assert names.port_range("ftp-data-ssh") is None  # split at the first '-', as libpcap does
    assert names.port_range("telnet-smtp") == (23, 25)
    assert names.port_range("80") is None


def test_wlan_llc_and_pflog_names() -> None:
    assert names.wlan_type("MGT") == 0x00 and names.wlan_type("data") == 0x08
    assert names.wlan_subtype("beacon") == 0x80
    assert names.wlan_subtype("qos-data") == 0x08 | 0x80
    assert names.wlan_subtype("ack", 0x04) == 0xD0
    assert names.wlan_subtype("beacon", 0x08) is None
    assert names.wlan_dir("FromDS") == 2
    assert names.llc_kind("i") == ("i", None)
    assert names.llc_kind("RNR") == ("s", 0x05)
    assert names.llc_kind("xid") == ("u", 0xAF)
    assert names.llc_kind("bogus") is None
    assert names.pf_reason("bad-offset") == 1
    assert names.pf_action("block") == names.pf_action("drop") == 1


@given(st.binary(min_size=6, max_size=6))
def test_every_mac_spelling_round_trips(octets: bytes) -> None:
    colon = format_mac(octets)
    dotted = ".".join(colon.replace(":", "")[i : i + 4] for i in (0, 4, 8))
    for text in (colon, colon.replace(":", "-"), colon.replace(":", "."), dotted, colon.upper()):
        assert names.ether_aton(text) == octets
    assert names.ether_aton(colon.replace(":", "")) == octets


@given(st.lists(st.integers(0, 255), min_size=1, max_size=4))
def test_ipv4_parts_are_right_aligned(parts: list[int]) -> None:
    value = 0
    for p in parts:
        value = value << 8 | p
    assert names.parse_ipv4(".".join(map(str, parts))) == (value, 8 * len(parts))


@given(st.integers(256, 10**6), st.integers(0, 3))
def test_ipv4_part_over_255_is_invalid(big: int, where: int) -> None:
    parts = ["1", "2", "3", "4"]
    parts[where] = str(big)
    assert names.parse_ipv4(".".join(parts)) is None


def _accept_jeq_constants(upstream: Path) -> list[tuple[list[str], list[int]]]:
    """(words, jeq constants of the unoptimized listing) of the Linux-applicable accepts."""
    out = []
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["kind"] != "accept" or rec.get("locally_skipped_by_libpcap_testsuite_on_linux"):
                continue
            listing = rec.get("expected_unopt") or []
            ks = [int(x.split("#")[1].split()[0], 16) for x in listing if "jeq" in x and "#" in x]
            out.append((rec["expr"].split(), ks))
    return out


def test_pflog_and_80211_names_agree_with_upstream_listings(upstream: Path) -> None:
    checked = 0
    for words, ks in _accept_jeq_constants(upstream):
        if len(words) == 2 and words[0] in ("action", "reason") and not words[1][0].isdigit():
            lookup = names.pf_action if words[0] == "action" else names.pf_reason
            assert lookup(words[1]) == ks[-1], words
            checked += 1
        elif len(words) == 2 and words[0] == "subtype":
            assert names.wlan_subtype(words[1]) == ks[0], words
            checked += 1
        elif len(words) == 2 and words[0] == "dir" and not words[1][0].isdigit():
            assert names.wlan_dir(words[1]) == ks[0], words
            checked += 1
    assert checked >= 60
