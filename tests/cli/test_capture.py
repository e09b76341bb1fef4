"""``bpfc filter`` and ``bpfc capture`` end to end, against tcpdump where it is installed."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.damage import raw_fractions_in_range

from bpfc.capture import read_packets
from bpfc.capture.pcap import PcapWriter
from bpfc.capture.pcapng import PcapngWriter
from bpfc.cli import main

TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")

CASES = [
    ("afs.pcap", "udp port 7001 or icmp"),
    ("afs.pcap", "ip[2:2] > 300 and not udp port 7000"),
    ("dhcp-rfc4388.pcap", "arp or udp dst port 67"),
    ("babel.pcap", "ip6 and udp"),
    ("HDLC.pcap", "ip"),
    ("geneve.pcap", "geneve and tcp"),
    ("of13_ericsson.pcapng", "tcp[tcpflags] & tcp-push != 0"),
    ("timestamp_invalid_nano.pcap", "ip"),
    ("pptp.pcap", "tcp and greater 100"),  # big-endian: records re-encoded, same bytes
    ("tcp-handshake-nano.pcap", "tcp[tcpflags] & tcp-ack != 0"),
    ("aarp-heapoverflow-1.pcap", "not ip"),  # FCS bits in the link-type field are kept
]


def _tcpdump(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([TCPDUMP, *args], capture_output=True, timeout=60)


def _ddd(tmp: Path, linktype: str, expr: str) -> Path:
    done = _tcpdump(["-y", linktype, "-ddd", expr])
    assert done.returncode == 0, done.stderr
    path = tmp / "prog.ddd"
    path.write_bytes(done.stdout)
    return path


@needs_tcpdump
@pytest.mark.parametrize("name,expr", CASES, ids=[f"{n}:{e}" for n, e in CASES])
@pytest.mark.parametrize("engine", ["batch", "packet"])
def test_output_equals_tcpdump_w(
    upstream: Path, tmp_path: Path, name: str, expr: str, engine: str
) -> None:
    if engine == "batch":
        pytest.importorskip("numpy")
    src = upstream / "pcaps" / name
    ours, theirs = tmp_path / "ours.pcap", tmp_path / "theirs.pcap"
    assert _tcpdump(["-r", str(src), "-w", str(theirs), expr]).returncode == 0
    linktype = _tcpdump(["-r", str(src), "-c", "1", "-nn"]).stderr.decode().split("link-type ")[1]
    program = _ddd(tmp_path, linktype.split()[0], expr)
    assert (
        main(
            [
                "filter",
                "-q",
                "--engine",
                engine,
                "-r",
                str(src),
                "-w",
                str(ours),
                "--program",
                str(program),
            ]
        )
        == 0
    )
    if src.suffix == ".pcap" and "nano" not in name:
        assert ours.read_bytes() == theirs.read_bytes()  # byte-identical files
    want = [p[1:3] + p[5:] for p in read_packets(theirs)]
    assert [p[1:3] + p[5:] for p in read_packets(ours)] == want
    assert want  # the case is not vacuous


def _mixed(tmp: Path) -> Path:
    """A pcapng file with an Ethernet and a raw-IP interface, packets interleaved."""
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, b"\1\2\3\4", b"\5\6\7\x08")
    udp = struct.pack(">HHHH", 1, 53, 8, 0)
    ether = b"\xff" * 6 + b"\2" * 6 + b"\x08\x00"
    path = tmp / "mixed.pcapng"
    with open(path, "wb") as out:
        writer = PcapngWriter(out)
        for i in range(6):
            tail = ip + (udp if i % 3 else struct.pack(">HHHH", 1, 80, 8, 0))
            if i % 2:
                writer.write(i * 10**9, len(tail), tail, 101)
            else:
                writer.write(i * 10**9, 14 + len(tail), ether + tail, 1)
    return path


def test_one_program_per_link_type_in_a_mixed_pcapng(tmp_path: Path, capsys) -> None:
    path = _mixed(tmp_path)
    assert main(["filter", "--brief", "-r", str(path), "udp port 53"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["2", "3", "5", "6"]
    out = tmp_path / "o.pcapng"
    assert main(["filter", "-q", "-r", str(path), "-w", str(out), "udp port 53"]) == 0
    assert [(lt, len(d)) for _, _, _, lt, _, d in read_packets(out)] == [
        (101, 28),
        (1, 42),
        (1, 42),
        (101, 28),
    ]
    # a pcap file holds one link type: refused, after writing what fitted
    assert main(["filter", "-q", "-r", str(path), "-w", str(tmp_path / "o.pcap"), "udp"]) == 1
    assert "one link type" in capsys.readouterr().err


def test_count_limit_and_lines(upstream: Path, capsys) -> None:
    src = str(upstream / "pcaps" / "afs.pcap")
    assert main(["filter", "-q", "--count", "-r", src, "udp port 7001 or icmp"]) == 0
    assert capsys.readouterr().out == "163 packets\n"
    assert main(["filter", "--brief", "-c", "2", "-r", src, "icmp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    index, stamp, caplen = lines[0].split()
    assert int(index) >= 1 and "." in stamp and int(caplen) > 0
    assert main(["filter", "-v", "-r", src, "-c", "5", "--count", "udp"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "5 packets\n" and "5 matched" in captured.err


def test_summary_names_engine_and_rate(upstream: Path, capsys) -> None:
    assert main(["filter", "-v", "--count", "-r", str(upstream / "pcaps" / "afs.pcap")]) == 0
    err = capsys.readouterr().err
    assert "601 packets read, 601 matched" in err and "packets/s" in err


@pytest.mark.parametrize("engine", ["batch", "packet"])
def test_corrupt_input_writes_every_complete_match_then_fails(
    upstream: Path, tmp_path: Path, capsys, engine: str
) -> None:
    blob = (upstream / "pcaps" / "afs.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(blob[:30000])
    out = tmp_path / "o.pcap"
    if engine == "batch":
        pytest.importorskip("numpy")
    assert main(["filter", "-q", "--engine", engine, "-r", str(cut), "-w", str(out), "udp"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cut.pcap" in err[0] and "byte offset 29931" in err[0]
    # all complete packets before the cut were judged: compare with a clean prefix file
    prefix = tmp_path / "prefix.pcap"
    prefix.write_bytes(blob[:29931])
    ok = tmp_path / "ok.pcap"
    assert main(["filter", "-q", "-r", str(prefix), "-w", str(ok), "udp"]) == 0
    assert out.read_bytes() == ok.read_bytes() and len(read_packets(ok)) == 112


def test_nanosecond_input_keeps_nanoseconds_when_asked(tmp_path: Path) -> None:
    """As tcpdump: microseconds by default (truncated), nanoseconds with the option."""
    src = tmp_path / "n.pcap"
    stamps = [10**18 + i * 7 + 1234 * i for i in range(4)]
    with open(src, "wb") as handle:
        writer = PcapWriter(handle, 1, 65535, nsec=True)
        for stamp in stamps:
            writer.write(stamp, 60, bytes(60))
    micro = tmp_path / "u.pcap"
    assert main(["filter", "-q", "-r", str(src), "-w", str(micro)]) == 0
    assert [p[0] for p in read_packets(micro)] == [s // 1000 * 1000 for s in stamps]
    nano = ["--time-stamp-precision", "nano"]
    out = tmp_path / "o.pcap"
    assert main(["filter", "-q", *nano, "-r", str(src), "-w", str(out)]) == 0
    assert out.read_bytes() == src.read_bytes()
    ng = tmp_path / "o.pcapng"
    assert main(["filter", "-q", *nano, "-r", str(src), "-w", str(ng)]) == 0
    assert [p[0] for p in read_packets(ng)] == stamps


def test_usage_errors_are_one_line(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.pcap"
    assert main(["filter", "-r", str(missing), "ip"]) == 1
    assert "nope.pcap" in capsys.readouterr().err
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"hello world, not a capture")
    assert main(["filter", "-r", str(bad), "ip"]) == 1
    assert "unknown file format" in capsys.readouterr().err
    prog = tmp_path / "p.ddd"
    prog.write_text("1\n6 0 0 1\n")
    good = _mixed(tmp_path)
    assert main(["filter", "-r", str(good), "--program", str(prog), "ip"]) == 1
    assert "not both" in capsys.readouterr().err


def _can_capture() -> bool:
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _can_capture(), reason="live capture needs Linux and CAP_NET_RAW")
def test_bpfc_capture_on_loopback(tmp_path: Path) -> None:
    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    recv.bind(("127.0.0.1", 0))
    port = recv.getsockname()[1]
    out = tmp_path / "live.pcap"

    stop = threading.Event()

    def send() -> None:  # until the capture has what it wants (its start-up takes a while)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(200):
                if stop.wait(0.05):
                    return
                s.sendto(b"live-%03d" % i, ("127.0.0.1", port))
                s.sendto(b"other", ("127.0.0.1", port ^ 1))

    thread = threading.Thread(target=send)
    thread.start()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bpfc",
            "capture",
            "-i",
            "lo",
            "-c",
            "3",
            "--timeout",
            "10",
            "-v",
            "-w",
            str(out),
            f"udp dst port {port}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    stop.set()
    thread.join()
    recv.close()
    assert done.returncode == 0, done.stderr
    got = [int(d[-3:]) for _, _, _, _, _, d in read_packets(out)]
    assert len(got) == 3 and got == list(range(got[0], got[0] + 3))
    assert "3 packets captured" in done.stderr


def test_y_compiles_for_another_link_type(upstream: Path, capsys) -> None:
    """A raw-IPv4 file read as if it were Ethernet: the verdicts change with the link type."""
    src = str(upstream / "pcaps" / "LINKTYPE_RAW_ipv4.pcap")
    assert main(["filter", "-q", "--count", "-r", src, "udp port 53"]) == 0
    assert capsys.readouterr().out == "1 packet\n"
    assert main(["filter", "-q", "--count", "-y", "EN10MB", "-r", src, "udp port 53"]) == 0
    assert capsys.readouterr().out == "0 packets\n"


def test_shb_only_pcapng_is_refused_as_libpcap_refuses_it(tmp_path: Path, capsys) -> None:
    """No interface description block: libpcap cannot open the file, so no output is made
    (an existing one is left alone) and the error is one line."""
    src = tmp_path / "shb.pcapng"
    with open(src, "wb") as handle:
        PcapngWriter(handle)
    out = tmp_path / "o.pcap"
    out.write_bytes(b"keep me")
    assert main(["filter", "-q", "-r", str(src), "-w", str(out), "ip"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Interface Description Blocks" in err[0]
    assert out.read_bytes() == b"keep me"
    if TCPDUMP is not None:
        theirs = tmp_path / "t.pcap"
        assert _tcpdump(["-r", str(src), "-w", str(theirs)]).returncode == 1
        assert not theirs.exists()


def test_progress_bar_draws_and_clears(capsys) -> None:
    from bpfc.cli.capture import _Bar

    bar = _Bar()
    bar(50, 100, 1234)
    bar(75, 100, 2000)  # within 0.1 s: not redrawn
    bar.clear()
    err = capsys.readouterr().err
    assert "50%" in err and "1,234 packets" in err and "75%" not in err and err.endswith("\r")


def test_read_from_standard_input(upstream: Path, tmp_path: Path) -> None:
    src = upstream / "pcaps" / "afs.pcap"
    out = tmp_path / "o.pcap"
    with open(src, "rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "bpfc", "filter", "-q", "-r", "-", "-w", str(out), "icmp"],
            stdin=stdin,
            capture_output=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    direct = tmp_path / "d.pcap"
    assert main(["filter", "-q", "-r", str(src), "-w", str(direct), "icmp"]) == 0
    assert out.read_bytes() == direct.read_bytes() and read_packets(out)


def test_capture_on_a_missing_interface_is_one_line(capsys) -> None:
    assert main(["capture", "-i", "nosuchif0", "-c", "1", "ip"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["bpfc capture: no such interface 'nosuchif0'"]


@needs_tcpdump
def test_copying_every_upstream_capture_equals_tcpdump_w(upstream: Path, tmp_path: Path) -> None:
    """No expression: the output equals tcpdump's byte for byte (pcap and pcapng inputs).

    Only a file whose time stamp fractions are out of range differs: libpcap keeps the raw
    field, bpfc's readers normalise it (the packets are the same).
    """
    files = sorted((upstream / "pcaps").glob("*.pcap*"))
    files += sorted((upstream / "libpcap-savefiles" / "filter").glob("*.pcap*"))
    theirs, ours = tmp_path / "t.pcap", tmp_path / "o.pcap"
    identical = 0
    for src in files:
        assert _tcpdump(["-r", str(src), "-w", str(theirs)]).returncode == 0, src.name
        assert main(["filter", "-q", "-r", str(src), "-w", str(ours)]) == 0, src.name
        if ours.read_bytes() == theirs.read_bytes():
            identical += 1
            continue
        assert not raw_fractions_in_range(theirs), src.name
        same = [p[1:3] + p[5:] for p in read_packets(ours)]
        assert same == [p[1:3] + p[5:] for p in read_packets(theirs)], src.name
    assert identical == len(files) - 1
