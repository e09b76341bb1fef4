"""bpfc.packetgen: header fields round-trip, framing matches libpcap's offsets, and the
targeted generator really hits both verdicts of the expressions it aims at."""

from __future__ import annotations

import ipaddress
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.differential import libpcap_available
from support.strategies import compositions, frames

from bpfc.packetgen import LINKTYPES, Packet, extract, frame, targeted_packets, truncate
from bpfc.packetgen import ether as E
from bpfc.packetgen import inet as I
from bpfc.packetgen.compose import compose, pool
from bpfc.packetgen.explore import explore, trace

needs_libpcap = pytest.mark.skipif(not libpcap_available(), reason="system libpcap not available")


@given(st.binary(max_size=60))
def test_checksum_of_checksummed_data_is_zero(data):
    data = data + b"\0" * (len(data) % 2)
    csum = I.checksum(data + b"\0\0")
    assert I.checksum(data + struct.pack("!H", csum)) == 0


@given(
    st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 255),
    st.binary(max_size=40), st.binary(max_size=40), st.integers(0, 0x1FFF), st.booleans(),
)  # fmt: skip
def test_ipv4_fields_round_trip(src, dst, proto, options, payload, frag, mf):
    pkt = I.ipv4(src, dst, proto, payload, options=options, frag_offset=frag, mf=mf)
    ihl = (pkt[0] & 0xF) * 4
    assert pkt[0] >> 4 == 4 and ihl == 20 + len(options) + (-len(options) % 4)
    assert struct.unpack("!H", pkt[2:4])[0] == len(pkt)
    assert pkt[9] == proto and pkt[ihl:] == payload
    assert int.from_bytes(pkt[12:16], "big") == src and int.from_bytes(pkt[16:20], "big") == dst
    flags = struct.unpack("!H", pkt[6:8])[0]
    assert flags & 0x1FFF == frag and bool(flags & 0x2000) == mf
    assert I.checksum(pkt[:ihl]) == 0


@given(st.lists(st.sampled_from([0, 43, 44, 60, 51, 135]), max_size=5), st.integers(0, 255))
def test_ipv6_extension_chain_walks_to_the_last_protocol(chain, last):
    nxt, payload = I.ipv6_chain(chain, last, b"PAYLOAD")
    pkt = I.ipv6("2001:db8::1", "2001:db8::2", nxt, payload)
    assert struct.unpack("!H", pkt[4:6])[0] == len(pkt) - 40
    off, cur, seen = 40, pkt[6], []
    while cur in (0, 43, 44, 60, 51, 135) and len(seen) < len(chain):
        seen.append(cur)
        nxt_hdr, hlen = pkt[off], pkt[off + 1]
        off += 8 if cur == 44 else (hlen + 2) * 4 if cur == 51 else (hlen + 1) * 8
        cur = nxt_hdr
    assert seen == chain and cur == last and pkt[off:] == b"PAYLOAD"


@given(st.lists(st.integers(0, 2**20 - 1), min_size=1, max_size=5))
def test_mpls_bottom_of_stack_only_on_last_label(labels):
    data = E.mpls(labels, b"")
    words = [struct.unpack("!I", data[i : i + 4])[0] for i in range(0, len(data), 4)]
    assert [w >> 12 for w in words] == labels
    assert [(w >> 8) & 1 for w in words] == [0] * (len(labels) - 1) + [1]


def test_mac_spellings_agree():
    want = bytes.fromhex("0a0b0c0d0e0f")
    assert E.mac("a:b:c:d:e:f") == E.mac("0a-0b-0c-0d-0e-0f") == E.mac("0a0b.0c0d.0e0f") == want
    assert extract("ether host 0a0b.0c0d.0e0f or ether src a:b:c:d:e:f").macs == [want]


@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_extract_finds_cidr_networks(addr, plen):
    net = ipaddress.IPv4Network((addr, plen), strict=False)
    assert net in extract(f"src net {net} and tcp").nets4


@given(st.integers(0, 65535), st.integers(0, 65535))
def test_extract_finds_ports_and_ranges(a, b):
    lo, hi = min(a, b), max(a, b)
    c = extract(f"port {a} or portrange {lo}-{hi}")
    assert a in c.ports and (lo, hi) in c.ranges


def test_extract_number_bases():
    assert extract("ip[0x10] = 010 or len > 99").numbers == [16, 8, 99]


