"""Damaged captures: bpfc writes what tcpdump writes, and never raises anything but its error.

Over 2,000 damaged variants of the upstream captures (:mod:`tests.damage`, fixed seeds):
each is read by ``tcpdump -r F -w OUT`` (the oracle: run in parallel subprocesses) and by
``bpfc filter -r F -w OUT`` in-process with both engines, each run under a timer.  For
every variant: no traceback, no hang, the same exit status class (0 or not), an output
file exactly when tcpdump made one, and the same packets in it.  The only differences
allowed are listed in :data:`ALLOWED` with their reasons.

A hypothesis test adds random byte mutations of real captures: only success or bpfc's own
:class:`~bpfc.capture.common.CaptureError` may come out of the readers and engines.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.damage import raw_fractions_in_range, variants
from support.oracles import master_soname_dir

from bpfc.capture import CaptureError, open_capture, read_packets
from bpfc.cli import main

TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
WANT = 2000
PER_RUN_SECONDS = 20
MAX_BASE_BYTES = 24_000

ALLOWED = {
    "raw-fraction": "a time stamp fraction out of its range (>= 1 s, or negative as a signed "
    "field): libpcap keeps the raw field, bpfc normalises it into the seconds",
    "mixed-interfaces": "a later pcapng interface with another link type or snapshot: bpfc "
    "reads mixed link types (one program per type), libpcap stops there",
}
"""Every difference from tcpdump the damaged-input test accepts, and why."""


class Hang(Exception):
    """A bpfc run took longer than :data:`PER_RUN_SECONDS`."""


def _bases(upstream: Path) -> list[Path]:
    files = sorted((upstream / "pcaps").glob("*.pcap*"))
    return [f for f in files if f.stat().st_size <= MAX_BASE_BYTES]


def _oracle_env() -> dict[str, str]:
    """tcpdump's environment: on libpcap master when it is built (master is the meaning)."""
    env = dict(os.environ)
    folder, _ = master_soname_dir()
    if folder is not None:
        env["LD_LIBRARY_PATH"] = str(folder)
    return env


def _tcpdump(src: Path, out: Path) -> tuple[int, str]:
    done = subprocess.run(
        [TCPDUMP, "-r", str(src), "-w", str(out)],
        capture_output=True,
        timeout=60,
        check=False,
        env=_oracle_env(),
    )
    return done.returncode, done.stderr.decode(errors="replace")


def _bpfc(src: Path, out: Path, engine: str) -> tuple[int, str]:
    """Run ``bpfc filter`` in-process under a timer; (status, stderr)."""

    def alarm(*_: object) -> None:
        raise Hang(f"{src.name}: more than {PER_RUN_SECONDS} s")

    err = io.StringIO()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, PER_RUN_SECONDS)
    try:
        with contextlib.redirect_stderr(err):
            status = main(["filter", "-q", "--engine", engine, "-r", str(src), "-w", str(out)])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return status, err.getvalue()


