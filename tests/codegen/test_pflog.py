"""pflog: listings as libpcap master's, refusals with its messages, verdicts as a model
of the pflog header says, and as the system libpcap's on pflog packets."""

from __future__ import annotations

import random
import re
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("bpfc.syntax.parse")

from support.differential import require_libpcap  # noqa: E402
from support.linkfield_helpers import SNAPLEN, corpus_cases, disagreements, listing, verdict  # noqa: E402
from support.strategies import compositions  # noqa: E402

from bpfc.errors import CompileError  # noqa: E402
from bpfc.names.tables import PF_ACTIONS, PF_REASONS  # noqa: E402

PF_WORDS = ("ifname", "on", "rset", "ruleset", "rnr", "rulenum", "srnr", "subrulenum",
            "reason", "action")  # fmt: skip


def test_upstream_listings_are_masters(upstream) -> None:  # noqa: ANN001
    recs = corpus_cases(upstream, "accept", dlts=["PFLOG"])
    wrong = [
        rec["id"]
        for rec in recs
        if listing(rec["expr"], "PFLOG", upstream) != rec["expected_unopt"]
    ]
    assert not wrong
    assert len(recs) >= 45


def test_upstream_rejects_have_masters_message(upstream) -> None:  # noqa: ANN001
    recs = corpus_cases(upstream, "reject", dlts=["PFLOG"], words=PF_WORDS)
    assert len(recs) > 150
    for rec in recs:
        with pytest.raises(CompileError) as info:
            listing(rec["expr"], rec["dlt"], upstream, optimize=True)
        assert rec["errstr"] in info.value.message, rec["id"]


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "word"),
    [("ifname eth0", "ifname"), ("on eth0", "ifname"), ("rset main", "ruleset"),
     ("ruleset main", "ruleset"), ("rnr 1", "rnr"), ("rulenum 1", "rnr"), ("srnr 2", "srnr"),
     ("subrulenum 2", "srnr"), ("reason 3", "reason"), ("reason memory", "reason"),
     ("action block", "action")],
)  # fmt: skip
@pytest.mark.parametrize("dlt", ["EN10MB", "SUNATM", "MTP2", "RAW"])
def test_refused_off_pflog(expr: str, word: str, dlt: str) -> None:
    with pytest.raises(CompileError) as info:
        listing(expr, dlt)
    assert info.value.message == f"'{word}' supported only on PFLOG linktype"
    assert info.value.span is not None


@pytest.mark.parametrize("dlt", ["PFLOG", "EN10MB"])
def test_unknown_names_are_refused_first(dlt: str) -> None:
    with pytest.raises(CompileError, match='unknown PF reason "nosuch"'):
        listing("reason nosuch", dlt)
    with pytest.raises(CompileError, match='unknown PF action "nosuch"'):
        listing("action nosuch", dlt)


@pytest.mark.parametrize(("word", "what"), [("ifname", "ifname interface names"),
                                             ("ruleset", "ruleset names")])  # fmt: skip
def test_names_longer_than_15_bytes_are_refused(word: str, what: str) -> None:
    assert listing(f"{word} {'a' * 15}", "PFLOG")
    with pytest.raises(CompileError, match=f"^{what} can only be 15 characters$"):
        listing(f"{word} {'a' * 16}", "PFLOG")


# -- listings ------------------------------------------------------------------------------


def test_names_are_case_insensitive() -> None:
    assert listing("reason BAD-Offset", "PFLOG") == listing("reason 1", "PFLOG")
    assert listing("action Drop", "PFLOG") == listing("action block", "PFLOG")


def test_prologue_only_when_the_payload_is_read() -> None:
    header_only = listing("rnr 7 or inbound or ip or ip6", "PFLOG")
    assert not any("M[" in line for line in header_only)
    assert listing("ip[0] = 0x45", "PFLOG")[:5] == [
        "(000) ldb      [0]",
        "(001) add      #3",
        "(002) and      #0xfffffffc",
        "(003) st       M[2]",  # after the index (M[0]) and the loaded value (M[1])
        "(004) tax",
    ]


