"""``bpfc.libpcap.Libpcap``: any libpcap by path (master beside the system's), the shared
instances, descriptions, and ``CompileWorker``'s crash/hang isolation."""

from __future__ import annotations

import signal

import pytest
from support.oracles import master_library

from bpfc import libpcap

needs_system = pytest.mark.skipif(not libpcap.available(), reason="system libpcap not available")


@pytest.fixture(scope="module")
def master() -> libpcap.Libpcap:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    return libpcap.library(path)


def test_library_is_shared_per_path(tmp_path) -> None:
    assert libpcap.library() is libpcap.SYSTEM
    missing = tmp_path / "libpcap.so"
    assert libpcap.library(missing) is libpcap.library(str(missing))
    assert not libpcap.library(missing).available()
    with pytest.raises(libpcap.LibpcapUnavailable, match="not found"):
        libpcap.library(missing).version()


@needs_system
def test_master_and_system_live_side_by_side(master: libpcap.Libpcap) -> None:
    assert "1.11" in master.version() or "PRE-GIT" in master.version()
    assert master.version() != libpcap.version()
    # master names the link type in the message; 1.10.3 does not know this check at all
    with pytest.raises(libpcap.LibpcapError) as info:
        master.compile("inbound", "RAW")
    assert (
        info.value.message
        == "not a live capture, 'inbound' not supported on DLT_RAW (Raw IPv4/IPv6)"
    )
    assert libpcap.compile("inbound", "RAW")  # the system library still answers as before


def test_compile_or_error(master: libpcap.Libpcap) -> None:
    assert master.compile_or_error("ip", "RAW") == master.compile("ip", "RAW")
    text = master.compile_or_error("multicast", "RAW")
    assert text == "'multicast' not supported on DLT_RAW (Raw IPv4/IPv6)"


def test_master_descriptions(master: libpcap.Libpcap) -> None:
    assert master.dlt_description(1) == "Ethernet"
    assert master.dlt_description(12) == "Raw IPv4/IPv6"
    assert master.dlt_name(master.dlt_value("LINUX_SLL2")) == "LINUX_SLL2"
    assert master.dlt_description(0x7FFF) is None


def test_master_filter_runs_its_program(master: libpcap.Libpcap) -> None:
    prog = master.compile("ip", "RAW")
    assert master.bpf_filter(prog, bytes.fromhex("45" + "00" * 19)) == 262144
    assert master.bpf_filter(prog, bytes.fromhex("60" + "00" * 39)) == 0
    assert master.bpf_filter_isolated(prog, [(bytes.fromhex("45" + "00" * 19), None)]) == [262144]


def test_worker_answers_like_the_library(master: libpcap.Libpcap) -> None:
    with libpcap.CompileWorker(master.path) as worker:
        assert worker.compile("udp port 53", "LINUX_SLL", 96, False) == master.compile(
            "udp port 53", "LINUX_SLL", 96, False
        )
        with pytest.raises(libpcap.LibpcapError) as info:
            worker.compile("ifindex 1", "NULL")
        assert info.value.message.startswith("not a live capture, 'ifindex'")
        assert not isinstance(info.value, libpcap.LibpcapCrash)


def test_worker_restarts_a_child_that_died_between_calls(master: libpcap.Libpcap) -> None:
    worker = libpcap.CompileWorker(master.path, timeout=5)
    try:
        worker.compile("tcp")
        proc = worker._proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert worker.compile("udp") == master.compile("udp")
        assert worker._proc is not proc
    finally:
        worker.close()


def test_worker_reports_a_crash(master: libpcap.Libpcap, monkeypatch) -> None:
    # a child that aborts on one expression, as an old libpcap may inside pcap_compile
    aborting = libpcap._COMPILE_CHILD.replace(
        "    try:", "    if expr == 'crash':\n        import os; os.abort()\n    try:", 1
    )
    monkeypatch.setattr(libpcap, "_COMPILE_CHILD", aborting)
    worker = libpcap.CompileWorker(master.path, timeout=5)
    try:
        with pytest.raises(libpcap.LibpcapCrash) as info:
            worker.compile("crash")
        assert info.value.signal == signal.SIGABRT
        assert worker.compile("udp") == master.compile("udp")
    finally:
        worker.close()


def test_worker_reports_a_hang(master: libpcap.Libpcap) -> None:
    worker = libpcap.CompileWorker(master.path, timeout=0.5)
    try:
        worker.compile("tcp")
        proc = worker._proc
        assert proc is not None
        proc.send_signal(signal.SIGSTOP)  # the child stops answering
        with pytest.raises(libpcap.LibpcapCrash, match="no answer"):
            worker.compile("udp")
        assert worker.compile("udp")
    finally:
        worker.close()


def test_worker_sees_private_etc_files(master: libpcap.Libpcap) -> None:
    why = libpcap.etc_overlay_error()
    if why is not None:
        pytest.skip(why)
    etc = {
        "hosts": "10.9.8.7 fixture-host.invalid\n",
        "ethers": "0:1:2:3:4:5 fixture-host.invalid\n",
    }
    with libpcap.CompileWorker(master.path, etc=etc) as worker:
        prog = worker.compile("gateway fixture-host.invalid")
        assert (0x15, 0, 0, 0x0A090807) in [(i.code, 0, 0, i.k) for i in prog]  # the address
        assert worker.compile("ether host fixture-host.invalid")
    # the machine's own files are untouched
    with pytest.raises(libpcap.LibpcapError, match="unknown host"):
        master.compile("host fixture-host.invalid")
