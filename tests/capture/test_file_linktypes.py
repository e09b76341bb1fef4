"""Capture files as libpcap opens them: LINKTYPE_ -> DLT_ (``bpfc.linktypes.dltmap``), the
snapshot and byte order ``pcap_compile`` gets, and filtering in savefile mode.

References: libpcap itself (``pcap_open_offline`` through ctypes: ``pcap_datalink``,
``pcap_snapshot``, ``pcap_is_swapped``), tcpdump's counts and listings (Debian's 1.10.3
and, where it is built, tcpdump on libpcap master, whose savefile code bpfc follows), over
the shared upstream pcaps and over headers made here.  Tests skip, saying why, where a
reference is absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import shutil
import struct
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from conftest import UPSTREAM
from hypothesis import given
from hypothesis import strategies as st
from support.oracles import master_soname_dir

from bpfc import linktypes
from bpfc.capture.reader import open_capture
from bpfc.cli import main as bpfc_main
from bpfc.linktypes.dltmap import HIGH_MATCHING, LOW_MATCHING, dlt_to_linktype, linktype_to_dlt

PCAPS = UPSTREAM / "pcaps"
TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")


def _pcaps() -> list[str]:
    if not PCAPS.is_dir():
        return []
    return sorted(p.name for p in PCAPS.iterdir() if p.suffix in (".pcap", ".pcapng"))


def _need_pcaps() -> None:
    if not PCAPS.is_dir():
        pytest.skip(f"upstream pcaps not found at {PCAPS}")


# -- the table -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("linktype", "dlt"),
    [(100, 11), (101, 12), (102, 15), (103, 16), (106, 19), (0, 0), (1, 1), (10, 10),
     (104, 104), (108, 108), (149, 149), (160, 160), (276, 276), (11, 11), (12, 12)],
)  # fmt: skip
def test_linktype_to_dlt_facts(linktype: int, dlt: int) -> None:
    assert linktype_to_dlt(linktype) == dlt


@given(st.integers(0, 0xFFFF))
def test_every_dlt_with_a_linktype_reads_back_as_itself(dlt: int) -> None:
    linktype = dlt_to_linktype(dlt)
    if linktype is not None and dlt != 106:  # libpcap writes DLT 106 as 106, reads it as 19
        assert linktype_to_dlt(linktype) == dlt
    if dlt in LOW_MATCHING or (dlt in HIGH_MATCHING and dlt != 106):
        assert linktype == dlt


def test_dlts_without_a_linktype() -> None:
    assert dlt_to_linktype(13) is None and dlt_to_linktype(305) is None
    assert [dlt_to_linktype(d) for d in (11, 12, 15, 16, 19)] == [100, 101, 102, 103, 106]


@pytest.mark.parametrize("bad", [-1, "1", 1.0, True])
def test_bad_values_are_refused(bad: object) -> None:
    with pytest.raises((TypeError, ValueError), match="linktype"):
        linktype_to_dlt(bad)  # type: ignore[arg-type]


# -- headers: what libpcap's pcap_open_offline says ----------------------------------------


def _libpcap() -> ctypes.CDLL:
    name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        pytest.skip("system libpcap not found")
    lib.pcap_open_offline.restype = ctypes.c_void_p
    lib.pcap_open_offline.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    for fn in ("pcap_datalink", "pcap_snapshot", "pcap_is_swapped"):
        getattr(lib, fn).restype = ctypes.c_int
        getattr(lib, fn).argtypes = [ctypes.c_void_p]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    return lib


def _libpcap_view(lib: ctypes.CDLL, path: Path) -> tuple[int, int, bool] | None:
    errbuf = ctypes.create_string_buffer(512)
    handle = lib.pcap_open_offline(str(path).encode(), errbuf)
    if not handle:
        return None
    try:
        return (
            lib.pcap_datalink(handle),
            lib.pcap_snapshot(handle),
            bool(lib.pcap_is_swapped(handle)),
        )
    finally:
        lib.pcap_close(handle)


def _header(
    linktype: int, snaplen: int = 65535, order: str = "<", magic: int = 0xA1B2C3D4
) -> bytes:
    return struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def _bpfc_view(path: Path) -> tuple[int, int, bool]:
    with open_capture(path) as reader:
        assert reader.dlt is not None
        swapped = reader.byte_order != sys.byteorder
        return reader.dlt, reader.compile_snaplen, swapped


def test_headers_open_as_libpcap_opens_them(tmp_path: Path) -> None:
    """Every LINKTYPE_ value up to past the high range, both byte orders, odd snaplens."""
    lib = _libpcap()
    path = tmp_path / "h.pcap"
    for linktype in [*range(0, 320), 0x8000, 0xFFFF]:
        for order, snaplen in (("<", 65535), (">", 0), ("<", 0x80000000), (">", 1)):
            path.write_bytes(_header(linktype, snaplen, order))
            assert _bpfc_view(path) == _libpcap_view(lib, path), (linktype, order, snaplen)
    # nanosecond and Kuznetzov magics (the latter's Ethernet snapshot grows by 14)
    for magic in (0xA1B23C4D, 0xA1B2CD34):
        for linktype in (0, 1, 113):
            path.write_bytes(_header(linktype, 1500, ">", magic))
            assert _bpfc_view(path) == _libpcap_view(lib, path), (hex(magic), linktype)


def test_corpus_files_open_as_libpcap_opens_them() -> None:
    _need_pcaps()
    lib = _libpcap()
    for name in _pcaps():
        theirs = _libpcap_view(lib, PCAPS / name)
        if theirs is not None:
            assert _bpfc_view(PCAPS / name) == theirs, name


# -- filtering every corpus file -----------------------------------------------------------


def _bpfc(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = bpfc_main(argv)
    return status, out.getvalue(), err.getvalue()


def _count(text: str) -> int | None:
    words = text.split()
    return int(words[0]) if words and words[0].isdigit() else None


def _tcpdump(args: list[str], master: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if master:
        soname, why = master_soname_dir()
        if soname is None:
            pytest.skip(f"tcpdump on libpcap master: {why}")
        env["LD_LIBRARY_PATH"] = str(soname)
    assert TCPDUMP is not None
    return subprocess.run(
        [TCPDUMP, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@needs_tcpdump
@pytest.mark.parametrize("expr", ["greater 0", "len >= 0"])
def test_every_corpus_file_filters_as_tcpdump(expr: str) -> None:
    """Every file tcpdump reads, bpfc reads, with the same count for link-independent
    filters; a file tcpdump refuses bpfc refuses too (one line, status 1)."""
    _need_pcaps()
    for name in _pcaps():
        theirs = _tcpdump(["-r", str(PCAPS / name), "--count", expr])
        status, out, err = _bpfc(["filter", "-q", "-r", str(PCAPS / name), "--count", expr])
        assert (status == 0) == (theirs.returncode == 0), (name, err, theirs.stderr)
        if status == 0:
            assert _count(out) == _count(theirs.stdout), name
        else:
            assert len(err.strip().splitlines()) == 1, name


def _swapped_copy(src: Path, dst: Path) -> Path:
    """``src`` (a pcap file) with its file and record headers in the other byte order;
    packet bytes (and so a DLT_NULL family word) unchanged."""
    data = src.read_bytes()
    (magic,) = struct.unpack_from("<I", data, 0)
    old = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    new = ">" if old == "<" else "<"
    parts = [struct.pack(new + "IHHiIII", *struct.unpack_from(old + "IHHiIII", data, 0))]
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack_from(old + "IIII", data, pos)
        parts += [struct.pack(new + "IIII", sec, frac, caplen, wirelen), data[pos + 16 :][:caplen]]
        pos += 16 + caplen
    dst.write_bytes(b"".join(parts))
    return dst


#: (file, expression): savefile-mode cases where pcap_open_dead code counts wrongly
SAVEFILE_CASES = [
    ("quic_vn.pcap", "ip6"),
    ("quic_vn.pcap", "udp"),
    ("quic_vn.pcap", "host ::1"),
    ("icmpv6-RFC2894-RR.pcap", "ip6"),
    ("icmpv6-RFC2894-RR.pcap", "icmp6"),
    ("swapped:ikev2four.pcap", "ip"),
    ("swapped:ikev2four.pcap", "udp"),
    ("ikev2four.pcap", "ip"),
]


def _case_file(name: str, tmp_path: Path) -> Path:
    if name.startswith("swapped:"):
        return _swapped_copy(PCAPS / name[8:], tmp_path / f"swapped-{name[8:]}")
    return PCAPS / name


@needs_tcpdump
@pytest.mark.parametrize(("name", "expr"), SAVEFILE_CASES)
def test_savefile_counts_equal_tcpdump_on_master(name: str, expr: str, tmp_path: Path) -> None:
    _need_pcaps()
    path = _case_file(name, tmp_path)
    theirs = _tcpdump(["-r", str(path), "--count", expr], master=True)
    status, out, _ = _bpfc(["filter", "-q", "-r", str(path), "--count", expr])
    assert status == 0 and _count(out) == _count(theirs.stdout) and _count(out)


@needs_tcpdump
@pytest.mark.parametrize(("name", "expr"), [c for c in SAVEFILE_CASES if "swapped" not in c[0]])
def test_savefile_counts_equal_installed_tcpdump(name: str, expr: str, tmp_path: Path) -> None:
    """Debian's 1.10.3 agrees where its savefile code has the same meaning (it reads a
    DLT_NULL word in the file's byte order only, so not on the swapped copy)."""
    _need_pcaps()
    path = _case_file(name, tmp_path)
    theirs = _tcpdump(["-r", str(path), "--count", expr])
    status, out, _ = _bpfc(["filter", "-q", "-r", str(path), "--count", expr])
    assert status == 0 and _count(out) == _count(theirs.stdout)


