"""``bpfc filter -r F -w OUT EXPR`` against ``tcpdump -r F -w OUT EXPR``, every upstream capture.

Each capture in the shared corpus meets a few generic filters plus some for its link type;
both tools run on the same input and their outputs must be byte-identical.  tcpdump runs
on libpcap master when it is built (``LD_LIBRARY_PATH``, :mod:`tests.oracles`): master is
the judge where it changed Debian's 1.10.3.  Every difference the test accepts is in
:data:`ALLOWED`, with its reason; anything else fails the test.  The tcpdump runs go in
parallel; bpfc runs in-process.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.damage import raw_fractions_in_range
from support.oracles import master_soname_dir

from bpfc.capture import open_capture
from bpfc.cli import main

TCPDUMP = shutil.which("tcpdump")
ENGINES = ("batch", "packet")

GENERIC = ["", "ip", "ip6", "tcp", "udp port 53", "not ip", "greater 200", "arp or icmp"]
"""Filters every capture meets (tcpdump refusing one for a link type is compared too)."""

BY_LINKTYPE: dict[int, list[str]] = {
    1: ["ether broadcast", "vlan", "ether proto 0x88cc", "ip and tcp[tcpflags] & tcp-syn != 0"],
    0: ["ip and udp", "ip6"],  # NULL
    108: ["ip and udp"],  # LOOP
    101: ["ip and udp", "ip6 and tcp"],  # RAW
    113: ["ip6 and udp", "ip[8] < 64"],  # LINUX_SLL
    104: ["ip and icmp", "iso"],  # C_HDLC
    107: ["ip6", "iso"],  # FRELAY
    105: ["wlan type data", "wlan type mgt"],  # IEEE802_11
    127: ["wlan type data", "wlan type mgt subtype beacon"],  # IEEE802_11_RADIO
    129: ["arp", "ip and tcp"],  # ARCNET_LINUX
    9: ["ip and udp"],  # PPP
    51: ["pppoes", "ip"],  # PPP_ETHER
    228: ["udp"],  # IPV4
    229: ["udp"],  # IPV6
}
"""Filters for a link type (LINKTYPE number): the fields that only exist there."""

ALLOWED = {
    "raw-fraction": "a time stamp fraction out of its range (timestamp_invalid_nano.pcap): "
    "libpcap keeps the raw field, bpfc's readers normalise it into the seconds",
    "libpcap-1.10.3": "only when libpcap master is not built and Debian's 1.10.3 judges: "
    "ARCnet and the DSA tag link types compile differently there (master is the meaning), "
    "and 1.10.3 scales out-of-range nanosecond fields in signed 32 bits",
}
"""Every (capture, filter) difference the test accepts, and why."""

OLD_LIBPCAP_LINKTYPES = {7, 129, *range(281, 290)}


def _judge_env() -> tuple[dict[str, str], str, bool]:
    """The environment tcpdump runs in, what judges, and whether that is libpcap master."""
    env = dict(os.environ)
    folder, why = master_soname_dir()
    if folder is None:
        return env, f"tcpdump on Debian's libpcap ({why})", False
    env["LD_LIBRARY_PATH"] = str(folder)
    return env, "tcpdump on libpcap master", True


def _run_tcpdump(src: Path, expr: str, out: Path, env: dict[str, str]) -> int:
    args = [TCPDUMP, "-r", str(src), "-w", str(out)] + ([expr] if expr else [])
    return subprocess.run(args, capture_output=True, timeout=120, env=env).returncode


def _run_bpfc(src: Path, expr: str, out: Path, engine: str) -> tuple[int, str]:
    err = io.StringIO()
    args = ["filter", "-q", "--engine", engine, "-r", str(src), "-w", str(out)]
    with contextlib.redirect_stderr(err):
        status = main(args + ([expr] if expr else []))
    return status, err.getvalue()


def _linktype(src: Path) -> int | None:
    try:
        with open_capture(src) as reader:
            return reader.linktype
    except (OSError, ValueError):
        return None


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
def test_every_capture_and_filter_equals_tcpdump(upstream: Path, tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    env, judge, master = _judge_env()
    cases: list[tuple[Path, str, int | None]] = []
    for src in sorted((upstream / "pcaps").glob("*.pcap*")):
        linktype = _linktype(src)
        for expr in GENERIC + BY_LINKTYPE.get(linktype if linktype is not None else -1, []):
            cases.append((src, expr, linktype))
    outs = [tmp_path / f"{i}.td" for i in range(len(cases))]

    def oracle(i: int) -> int:
        src, expr, _ = cases[i]
        return _run_tcpdump(src, expr, outs[i], env)

    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        statuses = list(pool.map(oracle, range(len(cases))))
    tally = {"identical": 0, "both refused": 0}
    problems: list[str] = []
    runs = [
        (case, theirs, tstatus, engine)
        for case, theirs, tstatus in zip(cases, outs, statuses, strict=True)
        for engine in ENGINES
    ]
    for (src, expr, linktype), theirs, tstatus, engine in runs:
        ours = theirs.with_suffix(f".{engine}")
        status, err = _run_bpfc(src, expr, ours, engine)
        where = f"{src.name} {expr!r} [{engine}]"
        if not theirs.exists() and not ours.exists() and tstatus and status:
            tally["both refused"] += 1
            continue
        if theirs.exists() and ours.exists() and ours.read_bytes() == theirs.read_bytes():
            tally["identical"] += 1
            if (status == 0) != (tstatus == 0):
                problems.append(f"{where}: same file, status {status} vs {tstatus}")
            continue
        reason = ""
        if ours.exists() and theirs.exists() and not raw_fractions_in_range(theirs):
            reason = "raw-fraction"
        if not reason and not master and (linktype in OLD_LIBPCAP_LINKTYPES or "nano" in where):
            reason = "libpcap-1.10.3"
        if reason:
            tally[reason] = tally.get(reason, 0) + 1
            continue
        problems.append(
            f"{where}: bpfc {status} ({'file' if ours.exists() else 'none'}) {err.strip()[:100]}"
            f" / tcpdump {tstatus} ({'file' if theirs.exists() else 'none'})"
        )
    print(
        f"\n{len(cases)} (capture x filter) pairs x {len(ENGINES)} engines, judge {judge}: "
        f"{tally}; unexplained {len(problems)}"
    )
    assert not problems, "\n".join(problems[:60])
    assert tally["identical"] >= len(runs) * 3 // 4  # the comparison is not vacuous


@pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_nanosecond_output_equals_tcpdumps(upstream: Path, tmp_path: Path, engine: str) -> None:
    """``--time-stamp-precision nano`` writes what tcpdump's option writes, for nanosecond
    inputs (kept) and microsecond ones (scaled up); the default, micro, is the test above."""
    if engine == "batch":
        pytest.importorskip("numpy")
    env, _, _ = _judge_env()
    sources = sorted((upstream / "pcaps").glob("*nano*.pcap*"))
    sources += sorted((upstream / "pcaps").glob("tcp-handshake*.pcap"))[:1]
    assert sources, "no nanosecond captures in the upstream corpus"
    compared = 0
    for src in sources:
        for expr in ("", "ip or ip6", "tcp"):
            theirs, ours = tmp_path / f"{src.name}.{compared}.td", tmp_path / f"{compared}.ours"
            args = [TCPDUMP, "--time-stamp-precision", "nano", "-r", str(src), "-w", str(theirs)]
            done = subprocess.run(args + ([expr] if expr else []), capture_output=True, env=env)
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                status = main(
                    ["filter", "-q", "--engine", engine, "--time-stamp-precision", "nano"]
                    + ["-r", str(src), "-w", str(ours)]
                    + ([expr] if expr else [])
                )
            assert (status == 0) == (done.returncode == 0), (src.name, expr, err.getvalue())
            if status == 0:
                assert ours.read_bytes() == theirs.read_bytes(), (src.name, expr)
                compared += 1
    assert compared >= len(sources)
