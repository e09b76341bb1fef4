"""The 802.11 family: IEEE802_11, PRISM_HEADER, IEEE802_11_RADIO(_AVS), PPI.

* listings: every upstream accept case of these link types that bpfc compiles is
  master's ``expected_unopt`` (the prologue, register numbers, block layout);
* models: what ``wlan host``/``ra``/``ta``/``addrN``, ``type``/``subtype``/``dir`` and the
  payload offset (802.11 header, QoS, radiotap padding, radio header lengths) mean,
  written from the 802.11 and radiotap layouts, checked on hypothesis-built captures;
* differential: the same captures through libpcap 1.10.3's programs, for expressions
  whose meaning 1.10.3 shares with master (1.10.3 has no ``type``/``dir`` on PPI and
  tests ``tcp[]`` on IPv6 too);
* errors: libpcap's messages for bad values, names and link types.
"""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpfc
from bpfc.codegen import vlhdr
from bpfc.errors import CompileError

FAMILY = ("IEEE802_11", "PRISM_HEADER", "IEEE802_11_RADIO", "IEEE802_11_RADIO_AVS", "PPI")
MAC = bytes.fromhex("0011223344aa")
OTHER = bytes.fromhex("0200000000bb")
BCAST = b"\xff" * 6
MCAST = bytes.fromhex("01005e000001")
ACCEPT = 262144


def _run(expr: str, linktype: str, data: bytes, optimize: bool = False) -> int:
    return _program(expr, linktype, optimize).run(data)


@cache
def _program(expr: str, linktype: str, optimize: bool) -> bpfc.Program:
    return bpfc.compile(expr, linktype, optimize=optimize)


# -- listings -------------------------------------------------------------------------------


def test_upstream_listings_are_masters(upstream: Path) -> None:
    from support.upstream_cases import cases, resolver

    compiled = matched = 0
    missing = []
    for rec in cases(upstream, "accept"):
        if rec["dlt"] not in FAMILY:
            continue
        try:
            prog = bpfc.compile(
                rec["expr"], rec["dlt"], rec.get("snaplen", 262144), False,
                rec.get("netmask"), resolver=resolver(upstream),
            )  # fmt: skip
        except CompileError as err:
            missing.append(f"{rec['dlt']} {rec['expr']}: {err}")
            continue
        compiled += 1
        if prog.dump("d").splitlines() == rec["expected_unopt"]:
            matched += 1
    assert matched == compiled, f"{compiled - matched} listings differ"
    # all but the encapsulations bpfc does not generate yet (vlan/geneve/vxlan on radiotap)
    assert compiled >= 709, missing


PROLOGUES = {
    # radio header length -> M[0], kept in X
    "IEEE802_11_RADIO": ["ldb [3]", "lsh #8", "tax", "ldb [2]", "or x", "st M[0]", "tax"],
    "PPI": ["ld [4]", "jeq #0x69000000", "ldb [3]", "lsh #8", "tax", "ldb [2]", "or x",
            "st M[0]", "tax"],
    "IEEE802_11_RADIO_AVS": ["ld [4]", "st M[0]", "tax"],
    "PRISM_HEADER": ["ld [0]", "and #0xfffff000", "jeq #0x80211000", "ld [4]", "ja 6",
                     "ld #0x90", "st M[0]", "tax"],
    "IEEE802_11": [],
}  # fmt: skip


def _ops(prog: bpfc.Program) -> list[str]:
    out = []
    for line in prog.dump("d").splitlines():
        op = " ".join(line[6:].split()[:2])
        out.append(op)
    return out


@pytest.mark.parametrize("linktype", FAMILY)
def test_prologue_loads_only_the_header_length_a_header_test_needs(linktype: str) -> None:
    ops = _ops(bpfc.compile("wlan dir tods", linktype, optimize=False))
    want = PROLOGUES[linktype]
    assert ops[: len(want)] == want
    # then the test itself, relative to the 802.11 header
    rest = ops[len(want) :]
    if linktype == "IEEE802_11":
        assert rest[:3] == ["ldb [1]", "and #0x3", "jeq #0x1"]
    else:
        assert rest[:4] == ["ldx M[0]", "ldb [x", "and #0x3", "jeq #0x1"]


