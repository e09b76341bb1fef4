"""``-w`` never loses data: refused before it is touched, written beside it, renamed at the end.

Each case starts from an existing target with known bytes and checks what is left after a
run that must fail (bad expression, bad ``-y``, the input named as output, a full disk)
and after one that succeeds (a valid capture, read back by tcpdump where installed).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from bpfc.capture import read_packets
from bpfc.cli import main

TCPDUMP = shutil.which("tcpdump")
KEEP = b"existing target, must survive"
ENGINES = ["batch", "packet"]


def _src(upstream: Path, tmp: Path, name: str = "afs.pcap") -> Path:
    copy = tmp / name
    shutil.copyfile(upstream / "pcaps" / name, copy)
    return copy


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def _tcpdump_reads(path: Path) -> bool:
    if TCPDUMP is None:
        return True
    done = subprocess.run([TCPDUMP, "-r", str(path), "-c", "1"], capture_output=True, timeout=60)
    return done.returncode == 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["afs.pcap", "vsock-1.pcapng"])
@pytest.mark.parametrize("spelling", ["same", "symlink", "hardlink", "dotted"])
def test_output_naming_the_input_is_refused(
    upstream: Path, tmp_path: Path, capsys, engine: str, name: str, spelling: str
) -> None:
    if engine == "batch":
        pytest.importorskip("numpy")
    src = _src(upstream, tmp_path, name)
    before = src.read_bytes()
    out = {
        "same": src,
        "symlink": tmp_path / "link",
        "hardlink": tmp_path / "hard",
        "dotted": tmp_path / "." / name,
    }[spelling]
    if spelling == "symlink":
        out.symlink_to(src)
    elif spelling == "hardlink":
        os.link(src, out)
    assert main(["filter", "--engine", engine, "-r", str(src), "-w", str(out), "udp"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to write the file being read" in err[0]
    assert src.read_bytes() == before
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize(
    "args",
    [["tcp prot 80"], ["-y", "NOSUCHTYPE", "tcp"], ["ip", "and"], ["-y", "EN10MB", "wlan host 1"]],
    ids=["typo", "bad-y", "incomplete", "wrong-link"],
)
def test_a_refused_expression_leaves_the_target_alone(
    upstream: Path, tmp_path: Path, capsys, args: list[str]
) -> None:
    out = tmp_path / "out.pcap"
    out.write_bytes(KEEP)
    src = str(upstream / "pcaps" / "afs.pcap")
    assert main(["filter", "-r", src, "-w", str(out), *args[:-1], args[-1]]) == 1
    assert out.read_bytes() == KEEP
    assert not _leftovers(tmp_path)
    assert capsys.readouterr().err.strip()


def test_a_refused_expression_creates_no_file(upstream: Path, tmp_path: Path) -> None:
    out = tmp_path / "new.pcap"
    src = str(upstream / "pcaps" / "afs.pcap")
    assert main(["filter", "-r", src, "-w", str(out), "tcp prot 80"]) == 1
    assert not out.exists() and not _leftovers(tmp_path)


@pytest.mark.parametrize("engine", ENGINES)
def test_success_replaces_the_target_through_a_symlink_and_keeps_its_mode(
    upstream: Path, tmp_path: Path, engine: str
) -> None:
    if engine == "batch":
        pytest.importorskip("numpy")
    real = tmp_path / "real.pcap"
    real.write_bytes(KEEP)
    real.chmod(0o640)
    link = tmp_path / "link.pcap"
    link.symlink_to(real)
    src = str(upstream / "pcaps" / "afs.pcap")
    assert main(["filter", "-q", "--engine", engine, "-r", src, "-w", str(link), "udp"]) == 0
    assert link.is_symlink() and read_packets(link)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert not _leftovers(tmp_path)


def test_a_new_file_gets_the_umask_mode(upstream: Path, tmp_path: Path) -> None:
    src, out = str(upstream / "pcaps" / "afs.pcap"), tmp_path / "new.pcap"
    old = os.umask(0o027)
    try:
        assert main(["filter", "-q", "-r", src, "-w", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.mark.parametrize("engine", ENGINES)
def test_dev_full_is_one_line_and_status_1(upstream: Path, capsys, engine: str) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    if engine == "batch":
        pytest.importorskip("numpy")
    src = str(upstream / "pcaps" / "afs.pcap")
    assert main(["filter", "-q", "--engine", engine, "-r", src, "-w", "/dev/full"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/dev/full" in err[0] and "No space left" in err[0]


@pytest.fixture
def small_tmpfs():
    """A 64 KiB tmpfs (root only): a real full disk for the write-error path."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    folder = Path(tempfile.mkdtemp(prefix="bpfc-full-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)
        folder.rmdir()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pcapng", [False, True])