def _packets(path: Path, with_time: bool) -> list[tuple]:
    return [
        ((ts // 1000,) if with_time else ()) + (caplen, wirelen, data)
        for ts, caplen, wirelen, _, _, data in read_packets(path)
    ]


def _judge(ours: Path, theirs: Path, status: int, tstatus: int, terr: str, err: str) -> str | None:
    """None when bpfc's run agrees with tcpdump's, an ALLOWED key, or a description."""
    if ours.exists() and theirs.exists() and ours.read_bytes() == theirs.read_bytes():
        return None if (status == 0) == (tstatus == 0) else f"status {status} vs {tstatus}"
    if ("different from the" in terr) and status == 0:
        return "mixed-interfaces"
    if ours.exists() != theirs.exists():
        return f"output {ours.exists()} vs tcpdump's {theirs.exists()}: {err.strip()[:120]}"
    if (status == 0) != (tstatus == 0):
        return f"status {status} vs {tstatus}: {err.strip()[:120]} / {terr.strip()[-120:]}"
    if not ours.exists():
        return None
    timed = raw_fractions_in_range(theirs)
    if _packets(ours, timed) != _packets(theirs, timed):
        return "packets differ"
    return None if timed else "raw-fraction"


@needs_tcpdump
def test_damaged_variants_write_what_tcpdump_writes(upstream: Path, tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    jobs: list[tuple[str, Path]] = []
    for seed, base in enumerate(_bases(upstream)):
        for index, variant in enumerate(variants(base.read_bytes(), seed)):
            path = tmp_path / f"{seed}_{index}.cap"
            path.write_bytes(variant.data)
            jobs.append((f"{base.name}:{variant.name}", path))
        if len(jobs) >= WANT:
            break
    assert len(jobs) >= WANT, f"only {len(jobs)} variants"
    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        oracle = list(pool.map(lambda job: _tcpdump(job[1], job[1].with_suffix(".td")), jobs))
    tally: dict[str, int] = {"identical": 0, "same packets": 0}
    problems: list[str] = []
    for (name, src), (tstatus, terr) in zip(jobs, oracle, strict=True):
        theirs = src.with_suffix(".td")
        for engine in ("batch", "packet"):
            ours = src.with_suffix(f".{engine}")
            try:
                status, err = _bpfc(src, ours, engine)
            except Exception as exc:  # a traceback or a hang: never allowed
                problems.append(f"{name} [{engine}]: {type(exc).__name__}: {exc}")
                continue
            if err.strip() and len(err.strip().splitlines()) != 1:
                problems.append(f"{name} [{engine}]: error is not one line: {err!r}")
            verdict = _judge(ours, theirs, status, tstatus, terr, err)
            if verdict is None:
                same = ours.exists() and ours.read_bytes() == theirs.read_bytes()
                tally["identical" if same or not ours.exists() else "same packets"] += 1
            elif verdict in ALLOWED:
                tally[verdict] = tally.get(verdict, 0) + 1
            else:
                problems.append(f"{name} [{engine}]: {verdict}")
    print(f"\n{len(jobs)} damaged variants x 2 engines: {tally}; problems {len(problems)}")
    assert not problems, "\n".join(problems[:40])


MUTATION_BASES = ["afs.pcap", "pptp.pcap", "vsock-1.pcapng", "bgp-role.pcapng", "ipx.pcap"]


@given(
    base=st.sampled_from(MUTATION_BASES),
    edits=st.lists(
        st.tuples(st.integers(0, 4095), st.integers(0, 255), st.sampled_from(["set", "cut"])),
        min_size=1,
        max_size=6,
    ),
)
def test_random_mutations_give_packets_or_capture_error(
    upstream: Path, tmp_path_factory, base: str, edits: list
) -> None:
    """Readers (both iteration and chunks) and both engines: success or CaptureError only."""
    np = pytest.importorskip("numpy")
    del np
    blob = bytearray((upstream / "pcaps" / base).read_bytes())
    for at, value, kind in edits:
        at %= len(blob)
        if kind == "set":
            blob[at] = value
        else:
            del blob[at:]
            if not blob:
                break
    path = tmp_path_factory.mktemp("mut") / "m.cap"
    path.write_bytes(bytes(blob))
    for walk in ("iter", "chunks"):
        try:
            with open_capture(path) as reader:
                if walk == "iter":
                    for _ in reader:
                        pass
                else:
                    for chunk in reader.chunks(7):
                        for i in range(len(chunk)):
                            chunk.data(i)
                        chunk.ts_ns, chunk.wirelen  # noqa: B018 - gathered lazily
        except CaptureError:
            pass
    out = path.with_suffix(".out")
    for engine in ("batch", "packet"):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = main(["filter", "-q", "--engine", engine, "-r", str(path), "-w", str(out)])
        assert status in (0, 1)
        assert len(err.getvalue().strip().splitlines()) <= 1
        assert "Traceback" not in err.getvalue()


@needs_tcpdump
@pytest.mark.parametrize("engine", ["batch", "packet"])
@pytest.mark.parametrize("cut", ["block-header", "mid-block", "trailer"])
def test_damaged_vsock_pcapng_keeps_the_packets_before_the_fault(
    upstream: Path, tmp_path: Path, engine: str, cut: str
) -> None:
    """The user trial's case: a pcapng cut inside its 8th packet block, the first packet's
    time stamp past 2^63 ns (once an ``OverflowError`` that lost the whole chunk in the
    batch engine); tcpdump writes the 7 packets before the fault, and so must bpfc."""
    pytest.importorskip("numpy")
    from support.damage import units

    blob = (upstream / "pcaps" / "vsock-1.pcapng").read_bytes()
    packets = [start for start, _ in units(blob) if blob[start] == 6]
    eighth = packets[7]
    at = {"block-header": eighth + 5, "mid-block": eighth + 40, "trailer": eighth + 1}[cut]
    if cut == "trailer":
        at = packets[8] - 1 if len(packets) > 8 else len(blob) - 1
    src = tmp_path / "cut.pcapng"
    huge = bytearray(blob[:at])
    huge[packets[0] + 12 : packets[0] + 16] = b"\xff\xff\xff\xff"  # timestamp, high word
    src.write_bytes(bytes(huge))
    ours, theirs = tmp_path / "o.pcap", tmp_path / "t.pcap"
    assert _tcpdump(src, theirs)[0] == 1
    status, err = _bpfc(src, ours, engine)
    assert status == 1 and len(err.strip().splitlines()) == 1 and "byte offset" in err
    assert len(read_packets(theirs)) == 7
    assert ours.read_bytes() == theirs.read_bytes()
