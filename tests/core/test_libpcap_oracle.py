"""The ctypes oracle over the system libpcap: compile, validate, filter, image, DLT names."""

from __future__ import annotations

import pytest

from bpfc import libpcap
from bpfc.isa.insn import Insn

pytestmark = pytest.mark.skipif(not libpcap.available(), reason="system libpcap not available")

TCP80 = bytes.fromhex(
    "00112233445566778899aabb0800"  # ethernet, IPv4
    "4500002800004000400600000a0000010a000002"  # IPv4, proto 6
    "d431005000000000000000005002ffff00000000"  # TCP 54321 -> 80
)


def test_version_names_libpcap() -> None:
    assert libpcap.version().startswith("libpcap version ")


def test_dlt_names_round_trip() -> None:
    assert libpcap.dlt_value("EN10MB") == 1
    assert libpcap.dlt_value("DLT_RAW") == libpcap.dlt_value("RAW")
    assert libpcap.dlt_name(1) == "EN10MB"
    with pytest.raises(libpcap.LibpcapError, match="unknown data link type"):
        libpcap.dlt_value("NO_SUCH_LINK")


def test_compile_returns_insns_ending_in_ret() -> None:
    prog = libpcap.compile("tcp port 80")
    assert all(isinstance(i, Insn) for i in prog)
    assert prog[0] == (0x28, 0, 0, 12)
    assert prog[-1] == (0x06, 0, 0, 0)
    assert (0x06, 0, 0, 262144) in prog


def test_compile_options_change_program() -> None:
    unopt = libpcap.compile("ip and ip", optimize=False)
    opt = libpcap.compile("ip and ip", optimize=True)
    assert len(unopt) > len(opt)
    assert libpcap.compile("ip", snaplen=96)[-2] == (0x06, 0, 0, 96)
    assert libpcap.compile("ip", linktype="RAW") != libpcap.compile("ip", linktype=1)


def test_compile_error_carries_pcap_geterr_text() -> None:
    with pytest.raises(libpcap.LibpcapError, match="syntax error"):
        libpcap.compile("tcp port")


def test_bpf_image_matches_tcpdump_wording() -> None:
    assert libpcap.bpf_image((0x28, 0, 0, 12), 0) == "(000) ldh      [12]"
    assert libpcap.bpf_image((0x06, 0, 0, 0), 19) == "(019) ret      #0"


def test_validate_verdicts() -> None:
    assert libpcap.bpf_validate([(0x06, 0, 0, 1)])
    assert not libpcap.bpf_validate([])
    assert not libpcap.bpf_validate([(0x00, 0, 0, 1)])  # no ret at the end
    assert not libpcap.bpf_validate([(0x34, 0, 0, 0), (0x06, 0, 0, 0)])  # div #0
    assert libpcap.bpf_validate([(0x0E, 0, 0, 0)])  # ret x: accepted by 1.10.3


def test_filter_on_tcp_port_80() -> None:
    prog = libpcap.compile("tcp port 80")
    assert libpcap.bpf_filter(prog, TCP80) == 262144
    assert libpcap.bpf_filter(prog, bytearray(TCP80)) == 262144
    assert libpcap.bpf_filter(prog, memoryview(TCP80)) == 262144
    assert libpcap.bpf_filter(prog, TCP80[:30]) == 0  # truncated: the load fails


def test_filter_wirelen_is_len() -> None:
    prog = [(0x80, 0, 0, 0), (0x16, 0, 0, 0)]
    assert libpcap.bpf_filter(prog, b"abc") == 3
    assert libpcap.bpf_filter(prog, b"abc", wirelen=1500) == 1500


@pytest.mark.parametrize(
    "prog",
    [
        [(0x0E, 0, 0, 0)],
        [(0x21, 0, 0, 0), (0x06, 0, 0, 1)],
        [(0x05, 0, 0, 0xFFFFFFFF), (6, 0, 0, 1)],
    ],
    ids=["ret-x", "ldx-abs", "ja-wraps"],
)
def test_filter_refuses_programs_that_crash_libpcap(prog: list[tuple[int, ...]]) -> None:
    with pytest.raises(libpcap.LibpcapError, match="refusing"):
        libpcap.bpf_filter(prog, b"\x00" * 4)


def test_isolated_reports_abort_and_runs_good_programs() -> None:
    with pytest.raises(libpcap.LibpcapCrash) as info:
        libpcap.bpf_filter_isolated([(0x0E, 0, 0, 0)], b"abc")
    assert info.value.signal == 6
    prog = libpcap.compile("tcp port 80")
    assert libpcap.bpf_filter_isolated(prog, [(TCP80, None), (TCP80[:30], None)]) == [262144, 0]


def test_compile_is_safe_from_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    exprs = ["tcp port 80", "udp", "vlan 100 and udp port 53", "host 10.0.0.1"] * 8
    expected = [libpcap.compile(e) for e in exprs]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(libpcap.compile, exprs)) == expected