def test_ip_over_pflog_reads_behind_the_header() -> None:
    got = listing("ip and udp port 53", "PFLOG")
    assert got[3] == "(003) st       M[0]"
    assert got[5:7] == ["(005) ldb      [1]", "(006) jeq      #0x2             jt 7\tjf 43"]
    assert not any("4*([" in line for line in got)  # the IPv4 header is not at a fixed offset
    assert sum("ldx      M[0]" in line for line in got) == 7


# -- model: verdicts from the header bytes ------------------------------------------------


def pflog_packet(
    hdrlen: int, af: int, action: int, reason: int, ifname: bytes, ruleset: bytes,
    rulenr: int, subrulenr: int, direction: int, payload: bytes,
) -> bytes:  # fmt: skip
    """A pflog record: the 64-byte header, cut or padded to its rounded-up length."""
    header = bytes([hdrlen, af, action, reason]) + ifname.ljust(16, b"\0")
    header += ruleset.ljust(16, b"\0") + struct.pack("!II", rulenr, subrulenr)
    header += b"\0" * 16 + bytes([direction]) + b"\0" * 3
    start = (hdrlen + 3) & ~3
    return header[:start].ljust(start, b"\0") + payload


NAMES = st.from_regex(r"[g-j][a-h0-3]{0,14}", fullmatch=True).map(str.encode)  # ids: no number/MAC
PACKETS = st.builds(
    pflog_packet,
    st.sampled_from([0, 44, 61, 64, 69, 255]) | st.integers(0, 255),
    st.sampled_from([2, 10, 24, 0]),
    st.integers(0, 12),
    st.integers(0, 16),
    NAMES,
    NAMES,
    st.sampled_from([0, 1, 0xFFFFFFFF]) | st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 3),
    st.binary(max_size=40),
)


def _field(pkt: bytes, offset: int, size: int) -> int | None:
    if len(pkt) < offset + size:
        return None
    return int.from_bytes(pkt[offset : offset + size], "big")


@given(PACKETS, st.data())
def test_header_primitives_follow_the_header(pkt: bytes, data) -> None:  # noqa: ANN001
    kind = data.draw(st.sampled_from(["ifname", "ruleset", "rnr", "srnr", "reason", "action",
                                      "inbound", "outbound"]))  # fmt: skip
    if kind in ("ifname", "ruleset"):
        offset = 4 if kind == "ifname" else 20
        found = pkt[offset : offset + 4].rstrip(b"\0")
        found = found if re.fullmatch(rb"[g-j][a-h0-3]*", found) else b"x"
        name = data.draw(st.sampled_from([found]) | NAMES)
        expr = f"{kind} {name.decode()}"
        expected = pkt[offset : offset + len(name)] == name and len(pkt) >= offset + len(name)
        assert verdict(expr, "PFLOG", pkt) == (SNAPLEN if expected else 0)
        return
    if kind in ("inbound", "outbound"):
        value = _field(pkt, 60, 1)
        expected = value == (1 if kind == "inbound" else 2)
        assert verdict(kind, "PFLOG", pkt) == (SNAPLEN if expected else 0)
        return
    offset, size = {"rnr": (36, 4), "srnr": (40, 4), "reason": (3, 1), "action": (2, 1)}[kind]
    actual = _field(pkt, offset, size)
    if kind == "action":
        name = data.draw(st.sampled_from(sorted(PF_ACTIONS)))
        expr, wanted = f"action {name}", PF_ACTIONS[name]
    elif kind == "reason" and data.draw(st.booleans()):
        name = data.draw(st.sampled_from(sorted(PF_REASONS)))
        expr, wanted = f"reason {name}", PF_REASONS[name]
    else:
        wanted = data.draw(st.sampled_from([actual or 0]) | st.integers(0, 2 ** (8 * size) - 1))
        expr = f"{kind} {wanted}"
    expected = actual is not None and actual == wanted
    for optimize in (False, True):
        assert verdict(expr, "PFLOG", pkt, optimize) == (SNAPLEN if expected else 0)