def test_payload_offset_register_is_taken_at_first_use() -> None:
    # ip[1]: index M[0], result M[1], payload offset M[2], 802.11 header offset M[3]
    text = bpfc.compile("ip[1] = 2", "IEEE802_11_RADIO", optimize=False).dump("d")
    assert "(005) st       M[3]" in text  # radiotap length
    assert "(009) st       M[2]" in text  # 802.11 payload offset
    # no payload test: no 802.11 header length computation
    assert "add      #24" not in bpfc.compile("link[0] = 1", "PPI", optimize=False).dump("d")


def test_var_offset_allocates_lazily_once() -> None:
    from bpfc import linktypes
    from bpfc.codegen.state import CodegenState

    state = CodegenState.for_link(linktypes.lookup("PPI"))
    vlhdr.setup(state)
    assert state.off_linkpl.allocated is None
    state.alloc_reg()
    assert state.off_linkpl.reg == 1
    assert state.off_linkpl.reg == 1
    assert state.off_linkhdr.allocated is None
    assert vlhdr.prologue_stmts(state)[-1].k == 1  # st M[1] after the header length
    assert state.off_linkhdr.allocated == 2  # the payload offset needs the header's


# -- captures --------------------------------------------------------------------------------

FC0 = st.one_of(
    st.integers(0, 255),
    st.sampled_from([0x08, 0x88, 0x80, 0x40, 0xC4, 0xD4, 0xB4, 0x84, 0x0C, 0x8C, 0xC8]),
)


@st.composite
def prefixes(draw: st.DrawFn, linktype: str) -> tuple[bytes, bool]:
    """(radio header, whether radiotap says the 802.11 header is padded)."""
    if linktype == "IEEE802_11":
        return b"", False
    if linktype == "PPI":
        length = draw(st.integers(8, 24))
        dlt = draw(st.sampled_from([105, 105, 105, 1, 127]))
        return struct.pack("<BBHI", 0, 0, length, dlt) + bytes(length - 8), False
    if linktype == "IEEE802_11_RADIO_AVS" or (linktype == "PRISM_HEADER" and draw(st.booleans())):
        length = draw(st.integers(8, 72))
        return struct.pack(">II", 0x80211001, length) + bytes(length - 8), False
    if linktype == "PRISM_HEADER":
        return struct.pack("<II", 0x41, 144) + bytes(136), False
    tsft, flags, ext = draw(st.booleans()), draw(st.booleans()), draw(st.integers(0, 7)) == 0
    present = tsft | flags << 1 | ext << 31
    body = bytearray(draw(st.binary(min_size=10, max_size=10)))
    flag_byte = draw(st.sampled_from([0x00, 0x20, 0x20, 0x10, 0x22]))
    body[8 if tsft else 0] = flag_byte
    length = 8 + len(body) + draw(st.integers(0, 4))
    head = struct.pack("<BBHI", 0, 0, length, present) + bytes(body)
    padded = flags and not ext and bool(flag_byte & 0x20)
    return head + bytes(length - len(head)), padded


BODIES = st.sampled_from(
    [
        bytes.fromhex("aaaa030000000800")
        + bytes.fromhex("4500001c00010000401100000a0000010a000002")
        + bytes.fromhex("0035003500080000"),
        bytes.fromhex("aaaa0300000086dd") + bytes.fromhex("60000000000811fffe80") + bytes(6)
        + bytes.fromhex("00000000000000010000000000000000000000000000000200350035000800"),
        bytes.fromhex("aaaa030000000806") + bytes(28),
        bytes.fromhex("e0e003ffff"),
        b"",
    ]
)  # fmt: skip


@st.composite
def captures(draw: st.DrawFn, linktype: str) -> tuple[bytes, dict]:
    """A capture and the facts a model needs (frame control, where things are)."""
    prefix, padded = draw(prefixes(linktype))
    fc0, fc1 = draw(FC0), draw(st.integers(0, 255))
    addrs = [draw(st.sampled_from([MAC, OTHER, BCAST, MCAST])) for _ in range(4)]
    hdr = bytes([fc0, fc1, 0, 0]) + addrs[0] + addrs[1] + addrs[2] + b"\x10\x00" + addrs[3]
    data = fc0 & 0x0C == 0x08
    payload = 24 + (2 if data and fc0 & 0x80 else 0)
    if data and padded:
        payload = (len(prefix) + payload + 3 & ~3) - len(prefix)
    frame = bytearray(hdr)  # always 30 bytes: every address slot is loadable
    body = draw(BODIES)
    frame[payload : payload + len(body)] = body
    slots = [bytes(frame[o : o + 6]) for o in (4, 10, 16, 24)]
    facts = {"fc0": fc0, "fc1": fc1, "addrs": slots, "payload": len(prefix) + payload}
    return prefix + bytes(frame), facts