def test_targeted_is_deterministic_and_seeded():
    expr = "host 10.1.2.3 and portrange 100-200"
    assert targeted_packets(expr, seed=3) == targeted_packets(expr, seed=3)
    assert targeted_packets(expr, seed=3) != targeted_packets(expr, seed=4)


def test_targeted_plants_neighbours_of_ports_and_cidr_edges():
    blob = b"".join(p.data for p in targeted_packets("net 10.1.0.0/16 and portrange 100-200"))
    for addr in ("10.1.0.0", "10.1.255.255", "10.0.255.255", "10.2.0.0"):
        assert I.ip4(addr) in blob, addr
    for port in (99, 100, 101, 199, 200, 201):
        assert struct.pack("!H", port) in blob


@pytest.mark.parametrize("linktype", LINKTYPES)
def test_every_linktype_gets_packets_with_sane_lengths(linktype):
    pkts = targeted_packets("host 10.1.2.3 and udp port 53", linktype)
    assert len(pkts) > 50
    assert all(isinstance(p, Packet) and p.wirelen >= len(p.data) for p in pkts)
    assert any(p.wirelen > len(p.data) for p in pkts)  # truncated captures are included


@given(st.binary(max_size=100), st.integers(0, 120))
def test_truncate_keeps_prefix_and_wirelen(data, caplen):
    pkt = truncate(Packet(data, len(data) + 5), caplen)
    assert data.startswith(pkt.data) and len(pkt.data) == min(caplen, len(data))
    assert pkt.wirelen == len(data) + 5


@given(frames("EN10MB"))
def test_frames_strategy_yields_valid_records(pkt):
    assert pkt.wirelen >= len(pkt.data)


@given(compositions(["tcp", "port 80", "host 10.1.2.3"]))
def test_compositions_use_only_pool_primitives(expr):
    words = expr.replace("(", " ").replace(")", " ").replace("!", " ").split()
    allowed = {"tcp", "port", "80", "host", "10.1.2.3", "and", "or", "&&", "||", "not"}
    assert set(words) <= allowed


def test_compose_depth_and_determinism():
    a = [compose(pool("EN10MB"), random.Random(7)) for _ in range(3)]
    assert a == [compose(pool("EN10MB"), random.Random(7)) for _ in range(3)]
    deep = compose(["x"], random.Random(1), depth=0)
    assert deep == "x"


def test_trace_reports_masked_field_compare():
    # ldb [23]; and #0x12; jeq #0x12; ret #1; ret #0
    prog = [(0x30, 0, 0, 23), (0x54, 0, 0, 0x12), (0x15, 0, 1, 0x12), (6, 0, 0, 1), (6, 0, 0, 0)]
    (cmp,) = trace(prog, bytes(40), 40)
    assert (cmp.offset, cmp.size, cmp.mask, cmp.op, cmp.value) == (23, 1, 0x12, 0x10, 0x12)
    found = explore([prog], [Packet(bytes(40), 40)])
    assert any(p.data[23] & 0x12 == 0x12 for p in found)


# --- against libpcap: our framing puts the network layer where libpcap looks for it -----

FRAMING_CASES = [
    ("src host 1.2.3.4 and tcp dst port 80", 0x0800, I.ipv4("1.2.3.4", "5.6.7.8", 6, I.tcp(9, 80))),
    ("src host 2001:db8::1 and udp port 53", 0x86DD,
     I.ipv6("2001:db8::1", "2001:db8::2", 17, I.udp(9, 53))),
]  # fmt: skip


@needs_libpcap
@pytest.mark.parametrize("linktype", LINKTYPES)
def test_framing_matches_libpcap_offsets(linktype):
    from bpfc import libpcap

    checked = 0
    for expr, et, l3 in FRAMING_CASES:
        try:
            prog = libpcap.compile(expr, linktype)
        except libpcap.LibpcapError:
            continue  # a link type 1.10.3 cannot filter on (DSA tags) or that lacks IPv4/IPv6
        verdicts = [frame(linktype, et, l3, variant=v) for v in range(8)]
        verdicts = [libpcap.bpf_filter(prog, f) for f in verdicts if f is not None]
        assert any(verdicts), f"no framing variant of {linktype} matches {expr!r}"
        checked += 1
    if not checked:
        pytest.skip(f"libpcap 1.10.3 compiles no IP filter for {linktype}")