# -- bpfc -r FILE -d -----------------------------------------------------------------------


LISTING_FILES = [
    "quic_vn.pcap",
    "swapped:ikev2four.pcap",
    "LINKTYPE_RAW_ipv4.pcap",
    "llc-xid-heapoverflow.pcap",
    "bgp-role.pcapng",
    "unsupported-link-type-160.pcap",
]


@needs_tcpdump
@pytest.mark.parametrize("name", LISTING_FILES)
@pytest.mark.parametrize("dump", ["-d", "-dd", "-ddd"])
def test_dash_r_listing_is_tcpdumps(name: str, dump: str, tmp_path: Path) -> None:
    """``bpfc -r FILE -O -d EXPR`` prints what tcpdump (on master) prints, byte for byte."""
    _need_pcaps()
    path = _case_file(name, tmp_path)
    for expr in ("ip6", "ip and udp", "greater 100", "link[0] = 2"):
        theirs = _tcpdump(["-r", str(path), "-O", dump, expr], master=True)
        status, out, err = _bpfc(["-r", str(path), "-O", dump, expr])
        if theirs.returncode != 0:
            assert status == 1 and len(err.strip().splitlines()) == 1, (name, expr)
            continue
        assert status == 0 and out == theirs.stdout, (name, expr, err)