# -- models ----------------------------------------------------------------------------------


def _slots(fc0: int, fc1: int, qual: str) -> list[int]:
    """Which address slots (0-3) ``wlan QUAL host`` looks at for this frame control."""
    ctl_or_reserved, data = fc0 & 0x04, fc0 & 0x08
    tods, fromds = fc1 & 0x01, fc1 & 0x02
    cts_ack = fc0 & 0x0C == 0x04 and fc0 & 0xF0 in (0xC0, 0xD0)
    if qual == "src":
        if ctl_or_reserved:
            return []
        if not data or not fromds:
            return [1]
        return [3] if tods else [2]
    if qual == "dst":
        if ctl_or_reserved:
            return []
        return [2] if data and tods else [0]
    return {
        "ra": [0] if data else [],
        "ta": [1] if data and not cts_ack else [],
        "addr1": [0],
        "addr2": [] if cts_ack else [1],
        "addr3": [] if fc0 & 0x0C == 0x04 else [2],
        "addr4": [3] if fc1 & 0x03 == 0x03 else [],
    }[qual]


QUALS = ("src", "dst", "ra", "ta", "addr1", "addr2", "addr3", "addr4")


@pytest.mark.parametrize("linktype", FAMILY)
@given(data=st.data())
def test_address_qualifiers_follow_the_frame_control_model(linktype: str, data) -> None:
    pkt, f = data.draw(captures(linktype))
    ppi_ok = linktype != "PPI" or pkt[4] == 105
    for qual in QUALS:
        slots = _slots(f["fc0"], f["fc1"], qual)
        want = ppi_ok and any(f["addrs"][s] == MAC for s in slots)
        assert (_run(f"wlan {qual} host {MAC.hex(':')}", linktype, pkt) != 0) == want, qual
    src = _slots(f["fc0"], f["fc1"], "src")
    dst = _slots(f["fc0"], f["fc1"], "dst")
    either = ppi_ok and any(f["addrs"][s] == MAC for s in src + dst)
    assert (_run(f"wlan host {MAC.hex(':')}", linktype, pkt) != 0) == either
    bcast = ppi_ok and any(f["addrs"][s] == BCAST for s in dst)
    assert (_run("broadcast", linktype, pkt) != 0) == bcast
    mcast = ppi_ok and any(f["addrs"][s][0] & 1 for s in dst)
    assert (_run("multicast", linktype, pkt) != 0) == mcast


@pytest.mark.parametrize("linktype", FAMILY)
@given(data=st.data())
def test_type_subtype_dir_are_masked_frame_control_compares(linktype: str, data) -> None:
    pkt, f = data.draw(captures(linktype))
    ppi_ok = linktype != "PPI" or pkt[4] == 105
    type_ = data.draw(st.sampled_from([0x00, 0x04, 0x08, 0x0C]))
    subtype = data.draw(st.integers(0, 15)) << 4
    direction = data.draw(st.integers(0, 3))
    fc0, fc1 = f["fc0"], f["fc1"]
    assert (_run(f"type {type_}", linktype, pkt) != 0) == (ppi_ok and fc0 & 0x0C == type_)
    want = ppi_ok and fc0 & 0xFC == type_ | subtype
    assert (_run(f"type {type_} subtype {subtype}", linktype, pkt) != 0) == want
    assert (_run(f"dir {direction}", linktype, pkt) != 0) == (ppi_ok and fc1 & 3 == direction)
    assert (_run("llc", linktype, pkt) != 0) == (ppi_ok and fc0 & 0x0C == 0x08)


@pytest.mark.parametrize("linktype", FAMILY)
@given(data=st.data())
def test_payload_offset_covers_radio_header_qos_and_padding(linktype: str, data) -> None:
    pkt, f = data.draw(captures(linktype))
    ppi_ok = linktype != "PPI" or pkt[4] == 105
    is_data = f["fc0"] & 0x0C == 0x08
    off = f["payload"]
    ethertype = int.from_bytes(pkt[off + 6 : off + 8], "big") if len(pkt) >= off + 8 else None
    for expr, etype in (("ip", 0x0800), ("ip6", 0x86DD), ("arp", 0x0806)):
        want = ppi_ok and is_data and ethertype == etype
        assert (_run(expr, linktype, pkt) != 0) == want, expr
    if ppi_ok and is_data and ethertype == 0x0800:
        assert _run("ip[9] = 17", linktype, pkt) == ACCEPT
        assert _run("udp port 53", linktype, pkt) == ACCEPT