@given(PACKETS, st.integers(0, 24), st.integers(0, 255))
def test_payload_starts_at_the_rounded_header_length(pkt: bytes, index: int, value: int) -> None:
    expr = f"ip[{index}] = {value}"
    if len(pkt) < 2:  # (a short header cut: the payload may start anywhere, even at 0)
        expected = False  # reading the length or the address family fails: 0
    else:
        start = (pkt[0] + 3) & ~3
        expected = pkt[1] == 2 and _field(pkt, start + index, 1) == value
    for optimize in (False, True):
        assert verdict(expr, "PFLOG", pkt, optimize) == (SNAPLEN if expected else 0)


# -- differential: the system libpcap (1.10.3 agrees with master on these) ----------------

DIFF_EXPRS = [
    "ifname eth0", "on em1", "rset main", "rnr 1", "rulenum 0", "srnr 4294967295",
    "reason match", "reason memory", "reason 2", "action pass", "action block",
    "action nat", "inbound", "outbound", "ip", "ip6", "tcp", "udp port 53",
    "ip host 10.0.0.1", "ip[9] = 6", "icmp[0] = 8", "tcp[13] & 2 != 0",
    "ip6 and ip6[6] = 17", "not ip and rnr 3", "(inbound and tcp) or (outbound and udp)",
    "ifname eth0 and action block and ip src net 10.0.0.0/8", "len > 100 and reason 0",
]  # fmt: skip


def _sample_packets(seed: str) -> list[bytes]:
    rng = random.Random(seed)
    ip4 = bytes.fromhex("4500003c00004000400600000a000001c0a80001")
    tcp = bytes.fromhex("0050003500000000000000005002000000000000")
    udp = bytes.fromhex("00350035000800000000")
    ip6 = bytes.fromhex("6000000000081140" + "00" * 15 + "01" + "00" * 15 + "02")
    out = []
    for _ in range(40):
        payload = rng.choice([ip4 + tcp, ip4[:9] + b"\x11" + ip4[10:] + udp, ip6 + udp, b""])
        out.append(pflog_packet(
            rng.choice([0, 45, 61, 64, 69, 255]), rng.choice([2, 10, 24]), rng.randrange(12),
            rng.randrange(16), rng.choice([b"eth0", b"em1", b"lo"]), rng.choice([b"main", b""]),
            rng.choice([0, 1, 3, 0xFFFFFFFF]), rng.choice([0, 4, 0xFFFFFFFF]), rng.randrange(4),
            payload,
        ))  # fmt: skip
    return out


@pytest.mark.parametrize("expr", DIFF_EXPRS)
def test_agrees_with_libpcap(expr: str) -> None:
    require_libpcap()
    problems = disagreements(expr, "PFLOG", _sample_packets(expr))
    assert not problems, "\n".join(problems[:3])


# -- compositions: state (the lazily taken offset register) must not leak between branches

COMPOSITION_POOL = [
    "ifname eth0", "rnr 1", "srnr 4", "reason memory", "action block", "inbound", "outbound",
    "ip", "ip6", "tcp", "udp port 53", "ip host 10.0.0.1", "ip[9] = 6", "tcp[13] & 2 != 0",
    "ip6[6] = 17", "len > 80", "link[1] = 2",
]  # fmt: skip


@settings(max_examples=100)  # each example compiles twice and runs ~100 packets
@given(compositions(COMPOSITION_POOL, max_leaves=5))
def test_compositions_agree_with_libpcap(expr: str) -> None:
    require_libpcap()
    problems = disagreements(expr, "PFLOG", _sample_packets("compositions"), optimize=(False,))
    assert not problems, problems[0]
