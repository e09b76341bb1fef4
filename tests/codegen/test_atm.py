"""SunATM: listings as libpcap master's, refusals with its messages, verdicts as a model of
the ATM pseudo-header says, and as the system libpcap's (where 1.10.3 agrees with master)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("bpfc.syntax.parse")

from support.differential import require_libpcap  # noqa: E402
from support.linkfield_helpers import SNAPLEN, corpus_cases, disagreements, listing, verdict  # noqa: E402
from support.strategies import compositions  # noqa: E402

from bpfc import libpcap  # noqa: E402
from bpfc.errors import CompileError  # noqa: E402
from bpfc.isa.dump import dump_d  # noqa: E402

ATM_WORDS = ("vpi", "vci", "lane", "oam", "oamf4", "oamf4ec", "oamf4sc", "metac", "bcc", "sc",
             "ilmic", "connectmsg", "metaconnect")  # fmt: skip


def test_upstream_listings_are_masters(upstream) -> None:  # noqa: ANN001
    recs = corpus_cases(upstream, "accept", dlts=["SUNATM"])
    assert len(recs) >= 39
    wrong = [r["id"] for r in recs if listing(r["expr"], "SUNATM", upstream) != r["expected_unopt"]]
    assert not wrong


def test_upstream_rejects_have_masters_message(upstream) -> None:  # noqa: ANN001
    recs = corpus_cases(upstream, "reject", dlts=["SUNATM"], words=ATM_WORDS)
    assert len(recs) > 150
    for rec in recs:
        with pytest.raises(CompileError) as info:
            listing(rec["expr"], rec["dlt"], upstream, optimize=True)
        assert rec["errstr"] in info.value.message, rec["id"]


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ATM_WORDS)
@pytest.mark.parametrize("dlt", ["EN10MB", "PFLOG", "MTP2", "ATM_RFC1483"])
def test_refused_off_sunatm(word: str, dlt: str) -> None:
    expr = f"{word} 1" if word in ("vpi", "vci") else word
    with pytest.raises(CompileError) as info:
        listing(expr, dlt)
    assert info.value.message == f"'{word}' supported only on SUNATM"


@pytest.mark.parametrize("word", ["vpi 1", "vci 1", "lane", "oam", "connectmsg"])
def test_refused_after_lane_as_master(word: str) -> None:
    """``lane`` makes the link type Ethernet, so ATM fields are gone (1.10.3 read them
    at the shifted header instead)."""
    with pytest.raises(CompileError, match="supported only on SUNATM"):
        listing(f"lane and {word}", "SUNATM")
    if word != "lane":
        got = listing(f"{word} and lane", "SUNATM")  # before ``lane`` they are fine
        assert any(line.endswith("ldb      [0]") for line in got)


@pytest.mark.parametrize(
    ("limit", "beyond", "message"),
    [("vpi 255", "vpi 256", "VPI 256 greater than maximum 255"),
     ("vpi > 255", "vpi > 300", "VPI 300 greater than maximum 255"),
     ("vci 65535", "vci 65536", "VCI 65536 greater than maximum 65535"),
     ("vci (1 or 65535)", "vci (1 or 70000)", "VCI 70000 greater than maximum 65535"),
     ("link proto 255", "link proto 300", "LLC DSAP 300 greater than maximum 255"),
     ("lane and link proto 1501", "lane and link proto 1000",
      "LLC DSAP 1000 greater than maximum 255")],
)  # fmt: skip
def test_values_out_of_range(limit: str, beyond: str, message: str) -> None:
    assert listing(limit, "SUNATM")[-1].endswith("ret      #0")  # the limit itself compiles
    with pytest.raises(CompileError, match=f"^{message}$"):
        listing(beyond, "SUNATM")


def test_range_is_checked_after_the_link_type() -> None:
    with pytest.raises(CompileError, match="'vpi' supported only on SUNATM"):
        listing("vpi 256", "EN10MB")


@pytest.mark.parametrize("expr", ["broadcast", "multicast", "ether host 1:2:3:4:5:6", "inbound"])
def test_no_mac_layer_without_lane(expr: str) -> None:
    with pytest.raises(CompileError, match="DLT_SUNATM"):
        listing(expr, "SUNATM")


# -- LANE: the same listing as libpcap 1.10.3 (which agrees with master there: not for
# ``ip host``, which 1.10.3 tests the link type twice for, nor arithmetic relations) ------

LANE_EXPRS = [
    "lane and ether host 1:2:3:4:5:6", "lane and ether src 1:2:3:4:5:6",
    "lane and ether dst 1:2:3:4:5:6", "lane and broadcast", "lane and multicast",
    "lane and ip", "lane and ip proto 17", "lane and tcp port 80", "lane and llc", "lane and llc u",
    "lane and arp", "lane and ether proto 0x88cc", "lane and decnet", "lane and ipx",
    "lane and stp", "lane and ip6 and udp", "llc i", "llc s", "ip or arp", "ipx", "stp",
]  # fmt: skip


@pytest.mark.parametrize("expr", LANE_EXPRS)
def test_unoptimized_listing_as_libpcap(expr: str) -> None:
    require_libpcap()
    theirs = dump_d([tuple(i) for i in libpcap.compile(expr, "SUNATM", SNAPLEN, False)])
    assert listing(expr, "SUNATM") == theirs.splitlines()


# -- model: verdicts from the pseudo-header ------------------------------------------------

OPS = {"=": int.__eq__, "!=": int.__ne__, ">": int.__gt__, ">=": int.__ge__,
       "<": int.__lt__, "<=": int.__le__}  # fmt: skip
MESSAGES = {"connectmsg": {5, 2, 7, 15, 0x4D, 0x5A}, "metaconnect": {5, 2, 7, 0x4D, 0x5A}}
CIRCUITS = {"metac": 1, "bcc": 2, "oamf4sc": 3, "oamf4ec": 4, "sc": 5, "ilmic": 16}

FRAMES = st.builds(
    lambda flags, vpi, vci, body: bytes([flags, vpi]) + vci.to_bytes(2, "big") + body,
    st.sampled_from([0x01, 0x02, 0x81, 0x82, 0x00, 0x12]) | st.integers(0, 255),
    st.sampled_from([0, 1, 255]) | st.integers(0, 255),
    st.sampled_from([0, 1, 2, 3, 4, 5, 16, 0xFFFF]) | st.integers(0, 0xFFFF),
    st.binary(max_size=12),
)


@given(FRAMES, st.sampled_from(["vpi", "vci"]), st.sampled_from(sorted(OPS)), st.data())
def test_fields_compare_as_numbers(frame: bytes, field: str, op: str, data) -> None:  # noqa: ANN001
    actual = frame[1] if field == "vpi" else int.from_bytes(frame[2:4], "big")
    top = 0xFF if field == "vpi" else 0xFFFF
    value = data.draw(st.sampled_from([actual, max(actual - 1, 0), min(actual + 1, top)]))
    expected = OPS[op](actual, value)
    for optimize in (False, True):
        try:
            got = verdict(f"{field} {op} {value}", "SUNATM", frame, optimize)
        except CompileError as err:  # always true/false: libpcap's optimizer refuses those
            assert optimize and "rejects all packets" in err.message
            continue
        assert got == (SNAPLEN if expected else 0)


@given(FRAMES, st.sampled_from(sorted(CIRCUITS) + ["oam", "oamf4", "connectmsg",
                                                    "metaconnect", "lane", "llc"]))  # fmt: skip
def test_abbreviations_follow_the_header(frame: bytes, word: str) -> None:
    vpi, vci = frame[1], int.from_bytes(frame[2:4], "big")
    if word in CIRCUITS:
        expected = vpi == 0 and vci == CIRCUITS[word]
    elif word in ("oam", "oamf4"):
        expected = vpi == 0 and vci in (3, 4)
    elif word in MESSAGES:
        circuit = 5 if word == "connectmsg" else 1
        # a short frame fails the load of the message type: the program returns 0
        expected = vpi == 0 and vci == circuit and len(frame) > 9 and frame[9] in MESSAGES[word]
    else:
        expected = frame[0] & 0x0F == (1 if word == "lane" else 2)
    assert verdict(word, "SUNATM", frame) == (SNAPLEN if expected else 0)


# -- differential: the system libpcap, on LLC and LANE frames ------------------------------

DIFF_EXPRS = [
    "vpi 10", "vpi > 100", "vpi >= 101", "vpi <= 102", "vpi < 103", "vpi (0 or 10 or 255)",
    "vci 20", "vci > 20001", "vci < 5", "vci (3 or 4 or 16)", "metac", "bcc", "oamf4sc",
    "oamf4ec", "oam", "sc", "ilmic", "connectmsg", "metaconnect", "lane", "llc", "llc u",
    "ip", "arp", "ip6", "tcp port 80", "host 10.0.0.1", "ip and vci 32", "vpi 0 and not lane",
    "lane and ip", "lane and tcp dst port 80", "lane and broadcast", "lane and multicast",
    "lane and ether src 02:00:00:00:00:01", "lane and arp", "lane and llc",
    "vpi 0 and (lane and ip6)", "llc and ip[9] = 17",
]  # fmt: skip


def _frames(seed: str) -> list[bytes]:
    from bpfc.packetgen.ether import snap

    rng = random.Random(seed)
    ip4 = bytes.fromhex("4500002800004000400600000a000001c0a80001")
    tcp = bytes.fromhex("0035005000000000000000005002000000000000")
    ether = bytes.fromhex("ffffffffffff020000000001") + b"\x08\x00" + ip4 + tcp
    out = []
    for _ in range(60):
        vpi, vci = rng.choice([0, 10, 101, 255]), rng.choice([1, 2, 3, 4, 5, 16, 20, 32, 20002])
        kind = rng.choice(["llc", "lane", "lane-control", "other"])
        if kind == "llc":
            body = snap(rng.choice([0x0800, 0x0806, 0x86DD]), ip4 + tcp)
        elif kind.startswith("lane"):
            le = b"\xff\x00" if kind == "lane-control" else b"\x00\x01"
            body = le + ether[: rng.choice([len(ether), 30, 12])]
        else:
            body = bytes([0x09, 0x05, rng.choice([2, 5, 7, 15, 0x4D, 0x5A, 1])]) + b"\0" * 8
        flags = {"llc": 0x02, "lane": 0x01, "lane-control": 0x01}.get(kind, rng.randrange(256))
        out.append(bytes([flags | rng.choice([0, 0x80]), vpi]) + vci.to_bytes(2, "big") + body)
    return out


@pytest.mark.parametrize("expr", DIFF_EXPRS)
def test_agrees_with_libpcap(expr: str) -> None:
    require_libpcap()
    problems = disagreements(expr, "SUNATM", _frames(expr))
    assert not problems, "\n".join(problems[:3])


# -- compositions: ``lane`` moves every offset after it, so it only leads a LANE pool ------

LLC_POOL = [
    "vpi 10", "vpi > 100", "vci 20", "vci < 5", "oam", "sc", "metac", "connectmsg", "llc",
    "ip", "arp", "tcp port 80", "host 10.0.0.1", "ip[9] = 17", "len > 60",
]  # fmt: skip
LANE_POOL = [
    "ip", "arp", "tcp dst port 80", "broadcast", "multicast", "ether src 02:00:00:00:00:01",
    "llc", "ether proto 0x88cc", "len > 60",
]  # fmt: skip


@settings(max_examples=100)  # each example compiles twice and runs ~100 packets
@given(compositions(LLC_POOL, max_leaves=5) | compositions(LANE_POOL, max_leaves=4).map(
    lambda e: f"lane and ({e})"
))  # fmt: skip
def test_compositions_agree_with_libpcap(expr: str) -> None:
    require_libpcap()
    problems = disagreements(expr, "SUNATM", _frames("compositions"), optimize=(False,))
    assert not problems, problems[0]