def _radiotap(length: int, tsft: bool, flags: int | None) -> bytes:
    present = int(tsft) | (flags is not None) << 1
    head = bytearray(struct.pack("<BBHI", 0, 0, length, present) + bytes(length - 8))
    if flags is not None:
        head[16 if tsft else 8] = flags
    return bytes(head)


@pytest.mark.parametrize("tsft", [False, True])
@pytest.mark.parametrize("fc0", [0x08, 0x88, 0x80])
@pytest.mark.parametrize("flags", [None, 0x00, 0x20])
def test_radiotap_padding_every_alignment(tsft: bool, fc0: int, flags: int | None) -> None:
    body = bytes.fromhex("aaaa030000000800") + bytes(20)
    for length in range(18, 26):
        prefix = _radiotap(length, tsft, flags)
        payload = 24 + (2 if fc0 == 0x88 else 0)
        if flags == 0x20 and fc0 & 0x0C == 0x08:
            payload = (length + payload + 3 & ~3) - length
        for shift in (0, 1, -1):
            frame = bytearray(bytes([fc0, 0, 0, 0]) + bytes(26))
            frame[payload + shift : payload + shift + len(body)] = body
            want = fc0 & 0x0C == 0x08 and shift == 0
            assert (_run("ip", "IEEE802_11_RADIO", prefix + frame) != 0) == want, (length, shift)


# -- differential: libpcap 1.10.3 ------------------------------------------------------------

DIFF_EXPRS = [
    "ip", "ip6", "arp", "udp port 53", "host 10.0.0.1", "ip6 host fe80::1",
    f"wlan host {MAC.hex(':')}", f"wlan src {MAC.hex(':')}", f"wlan dst {MAC.hex(':')}",
    f"wlan ra {MAC.hex(':')}", f"wlan ta {MAC.hex(':')}", f"wlan addr2 {MAC.hex(':')}",
    f"wlan addr3 {MAC.hex(':')}", f"wlan addr4 {MAC.hex(':')}", "broadcast", "multicast",
    "llc", "llc u", "ip[0] = 0x45", "link[1] & 3 = 1", "icmp6[0] = 128",
    "not llc or ip and udp[0:2] = 53",
]  # fmt: skip
TYPE_EXPRS = ["type mgt", "type ctl subtype cts", "subtype qos-data", "dir tods", "dir 3"]


def _diff_exprs(linktype: str) -> list[str]:
    return DIFF_EXPRS + (TYPE_EXPRS if linktype != "PPI" else [])


@cache
def _pair(expr: str, linktype: str, optimize: bool):
    from support.differential import bpfc_compile, bpfc_runner, libpcap_compile, libpcap_runner

    ours = bpfc_runner(bpfc_compile(expr, linktype, 262144, optimize, None))
    theirs = libpcap_runner(libpcap_compile(expr, linktype, 262144, optimize, None))
    return ours, theirs


@pytest.mark.parametrize("linktype", FAMILY)
@given(data=st.data())
def test_verdicts_agree_with_libpcap(linktype: str, data) -> None:
    from support.differential import require_libpcap

    require_libpcap()
    pkt, _ = data.draw(captures(linktype))
    caplen = data.draw(st.sampled_from([len(pkt), len(pkt), len(pkt) - 9, 30]))
    cap = pkt[: max(0, caplen)]
    for expr in _diff_exprs(linktype):
        for optimize in (False, True):
            ours, theirs = _pair(expr, linktype, optimize)
            assert ours(cap, len(pkt)) == theirs(cap, len(pkt)), (expr, optimize, cap.hex())


@pytest.mark.parametrize("linktype", FAMILY)
def test_packetgen_frames_agree_with_libpcap(linktype: str) -> None:
    from support.differential import check

    for expr in _diff_exprs(linktype)[:8]:
        problems = check(expr, linktype)
        assert not problems, str(problems[0])


# -- errors ----------------------------------------------------------------------------------