def test_full_disk_leaves_the_target_exactly_as_it_was(
    upstream: Path, small_tmpfs: Path, capsys, engine: str, pcapng: bool
) -> None:
    if engine == "batch":
        pytest.importorskip("numpy")
    out = small_tmpfs / "out.pcap"
    out.write_bytes(KEEP)
    args = ["filter", "-q", "--engine", engine, "-r", str(upstream / "pcaps" / "afs.pcap")]
    args += ["-w", str(out)] + (["--pcapng"] if pcapng else [])
    assert main(args) == 1  # afs.pcap is 500 KB: it cannot fit in 64 KiB
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left" in err[0]
    assert out.read_bytes() == KEEP
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["out.pcap"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["afs.pcap", "vsock-1.pcapng", "tcp-handshake-nano.pcap"])
@pytest.mark.parametrize("pcapng", [False, True])
def test_zero_matches_still_give_a_file_tcpdump_reads(
    upstream: Path, tmp_path: Path, engine: str, name: str, pcapng: bool
) -> None:
    if engine == "batch":
        pytest.importorskip("numpy")
    out = tmp_path / ("o.pcapng" if pcapng else "o.pcap")
    src = str(upstream / "pcaps" / name)
    assert main(["filter", "-q", "--engine", engine, "-r", src, "-w", str(out), "less 1"]) == 0
    assert read_packets(out) == []
    assert _tcpdump_reads(out)
    if pcapng:  # the section header and an interface description block
        assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a" and len(out.read_bytes()) > 28


def test_pcapng_output_declares_every_input_interface(tmp_path: Path) -> None:
    from bpfc.capture.pcapng import PcapngReader, PcapngWriter

    src = tmp_path / "two.pcapng"
    with open(src, "wb") as handle:
        ng = PcapngWriter(handle)
        ng.interface(1, 0)
        ng.interface(101, 1)
        ng.write(1, 4, b"\0\0\0\0", 101, 1)
    out = tmp_path / "o.pcapng"
    assert main(["filter", "-q", "-r", str(src), "-w", str(out), "--pcapng", "less 1"]) == 0
    with PcapngReader(str(out)) as reader:
        list(reader)
        assert reader.linktypes == {0: 1, 1: 101}


def test_a_damaged_input_keeps_the_packets_before_the_fault(
    upstream: Path, tmp_path: Path, capsys
) -> None:
    blob = (upstream / "pcaps" / "afs.pcap").read_bytes()
    src = tmp_path / "cut.pcap"
    src.write_bytes(blob[: len(blob) // 2])
    out = tmp_path / "o.pcap"
    out.write_bytes(KEEP)
    assert main(["filter", "-q", "-r", str(src), "-w", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(src) in err[0] and "byte offset" in err[0]
    kept = read_packets(out)
    assert kept and kept == read_packets(upstream / "pcaps" / "afs.pcap")[: len(kept)]


@pytest.mark.parametrize(
    "args",
    [["-i", "lo", "tcp prot 80"], ["-i", "nosuchif0", "ip"]],
    ids=["bad-expression", "no-interface"],
)
def test_capture_refusals_leave_the_target_alone(tmp_path: Path, capsys, args: list[str]) -> None:
    out = tmp_path / "live.pcap"
    out.write_bytes(KEEP)
    assert main(["capture", "-c", "1", "-w", str(out), *args]) == 1
    assert out.read_bytes() == KEEP and not _leftovers(tmp_path)
    assert capsys.readouterr().err.strip()


def test_stdin_input_and_output_the_same_file_is_refused(
    upstream: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    src = _src(upstream, tmp_path)
    before = src.read_bytes()
    with open(src, "rb") as handle:
        monkeypatch.setattr("sys.stdin", handle)
        assert main(["filter", "-r", "-", "-w", str(src)]) == 1
    assert src.read_bytes() == before
    assert "refusing" in capsys.readouterr().err


def _can_capture() -> bool:
    import socket

    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _can_capture(), reason="live capture needs Linux and CAP_NET_RAW")
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_a_stopped_capture_keeps_its_packets_and_no_temporary_file(
    tmp_path: Path, stop: str
) -> None:
    import signal
    import socket
    import sys
    import time

    out = tmp_path / "live.pcap"
    out.write_bytes(KEEP)
    port = 40000 + os.getpid() % 20000
    proc = subprocess.Popen(
        [sys.executable, "-m", "bpfc", "capture", "-q", "-i", "lo", "-w", str(out)]
        + ["--timeout", "30", f"udp dst port {port}"],
        stderr=subprocess.PIPE,
    )
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not _leftovers(tmp_path):
                time.sleep(0.05)  # the temporary file appears once the capture runs
            for i in range(20):
                s.sendto(b"kept-%02d" % i, ("127.0.0.1", port))
                time.sleep(0.01)
        time.sleep(0.5)
        proc.send_signal(getattr(signal, stop))
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    got = read_packets(out)
    assert got and all(d.endswith(b"kept-%02d" % int(d[-2:])) for *_, d in got)
    assert not _leftovers(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_a_replaced_file_keeps_its_owner(upstream: Path, tmp_path: Path) -> None:
    out = tmp_path / "owned.pcap"
    out.write_bytes(KEEP)
    os.chown(out, 12345, 23456)
    src = str(upstream / "pcaps" / "afs.pcap")
    assert main(["filter", "-q", "-r", src, "-w", str(out), "udp"]) == 0
    assert (out.stat().st_uid, out.stat().st_gid) == (12345, 23456) and read_packets(out)


def test_a_fifo_target_is_written_in_place(upstream: Path, tmp_path: Path) -> None:
    """A FIFO cannot be renamed over: it is written as it is (and no file appears beside)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = tmp_path / "got.pcap"
    with open(got, "wb") as sink:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
        src = str(upstream / "pcaps" / "afs.pcap")
        assert main(["filter", "-q", "-r", src, "-w", str(fifo), "udp"]) == 0
        assert reader.wait(timeout=30) == 0
    direct = tmp_path / "direct.pcap"
    assert main(["filter", "-q", "-r", src, "-w", str(direct), "udp"]) == 0
    assert got.read_bytes() == direct.read_bytes()
    assert not _leftovers(tmp_path)