def test_dash_r_refuses_what_libpcap_refuses(tmp_path: Path) -> None:
    """A type-160 file takes link-independent primitives only; ``ip`` is refused with
    libpcap's message, on one line."""
    _need_pcaps()
    path = PCAPS / "unsupported-link-type-160.pcap"
    status, _, err = _bpfc(["-r", str(path), "ip"])
    assert status == 1
    assert (
        err.strip()
        == "bpfc: link-layer type filtering not implemented for DLT_USER13 (Private use 13)"
    )
    assert _bpfc(["-r", str(path), "greater 200"])[0] == 0
    missing = tmp_path / "missing.pcap"
    status, _, err = _bpfc(["-r", str(missing), "ip"])
    assert status == 1 and len(err.strip().splitlines()) == 1


def test_high_range_dlts_compile_link_independent_primitives() -> None:
    for dlt in (110, 147, 149, 160, 302, 304):
        row = linktypes.lookup(dlt)
        assert row.framing == "none"
    assert linktypes.lookup(110).display == "DLT 110"
    with pytest.raises(ValueError, match="unknown data link type 305"):
        linktypes.lookup(305)


# -- pcapng with several link types --------------------------------------------------------


def _block(btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def _pcapng(interfaces: list[int], packets: list[tuple[int, bytes]]) -> bytes:
    out = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for linktype in interfaces:
        out += _block(1, struct.pack("<HHI", linktype, 0, 65535))
    for iface, data in packets:
        body = struct.pack("<IIIII", iface, 0, 0, len(data), len(data)) + data
        out += _block(6, body)
    return out


def test_pcapng_interfaces_compile_per_link_type(tmp_path: Path) -> None:
    """An Ethernet and a BSD loopback interface in one file (libpcap refuses such a file;
    bpfc compiles per interface): ``ip``/``ip6`` match on both, each in its own framing,
    the loopback one in savefile mode (FreeBSD's AF_INET6, 28)."""
    ether_ip = bytes(12) + b"\x08\x00" + bytes(40)
    null_ip6 = struct.pack("<I", 28) + bytes(40)
    null_ip = struct.pack("<I", 2) + bytes(40)
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(_pcapng([1, 0], [(0, ether_ip), (1, null_ip6), (1, null_ip)]))
    counts = {}
    for expr in ("ip", "ip6", "greater 0"):
        status, out, err = _bpfc(["filter", "-q", "-r", str(path), "--count", expr])
        assert status == 0, err
        counts[expr] = _count(out)
    assert counts == {"ip": 2, "ip6": 1, "greater 0": 3}


# -- every DLT number: where libpcap master compiles, bpfc compiles the same ------------------


def _master_compiler():  # noqa: ANN202 - (dlt, expr) -> instructions or error text
    from support.oracles import master_library

    path, why = master_library()
    if path is None:
        pytest.skip(f"libpcap master: {why}")
    lib = ctypes.CDLL(str(path))

    class Insn(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                    ("k", ctypes.c_uint)]  # fmt: skip

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_uint), ("insns", ctypes.POINTER(Insn))]

    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = [ctypes.c_void_p]
    lib.pcap_compile.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(Prog), ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32
    ]  # fmt: skip
    lib.pcap_freecode.argtypes = [ctypes.POINTER(Prog)]
    lib.pcap_close.argtypes = [ctypes.c_void_p]

    def compile_(dlt: int, expr: str) -> list[tuple[int, int, int, int]] | str:
        handle = lib.pcap_open_dead(dlt, 65535)
        try:
            prog = Prog()
            if lib.pcap_compile(handle, ctypes.byref(prog), expr.encode(), 0, 0) != 0:
                return lib.pcap_geterr(handle).decode()
            out = [(i.code, i.jt, i.jf, i.k) for i in prog.insns[: prog.len]]
            lib.pcap_freecode(ctypes.byref(prog))
            return out
        finally:
            lib.pcap_close(handle)

    return compile_


