"""Encapsulations: ``pppoed``, ``pppoes``, ``geneve``, ``vxlan`` and the Linux live ``vlan``.

* master's listings for every upstream accept case using them (``linuxext`` ones with
  ``linux=True``), and master's error messages;
* differential against the system libpcap 1.10.3 (which has Geneve but not VXLAN) on
  packet sets and hypothesis frames, single primitives and random compositions mixing
  encapsulations with IP/transport primitives in both orders.  Programs that read a
  scratch register before any store on some path are left out: libpcap's
  ``bpf_filter`` does not initialize M[], so such verdicts are undefined (master emits
  them for e.g. ``not geneve and ip``, whose ``ip`` reads the tunnel's registers);
* VXLAN against master's listings assembled, and transparency properties that need no
  oracle: ``vxlan and P`` on a tunnelled frame is ``P`` on the inner frame (likewise
  ``geneve`` with options, ``pppoes``), and a ``linux=True`` program on a frame whose
  tag the kernel stripped gives the offline program's verdict on the tagged frame.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import uuid
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("bpfc.syntax.parse")

from support.differential import (  # noqa: E402
    Rejected,
    check,
    libpcap_compile,
    listing_compile,
    require_libpcap,
)
from support.strategies import ADDR4, ADDR6, MACS, PORT, compositions, network_packets  # noqa: E402

import bpfc  # noqa: E402
from bpfc.errors import CompileError, ValidationError  # noqa: E402
from bpfc.isa.validation import validate  # noqa: E402
from bpfc.packetgen import ether as E  # noqa: E402
from bpfc.packetgen import inet as I  # noqa: E402
from bpfc.packetgen import packet_set  # noqa: E402
from bpfc.packetgen.compose import compose  # noqa: E402

MINE = re.compile(r"\b(pppoed|pppoes|geneve|vxlan)\b")


@cache
def _records(upstream: Path) -> tuple[dict, ...]:
    with open(upstream / "libpcap-filtertests.jsonl", encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh)


def _mine(rec: dict) -> bool:
    return bool(MINE.search(rec.get("expr") or "")) or bool(rec.get("linuxext"))


def _listing(expr: str, dlt: str = "EN10MB", linux: bool = False, snaplen: int = 262144):
    prog = bpfc.compile(expr, linktype=dlt, optimize=False, linux=linux, snaplen=snaplen)
    return prog.dump("d").rstrip("\n").split("\n")


# -- master's listings and messages ---------------------------------------------------------


def test_upstream_listings(upstream: Path) -> None:
    cases = [r for r in _records(upstream) if r["kind"] == "accept" and _mine(r)]
    assert len(cases) >= 20  # 8 tunnel, 4 PPPoE, 12 linuxext
    bad = []
    for rec in cases:
        got = _listing(rec["expr"], rec["dlt"], bool(rec.get("linuxext")),
                       int(rec.get("snaplen") or 262144))  # fmt: skip
        if got != rec["expected_unopt"]:
            bad.append(rec["id"])
    assert not bad, bad


def test_upstream_rejects(upstream: Path) -> None:
    cases = [r for r in _records(upstream) if r["kind"] == "reject" and _mine(r)]
    cases += [r for r in _records(upstream) if r["kind"] == "reject" and not r.get("generated")
              and re.search(r"\b(vlan|mpls)\b", r.get("expr") or "")]  # fmt: skip
    assert len(cases) >= 13
    for rec in cases:
        with pytest.raises(CompileError) as info:
            bpfc.compile(rec["expr"], linktype=rec["dlt"])
        assert rec["errstr"] in str(info.value), rec["id"]


@pytest.mark.parametrize(
    ("expr", "linux", "message"),
    [
        ("pppoes 65536", False, "PPPoE session number 65536 greater than maximum 65535"),
        ("pppoes and vlan", False, "'vlan' not supported on DLT_PPP (Point-to-Point Protocol)"),
        (
            "pppoes and ether host 02:00:00:00:00:01",
            False,
            "not supported on DLT_PPP (Point-to-Point Protocol)",
        ),
        ("geneve 16777216", False, "Geneve VNI 16777216 greater than maximum 16777215"),
        ("vxlan 16777216", False, "VXLAN VNI 16777216 greater than maximum 16777215"),
        ("vxlan and protochain 6", False, "not supported with variable length headers"),
        ("ip or geneve and gateway host.invalid.", False, "cannot be used within VXLAN or Geneve"),
        ("vlan 4096", True, "VLAN tag 4096 greater than maximum 4095"),
        ("mpls and vlan", True, "no VLAN match after MPLS"),
        ("inbound", False, "not a live capture, 'inbound' not supported on DLT_EN10MB (Ethernet)"),
        (
            "outbound",
            False,
            "not a live capture, 'outbound' not supported on DLT_EN10MB (Ethernet)",
        ),
        (
            "ifindex 3",
            False,
            "not a live capture, 'ifindex' not supported on DLT_EN10MB (Ethernet)",
        ),
    ],
)
def test_errors(expr: str, linux: bool, message: str) -> None:
    with pytest.raises(CompileError) as info:
        bpfc.compile(expr, linux=linux)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("expr", "where"),
    [("ip and pppoes 70000", "pppoes 70000"), ("geneve 2 or geneve 99999999", "geneve 99999999"),
     ("vxlan 99999999", "vxlan 99999999"), ("vxlan and gateway h", "gateway h")],
)  # fmt: skip
def test_error_positions(expr: str, where: str) -> None:
    with pytest.raises(CompileError) as info:
        bpfc.compile(expr)
    assert info.value.span is not None
    start, end = info.value.span
    assert expr[start:end] == where


def test_offsets_after_pppoes_are_ppp() -> None:
    """``pppoes and ip``: PPP protocol 0x0021 right after the 6-byte PPPoE header."""
    assert _listing("pppoes and ip") == [
        "(000) ldh      [12]",
        "(001) jeq      #0x8864          jt 2\tjf 5",
        "(002) ldh      [20]",
        "(003) jeq      #0x21            jt 4\tjf 5",
        "(004) ret      #262144",
        "(005) ret      #0",
    ]


def test_linux_inbound_outbound_ifindex_use_ancillary_loads() -> None:
    assert _listing("outbound", linux=True)[0] == "(000) ldh      [type]"
    assert _listing("ifindex 3", linux=True)[0] == "(000) ld       [ifidx]"
    assert "[vlanp]" in "\n".join(_listing("vlan", linux=True))
    assert "[vlanp]" not in "\n".join(_listing("vlan"))  # offline: the tag is in the data
    # only the outermost tag can have been stripped: a vlan inside a tunnel is offline
    assert "\n".join(_listing("vxlan and vlan", linux=True)).count("[vlanp]") == 0


# -- differential against libpcap 1.10.3 ---------------------------------------------------

PRIMITIVES = [
    "pppoed", "pppoes", "pppoes 1234", "pppoes and ip", "pppoes 7 and tcp port 80",
    "pppoes and ip6 host 2001:db8::1", "pppoes and udp", "pppoes and mpls 100",
    "pppoes and pppoes", "geneve", "geneve 42", "geneve and ip", "geneve and tcp port 80",
    "geneve and ip6", "geneve 42 and udp port 53", "tcp port 80 or (geneve and tcp port 80)",
    "geneve and vlan 10", "vlan and geneve", "vlan 100 and geneve and ip host 10.1.2.3",
    "geneve and geneve", "geneve and mpls", "mpls and geneve", "not geneve",
    "geneve and ether host 02:00:00:00:00:01", "pppoes or (geneve and ip)",
    "tcp port 80 or vlan and tcp port 80",
    "geneve and pppoes and ip", "udp or ip and geneve 7", "geneve and (tcp or udp port 53)",
]  # fmt: skip


@pytest.mark.parametrize("expr", PRIMITIVES)
def test_primitives_agree_with_libpcap(expr: str) -> None:
    assert _defined(expr)
    problems = check(expr, "EN10MB")
    assert not problems, str(problems[0])


OTHER_LINKS = [
    ("FDDI", "pppoes 3 and ip"), ("FDDI", "pppoes and tcp port 80"), ("IEEE802_11", "pppoes 3"),
    ("IEEE802_11", "pppoes 3 and ip"), ("LINUX_SLL", "pppoes 3 and udp"), ("LINUX_SLL", "geneve"),
    ("LINUX_SLL2", "geneve 5 and tcp"), ("RAW", "geneve and ip6"), ("NULL", "geneve 5"),
    ("PPP", "pppoed"), ("NETANALYZER", "pppoes 1 and ip6"), ("C_HDLC", "geneve and udp"),
]  # fmt: skip


@pytest.mark.parametrize(("linktype", "expr"), OTHER_LINKS)
def test_other_links_agree_with_libpcap(linktype: str, expr: str) -> None:
    """Offsets after an LLC/SNAP header (the session id follows it too), cooked headers..."""
    program = bpfc.compile(expr, linktype=linktype, optimize=False)
    validate([tuple(i) for i in program], strict=True)
    problems = check(expr, linktype)
    assert not problems, str(problems[0])


def _defined(expr: str) -> bool:
    """Whether both programs only read scratch registers they wrote (else: undefined)."""
    try:
        for insns in (
            [tuple(i) for i in bpfc.compile(expr, optimize=False)],
            libpcap_compile(expr, "EN10MB", 262144, False, None),
        ):
            validate(insns, strict=True)
    except ValidationError as err:
        if err.rule == "uninit-scratch":
            return False
        raise
    except (CompileError, Rejected):  # refused: check() compares the refusals
        pass
    return True


COMPOSE_POOL = (
    "pppoed", "pppoes", "pppoes 3", "geneve", "geneve 100", "vlan", "vlan 100", "mpls",
    "ip", "ip6", "tcp", "udp", "tcp port 80", "udp port 53", "host 10.1.2.3",
    "ip6 host 2001:db8::2", "icmp", "ether broadcast", "len > 100", "ip[8] > 64",
)  # fmt: skip


@given(st.integers(0, 2**32 - 1))
def test_random_compositions_agree_with_libpcap(seed: int) -> None:
    require_libpcap()
    expr = compose(COMPOSE_POOL, random.Random(seed), depth=3)
    if not _defined(expr):
        return
    problems = check(expr, "EN10MB", optimize=(False,))
    assert not problems, str(problems[0])


# -- VXLAN (newer than 1.10.3): master's listings, transparency --------------------------------


TUNNEL_CASES = [
    "vxlan_nullary", "vxlan_unary", "vxlan_and_vxlan", "vxlan_and_tcp_index_IEEE802_11_RADIO",
    "geneve_and_tcp_index_IEEE802_11_RADIO",
]  # fmt: skip


@pytest.mark.parametrize("name", TUNNEL_CASES)
def test_tunnels_agree_with_master_listing(upstream: Path, name: str) -> None:
    """Optimized and not, against master's listings (radiotap: as buggy as master's)."""
    rec = next(r for r in _records(upstream) if r["id"] == f"accept:{name}:0")
    reference = listing_compile(rec["expected_opt"], rec["expected_unopt"])
    refs = [reference(rec["expr"], rec["dlt"], 262144, opt, None) for opt in (True, False)]
    packets = packet_set(rec["expr"], rec["dlt"], refs, seed=0, steered=40)
    problems = check(rec["expr"], rec["dlt"], packets, reference=reference, reference_runner=_vm)
    assert not problems, str(problems[0])


def _vm(insns):  # noqa: ANN001, ANN202 - master's listing, by bpfc's interpreter
    from bpfc.vm import make_filter

    return make_filter(insns)


INNER = [
    "ip", "ip6", "arp", "tcp", "udp port 53", "tcp dst port 80", "host 10.1.2.3",
    "ip6 host fe80::1", "ip src net 10.0.0.0/8", "icmp", "ip[8] > 64", "tcp[13] & 2 != 0",
    "ip proto 47", "udp[4:2] > 12", "ether host 02:00:00:00:00:01", "ether broadcast",
    "vlan", "vlan 5 and ip", "not ip",
]  # fmt: skip


def _run(expr: str, data: bytes, **kw) -> int:  # noqa: ANN003
    return bpfc.compile(expr, optimize=False, **kw).run(data)


@st.composite
def inner_frames(draw) -> bytes:  # noqa: ANN001
    et, l3 = draw(network_packets())
    tags = ((0x8100, draw(st.integers(0, 0xFFFF))),) if draw(st.integers(0, 3)) == 0 else ()
    return E.ether(draw(MACS), draw(MACS), et, l3, tags=tags)


def _outer(draw, payload: bytes, port: int) -> bytes:  # noqa: ANN001
    udp = I.udp(draw(PORT), port, payload)
    if draw(st.booleans()):
        ip = I.ipv4(draw(ADDR4), draw(ADDR4), 17, udp,
                    options=draw(st.sampled_from([b"", b"\x01" * 4, b"\x01" * 12])))  # fmt: skip
        return E.ether(draw(MACS), draw(MACS), 0x0800, ip)
    return E.ether(draw(MACS), draw(MACS), 0x86DD, I.ipv6(draw(ADDR6), draw(ADDR6), 17, udp))


@given(st.data(), inner_frames(), st.sampled_from(INNER), st.integers(0, 0xFFFFFF))
def test_vxlan_and_p_is_p_on_the_inner_frame(data, inner, prim, vni) -> None:  # noqa: ANN001
    frame = _outer(data.draw, I.vxlan(vni, inner), 4789)
    expected = _run(prim, inner)
    assert _run(f"vxlan and {prim}", frame) == expected
    assert _run(f"vxlan {vni} and ({prim})", frame) == expected
    assert _run(f"vxlan {(vni + 1) % 2**24} and ({prim})", frame) == 0


@given(st.data(), inner_frames(), st.sampled_from(INNER), st.integers(0, 63))
def test_geneve_and_p_is_p_on_the_inner_frame(data, inner, prim, options) -> None:  # noqa: ANN001
    frame = _outer(data.draw, I.geneve(9, inner, opt_len=options), 6081)
    assert _run(f"geneve 9 and ({prim})", frame) == _run(prim, inner)


@given(st.data(), network_packets(), st.sampled_from(INNER[:14]))
def test_geneve_without_ethernet_is_the_network_layer(data, l3, prim) -> None:  # noqa: ANN001
    """A Geneve payload that is not an Ethernet frame: its protocol field is the ethertype."""
    et, payload = l3
    src, dst = data.draw(MACS), data.draw(MACS)
    frame = _outer(data.draw, I.geneve(1, payload, proto=et), 6081)
    plain = E.ether(dst, src, et, payload)
    if "ether" in prim:
        return
    assert _run(f"geneve and {prim}", frame) == _run(prim, plain)


@given(network_packets(), st.sampled_from(INNER[:14]), st.integers(0, 0xFFFF))
def test_pppoes_and_p_is_p_on_the_session_payload(l3, prim, session) -> None:  # noqa: ANN001
    et, payload = l3
    if et not in E.PPP_PROTO or "ether" in prim:
        return
    src, dst = E.mac("02:00:00:00:00:01"), E.mac("02:00:00:00:00:02")
    frame = E.ether(dst, src, 0x8864, E.pppoe_session(session, E.PPP_PROTO[et], payload))
    expected = _run(prim, E.ether(dst, src, et, payload))
    assert _run(f"pppoes and {prim}", frame) == expected
    assert _run(f"pppoes {session} and ({prim})", frame) == expected
    assert _run(f"pppoes {(session + 1) % 65536} and ({prim})", frame) == 0


# -- Linux live vlan: a stripped tag gives the verdict the tagged frame gets offline -------------

LIVE = [
    "vlan", "vlan 10", "vlan and ip", "vlan 10 and tcp port 80", "vlan and vlan",
    "vlan 10 and vlan 20 and ip host 10.1.2.3", "tcp port 80 or vlan and tcp port 80",
    "not vlan", "vlan or ip", "vlan and mpls 16 and ip", "ip and vlan", "vlan and geneve",
    "vlan and ether host 02:00:00:00:00:01",
]  # fmt: skip


@given(network_packets(), st.sampled_from(LIVE), st.integers(0, 0xFFFF), st.booleans(),
       st.sampled_from(E.VLAN_TPIDS))  # fmt: skip
def test_linux_vlan_stripped_equals_offline_tagged(l3, expr, tci, inner_tag, tpid) -> None:  # noqa: ANN001
    et, payload = l3
    src, dst = E.mac("02:00:00:00:00:01"), E.mac("02:00:00:00:00:02")
    inner = ((0x8100, (tci * 7) & 0xFFFF),) if inner_tag else ()
    tagged = E.ether(dst, src, et, payload, tags=((tpid, tci), *inner))
    stripped = E.ether(dst, src, et, payload, tags=inner)
    offline = bpfc.compile(expr, optimize=False)
    for optimize in (False, True):
        try:
            live = bpfc.compile(expr, optimize=optimize, linux=True)
        except CompileError:  # the optimizer may find it constant: then offline agrees
            continue
        want = offline.run(tagged)
        # a tag the kernel did not strip (e.g. an outer 802.1ad one) is read from the data
        assert live.run(tagged, linux=True, vlan_present=0) == want
        if re.match(r"(not )?vlan", expr):  # tests before the first vlan see the stripped frame
            assert live.run(stripped, linux=True, vlan_tci=tci, vlan_present=1) == want


LIVE_COMPOSED = st.builds(
    lambda head, rest: f"{head} and ({rest})",
    st.sampled_from(["vlan", "vlan 10", "vlan 5", "vlan and vlan", "vlan and vlan 10"]),
    compositions(INNER + ["vlan 10", "mpls", "pppoes", "geneve"], max_leaves=4),
)


@given(network_packets(), LIVE_COMPOSED, st.integers(0, 0xFFFF), st.booleans())
def test_linux_vlan_compositions_stripped_equal_offline(l3, expr, tci, inner_tag) -> None:  # noqa: ANN001
    """Whatever follows the first ``vlan`` sees the same frame, stripped or not."""
    et, payload = l3
    src, dst = E.mac("02:00:00:00:00:01"), E.mac("02:00:00:00:00:02")
    inner = ((0x8100, 10),) if inner_tag else ()
    tagged = E.ether(dst, src, et, payload, tags=((0x8100, tci), *inner))
    stripped = E.ether(dst, src, et, payload, tags=inner)
    try:
        offline = bpfc.compile(expr, optimize=False)
        live = bpfc.compile(expr, optimize=False, linux=True)
    except CompileError as err:  # refusals are the same in both modes
        with pytest.raises(CompileError, match=re.escape(str(err).splitlines()[0])):
            bpfc.compile(expr, optimize=False, linux=True)
        return
    want = offline.run(tagged)
    assert live.run(stripped, linux=True, vlan_tci=tci, vlan_present=1) == want
    assert live.run(tagged, linux=True, vlan_present=0) == want


def test_linux_vlan_program_is_valid_for_the_kernel() -> None:
    """Every scratch register is stored before it is read (the prologue zeroes them)."""
    for expr in LIVE:
        validate([tuple(i) for i in bpfc.compile(expr, linux=True, optimize=False)], strict=True)


def test_packet_helpers_roundtrip() -> None:
    """The frames above are what the filters expect (guards the helpers themselves)."""
    inner = E.ether(E.BROADCAST, E.mac("02:00:00:00:00:01"), 0x0800,
                    I.ipv4("10.1.2.3", "10.1.2.4", 6, I.tcp(1, 80)))  # fmt: skip
    udp = I.udp(1, 4789, I.vxlan(5, inner))
    tunnelled = E.ether(E.BROADCAST, E.BROADCAST, 0x0800, I.ipv4("1.1.1.1", "2.2.2.2", 17, udp))
    assert _run("vxlan 5 and tcp dst port 80 and host 10.1.2.3", tunnelled) == 262144
    assert _run("vxlan 5 and tcp dst port 81", tunnelled) == 0
    assert _run("geneve", tunnelled) == 0


# -- the kernel as the judge of the Linux live vlan (root, ip(8), network namespaces) ---------

IP_TOOL = shutil.which("ip")

KERNEL_SCRIPT = r"""
import json, socket, sys
from bpfc.capture.live import LiveCapture, collect
spec = json.loads(sys.argv[1])
frames = [bytes.fromhex(h) for h in spec["frames"]]
caps = [LiveCapture("vb", prog) for prog in spec["programs"]]
everything = LiveCapture("vb", None)
send = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
send.bind(("va", 0))
for frame in frames:
    send.send(frame)