ERRORS = [
    ("IEEE802_11", "wlan type 16", "invalid 802.11 type value 0x10"),
    ("IEEE802_11", "wlan type 0 subtype 0xff", "invalid 802.11 subtype value 0xff"),
    ("IEEE802_11", "wlan dir 4", "invalid 802.11 direction value 0x4"),
    ("IEEE802_11", "wlan dir abc", "unknown 802.11 direction"),
    ("IEEE802_11", "wlan type foo", 'unknown 802.11 type name "foo"'),
    ("IEEE802_11", "wlan type mgt subtype cts", 'unknown 802.11 subtype name "cts"'),
    ("IEEE802_11", "wlan type 12 subtype beacon", "unknown 802.11 type"),
    ("IEEE802_11", "wlan subtype foo", "unknown 802.11 type name"),
    # value errors come first (libpcap finds them while parsing), then the link type
    ("EN10MB", "wlan type 16", "invalid 802.11 type value 0x10"),
    ("EN10MB", "wlan dir 4", "invalid 802.11 direction value 0x4"),
    ("EN10MB", "wlan type mgt", "'type/subtype' not supported on DLT_EN10MB (Ethernet)"),
    ("EN10MB", "subtype beacon", "'type/subtype' not supported on DLT_EN10MB (Ethernet)"),
    ("EN10MB", "dir tods", "'dir' not supported on DLT_EN10MB (Ethernet)"),
    ("EN10MB", "wlan ra 1:2:3:4:5:6", "'ra' is valid for 802.11 syntax only"),
    ("EN10MB", "radio[0] = 1", "radio information not present in capture"),
    ("IEEE802_11", "radio[0] = 1", "radio information not present in capture"),
    ("PPI", "radio[0] = 1", "radio information not present in capture"),
    ("IEEE802_11", "protochain 6", "'protochain' not supported with variable length headers"),
    ("IEEE802_11_RADIO", "addr1 port 80", "'addr1' is not a valid qualifier for 'port'"),
]


@pytest.mark.parametrize(("linktype", "expr", "message"), ERRORS)
def test_errors_are_libpcaps(linktype: str, expr: str, message: str) -> None:
    with pytest.raises(CompileError) as info:
        bpfc.compile(expr, linktype)
    assert message in str(info.value)


@pytest.mark.parametrize("linktype", FAMILY)
def test_names_and_numbers(linktype: str) -> None:
    from bpfc import linktypes

    row = linktypes.lookup(linktype)
    assert linktypes.lookup(row.dlt) is row
    assert linktypes.lookup(f"DLT_{linktype}") is row
    assert row.framing == "wlan" and row.mac == "wlan"


# -- compositions ----------------------------------------------------------------------------

ATOMS = [e for e in DIFF_EXPRS if "[" not in e] + ["ip[0] = 0x45", "link[0] & 0xc = 8"]


@st.composite
def compositions(draw: st.DrawFn, atoms: list[str], depth: int = 3) -> str:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(atoms))
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return f"not ({draw(compositions(atoms, depth - 1))})"
    left, right = draw(compositions(atoms, depth - 1)), draw(compositions(atoms, depth - 1))
    return f"({left}) {kind} ({right})"


@pytest.mark.parametrize("linktype", ["IEEE802_11", "IEEE802_11_RADIO", "PPI"])
@settings(max_examples=30)  # each example compiles two programs per side (~0.1 s)
@given(data=st.data())
def test_compositions_agree_with_libpcap(linktype: str, data) -> None:
    """and/or/not over primitives that share the prologue's registers: no state leaks
    from one branch into another (same verdicts as libpcap 1.10.3, both optimizations)."""
    from support.differential import Rejected, require_libpcap

    require_libpcap()
    atoms = ATOMS + (TYPE_EXPRS if linktype != "PPI" else [])
    expr = data.draw(compositions(atoms))
    packets = [data.draw(captures(linktype)) for _ in range(8)]
    for optimize in (False, True):
        try:
            ours, theirs = _pair(expr, linktype, optimize)
        except Rejected as err:  # both refuse a constant-false filter
            with pytest.raises(CompileError):
                bpfc.compile(expr, linktype, optimize=optimize)
            assert "rejects all packets" in str(err)
            continue
        for pkt, _ in packets:
            assert ours(pkt, len(pkt)) == theirs(pkt, len(pkt)), (expr, optimize, pkt.hex())