TARGET_EXPRS = [
    "host 10.1.2.3", "src net 192.168.0.0/16", "dst port 53", "tcp portrange 1000-1005",
    "ip6 dst net 2001:db8::/32", "ether src 0:1:2:3:4:5", "vlan 100 and udp", "mpls 16",
    "icmp", "ip[6:2] & 0x1fff != 0", "arp host 10.9.8.7", "pppoes 3 and ip", "less 80",
    "ip6 proto 17", "tcp[tcpflags] & tcp-syn != 0",
]  # fmt: skip


@needs_libpcap
@pytest.mark.parametrize("expr", TARGET_EXPRS)
def test_targeted_set_hits_both_verdicts(expr):
    from bpfc import libpcap

    prog = libpcap.compile(expr, "EN10MB")
    run = libpcap.make_bpf_filter(prog)
    pkts = targeted_packets(expr)
    pkts += explore([prog], pkts)
    accepted = sum(1 for p in pkts if run(p.data, p.wirelen))
    assert 0 < accepted < len(pkts), f"{accepted} of {len(pkts)} accepted"


LINK_TARGETS = [
    ("IEEE802_11", "wlan type mgt subtype beacon"), ("IEEE802_11", "type ctl subtype ack"),
    ("IEEE802_11_RADIO", "wlan addr2 2:0:0:0:0:1"), ("IEEE802_11", "dir tods"),
    ("PRISM_HEADER", "type data subtype qos-data"), ("IEEE802_11_RADIO_AVS", "wlan ra 2:0:0:0:0:2"),
    ("MTP2", "sio 3 and dpc 5"), ("MTP2", "hmsu"), ("MTP2", "opc 6 and sls 2"), ("MTP2", "lssu"),
]  # fmt: skip


@needs_libpcap
@pytest.mark.parametrize("linktype,expr", LINK_TARGETS)
def test_link_specific_frames_hit_both_verdicts(linktype, expr):
    from bpfc import libpcap

    run = libpcap.make_bpf_filter(libpcap.compile(expr, linktype))
    pkts = targeted_packets(expr, linktype)
    accepted = sum(1 for p in pkts if run(p.data, p.wirelen))
    assert 0 < accepted < len(pkts), f"{accepted} of {len(pkts)} accepted"


def test_trace_follows_scratch_memory_and_constant_addends():
    # Unoptimized shape of `ip[2:2] - 20 > 30`: ldh [16]; st M[1]; ld #20; st M[2];
    # ldx M[2]; ld M[1]; sub x; jgt #30 -> the field must exceed 50.
    prog = [(0x28, 0, 0, 16), (0x02, 0, 0, 1), (0x00, 0, 0, 20), (0x02, 0, 0, 2),
            (0x61, 0, 0, 2), (0x60, 0, 0, 1), (0x1C, 0, 0, 0), (0x25, 0, 1, 30),
            (6, 0, 0, 1), (6, 0, 0, 0)]  # fmt: skip
    (cmp,) = trace(prog, bytes(40), 40)
    assert (cmp.offset, cmp.size, cmp.op, cmp.value) == (16, 2, 0x20, 50)
    found = explore([prog], [Packet(bytes(40), 40)])
    assert any(int.from_bytes(p.data[16:18], "big") > 50 for p in found)


@given(
    st.text(max_size=60) | st.from_regex(r"[0-9a-f:./\- ]{0,40}", fullmatch=True),
    st.sampled_from(["EN10MB", "MTP2", "IEEE802_11_RADIO", "PFLOG", "ARCNET"]),
)
def test_extract_and_targeted_accept_any_text(text, linktype):
    extract(text)  # must not raise on broken or hostile expressions
    pkts = targeted_packets(text, linktype, random_count=2, truncated=1)
    assert pkts and all(p.wirelen >= len(p.data) for p in pkts)


def test_names_resolve_to_planted_addresses():
    from bpfc.packetgen import names_from_fixtures

    names = names_from_fixtures(
        hosts=["10.20.30.40 Host-A.test alias", "fd00::1 host-a.test"],
        ethers=["aa:00:04:00:14:0e host-a.test"],
        networks=["net-b.test 10.20.0.0"],
    )
    c = extract("host HOST-A.TEST or net net-b.test", names)
    assert ipaddress.IPv4Network("10.20.30.40/32") in c.nets4
    assert ipaddress.IPv4Network("10.20.0.0/16") in c.nets4
    assert ipaddress.IPv6Network("fd00::1/128") in c.nets6
    assert bytes.fromhex("aa000400140e") in c.macs
    blob = b"".join(p.data for p in targeted_packets("host alias", names=names))
    assert I.ip4("10.20.30.40") in blob