collect(everything, len(frames), 5)
print(json.dumps([[d.hex() for _, _, d in collect(cap, None, 0.3)] for cap in caps]))
"""

KERNEL_EXPRS = [
    "vlan", "vlan 5", "vlan 10 and tcp port 80", "vlan and vlan 10", "vlan 7 and vlan 10 and ip",
    "not vlan", "vlan and udp port 53", "vlan 5 or vlan 10", "vlan and ether src 02:00:00:00:00:01",
]  # fmt: skip


def _kernel_frames() -> list[bytes]:
    src, dst = E.mac("02:00:00:00:00:01"), E.mac("02:00:00:00:00:02")
    udp = I.ipv4("10.0.0.1", "10.0.0.2", 17, I.udp(1000, 53, b"x" * 8))
    tcp = I.ipv4("10.0.0.1", "10.0.0.2", 6, I.tcp(1000, 80, 2))
    return [
        E.ether(dst, src, 0x0800, udp),
        E.ether(dst, src, 0x0800, udp, tags=((0x8100, 5),)),
        E.ether(dst, src, 0x0800, tcp, tags=((0x8100, 0xA00A),)),  # priority bits, vid 10
        E.ether(dst, src, 0x0800, tcp, tags=((0x88A8, 7), (0x8100, 10))),
        E.ether(dst, src, 0x0800, udp, tags=((0x9100, 5),)),  # a TPID the kernel leaves in
        E.ether(
            dst, src, 0x86DD, I.ipv6("fe80::1", "ff02::1", 17, I.udp(5, 53)), tags=((0x8100, 10),)
        ),
    ]


@pytest.mark.skipif(IP_TOOL is None or os.geteuid() != 0, reason="needs root and ip(8)")
def test_kernel_verdicts_for_live_vlan_equal_offline_on_the_tagged_frame() -> None:
    """A veth pair strips 802.1Q/802.1ad tags on receive: the kernel runs the ancillary path."""
    frames = _kernel_frames()
    programs = [[list(i) for i in bpfc.compile(e, linux=True)] for e in KERNEL_EXPRS]
    ns = f"bpfc-h12-{uuid.uuid4().hex[:8]}"

    def run(*cmd: str) -> None:
        subprocess.run(cmd, check=True, capture_output=True, timeout=20)

    try:
        run(IP_TOOL, "netns", "add", ns)
    except subprocess.CalledProcessError as err:
        pytest.skip(f"cannot create a network namespace here: {err.stderr.decode().strip()}")
    try:
        run(IP_TOOL, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        run(IP_TOOL, "-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        for name in ("va", "vb"):
            run(IP_TOOL, "-n", ns, "link", "set", name, "up")
        spec = json.dumps({"frames": [f.hex() for f in frames], "programs": programs})
        done = subprocess.run(
            [IP_TOOL, "netns", "exec", ns, sys.executable, "-c", KERNEL_SCRIPT, spec],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        captured = json.loads(done.stdout)
    finally:
        subprocess.run([IP_TOOL, "netns", "del", ns], capture_output=True, timeout=20)
    sent = {f.hex() for f in frames}
    for expr, got in zip(KERNEL_EXPRS, captured, strict=True):
        offline = bpfc.compile(expr)
        want = [f.hex() for f in frames if offline.run(f)]
        assert [h for h in got if h in sent] == want, expr
