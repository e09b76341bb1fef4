"""``bpfc.pcap_compile`` (libpcap's arguments) and ``Program.bpf_program`` against libpcap."""

from __future__ import annotations

import ctypes
import gc

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.oracles import master_library

import bpfc
from bpfc import libpcap
from bpfc.pcap_compat import PCAP_NETMASK_UNKNOWN, pcap_compile

needs_libpcap = pytest.mark.skipif(not libpcap.available(), reason="system libpcap not available")

EXPRESSIONS = ["tcp port 80", "ip broadcast", "udp and not port 53", "arp or vlan", "ip6"]


def test_is_the_public_lazy_name() -> None:
    assert bpfc.pcap_compile is pcap_compile
    assert "pcap_compile" in bpfc.__all__


@pytest.fixture(scope="module")
def master() -> libpcap.Libpcap:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    return libpcap.library(path)


@pytest.mark.parametrize("expr", EXPRESSIONS)
@pytest.mark.parametrize(("dlt", "snaplen"), [(1, 65535), (12, 1600), (113, 262144)])
def test_unoptimized_program_is_libpcap_masters(
    master: libpcap.Libpcap, expr: str, dlt: int, snaplen: int
) -> None:
    """Same DLT number, snapshot length and netmask: the same unoptimized program, or
    the same refusal."""
    mask = 0xFFFFFF00
    theirs = master.compile_or_error(expr, dlt, snaplen, optimize=False, netmask=mask)
    try:
        ours: object = pcap_compile(expr, dlt, 0, mask, snaplen=snaplen)
    except bpfc.CompileError as err:
        ours = str(err)
    assert ours == theirs


@needs_libpcap
def test_unknown_netmask_refuses_ip_broadcast_with_libpcaps_message() -> None:
    theirs = libpcap.SYSTEM.compile_or_error("ip broadcast", 1, netmask=PCAP_NETMASK_UNKNOWN)
    with pytest.raises(bpfc.CompileError) as err:
        pcap_compile("ip broadcast", 1)
    assert str(err.value) == theirs


def test_linktype_raw_101_is_dlt_raw_and_optimize_is_a_c_int() -> None:
    assert pcap_compile("ip", 101) == pcap_compile("ip", 12) == bpfc.compile("ip", 12)
    assert pcap_compile("ip and ip", 1, 0) == bpfc.compile("ip and ip", optimize=False)
    assert pcap_compile("ip and ip", 1, 7) == bpfc.compile("ip and ip")
    assert pcap_compile("vlan", 1, linux=True) == bpfc.compile("vlan", linux=True)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("ip", "EN10MB"), TypeError),
        (("ip", True), TypeError),
        (("ip", 1, 1, -1), ValueError),
        (("ip", 1, 1, 1 << 32), ValueError),
        (("ip", 1, "yes"), TypeError),
        (("ip", 99999), ValueError),
    ],
)
def test_bad_arguments_name_themselves(args: tuple, error: type) -> None:
    with pytest.raises(error):
        pcap_compile(*args)


def _offline_filter() -> ctypes._CFuncPtr:  # type: ignore[name-defined]
    lib = ctypes.CDLL("libpcap.so.0.8")

    class Header(ctypes.Structure):
        _fields_ = [
            ("tv_sec", ctypes.c_long),
            ("tv_usec", ctypes.c_long),
            ("caplen", ctypes.c_uint32),
            ("len", ctypes.c_uint32),
        ]

    fn = lib.pcap_offline_filter
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p, ctypes.POINTER(Header), ctypes.c_char_p]
    fn.header = Header  # type: ignore[attr-defined]
    return fn


@needs_libpcap
@given(packet=st.binary(min_size=0, max_size=80))
def test_bpf_program_is_what_libpcaps_pcap_offline_filter_runs(packet: bytes) -> None:
    """libpcap reads the structure itself: its verdict is the program's own."""
    fn = _offline_filter()
    prog = bpfc.compile("ip and (tcp[13] & 2 != 0 or udp)", snaplen=96)
    fp = prog.bpf_program()
    header = fn.header(0, 0, len(packet), len(packet))  # type: ignore[attr-defined]
    assert fn(ctypes.addressof(fp), ctypes.byref(header), packet) == prog.run(packet)


def test_bpf_program_owns_its_array() -> None:
    prog = bpfc.compile("tcp port 80")
    fp = prog.bpf_program()
    gc.collect()
    assert fp.bf_len == len(prog)
    assert [
        tuple(getattr(fp.bf_insns[i], f) for f in ("code", "jt", "jf", "k"))
        for i in range(fp.bf_len)
    ] == list(map(tuple, prog))
    assert type(fp).__name__ == "BpfProgram" and ctypes.sizeof(fp) == 2 * ctypes.sizeof(
        ctypes.c_void_p
    )
    assert fp.buffer is not None