def test_every_dlt_number_compiles_where_master_does() -> None:
    """DLT 0-319: link-independent primitives, ``link[...]`` and a protocol test are
    accepted exactly where master accepts them, with master's unoptimized program, and
    refused with (the start of) master's message otherwise."""
    import bpfc
    from bpfc.errors import CompileError

    master = _master_compiler()
    for dlt in range(320):
        for expr in ("greater 200", "len >= 0", "link[0] = 1", "ip", "tcp or arp"):
            theirs = master(dlt, expr)
            try:
                ours: object = [tuple(i) for i in bpfc.compile(expr, dlt, 65535, False, 0)]
            except (CompileError, ValueError) as err:
                ours = getattr(err, "message", str(err))
            if isinstance(theirs, str):
                assert isinstance(ours, str) and ours in theirs, (dlt, expr, ours, theirs)
            else:
                assert ours == theirs, (dlt, expr)


def test_dash_r_needs_an_interface(tmp_path: Path) -> None:
    """A pcapng file without an IDB has no link type: refused, as tcpdump -r refuses it."""
    path = tmp_path / "noidb.pcapng"
    path.write_bytes(_pcapng([], []))
    status, _, err = _bpfc(["-r", str(path), "ip"])
    assert status == 1 and "no Interface Description Blocks" in err
