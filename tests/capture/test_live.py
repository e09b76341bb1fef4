"""Live capture and the kernel as a judge: its verdicts must equal our interpreter's.

Cheap, no root: attach programs to a UDP socket on 127.0.0.1.  A socket filter on a UDP
socket sees the datagram from the UDP header on (ports, length, checksum, payload), ``len``
is 8 + the payload length, and a return value shorter than that trims the datagram (never
below the 8-byte header).  On loopback the checksum field may still hold a partial sum when
the filter runs, so the random programs never load bytes 6-7.

With root: a TPACKET_V3 capture on ``lo`` and on one end of a veth pair inside a private
network namespace; frames are sent on the other end, and each program's capture must hold
exactly the frames our interpreter accepts.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from support.live_frames import UNICAST, ether, ipv4, l4, mixed_frames

from bpfc.capture.live import attach
from bpfc.vm.interp import interpret

ROOT = os.geteuid() == 0
IP = shutil.which("ip")

# -- the UDP socket check -----------------------------------------------------------------


def _udp_view(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


SAFE_LOADS = [(0x30, k) for k in (*range(0, 6), *range(8, 30))]
SAFE_LOADS += [(0x28, k) for k in (*range(0, 5), *range(8, 30))]
SAFE_LOADS += [(0x20, k) for k in (*range(0, 3), *range(8, 30))]
ALU_CODES = [0x04 | op for op in range(0, 0xB0, 0x10) if op not in (0x30, 0x90)]
ALU_CODES += [0x0C | op for op in range(0, 0xB0, 0x10) if op != 0x80]
COND = [0x05 | op | src for op in (0x10, 0x20, 0x30, 0x40) for src in (0, 8)]


@st.composite
def udp_programs(draw: st.DrawFn) -> list:
    n = draw(st.integers(2, 10))
    prog = []
    small = st.one_of(st.integers(0, 64), st.integers(0, 0xFFFFFFFF))
    for pc in range(n - 1):
        room = n - pc - 2
        kind = draw(st.sampled_from(["load", "load", "alu", "cond", "misc"]))
        if kind == "load":
            code, k = draw(st.sampled_from(SAFE_LOADS + [(0x80, 0), (0x00, 77), (0x81, 0)]))
            prog.append((code, 0, 0, k))
        elif kind == "alu":
            code = draw(st.sampled_from(ALU_CODES))
            k = draw(st.integers(0, 40)) if code & 0xF0 in (0x60, 0x70) else draw(small)
            prog.append((code, 0, 0, k))
        elif kind == "cond":
            prog.append(
                (
                    draw(st.sampled_from(COND)),
                    draw(st.integers(0, room)),
                    draw(st.integers(0, room)),
                    draw(small),
                )
            )
        else:
            prog.append((draw(st.sampled_from([0x07, 0x87, 0x01])), 0, 0, draw(small)))
    prog.append(
        draw(
            st.sampled_from(
                [(0x16, 0, 0, 0), (0x06, 0, 0, 0), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 13)]
            )
        )
    )
    return prog


def _judge(prog: list, payloads: list[bytes]) -> bool:
    """Send each payload to a UDP socket filtered by ``prog``; check against the interpreter.

    A sentinel datagram from a port the program is wrapped to accept follows each test
    datagram, so a drop is known without waiting.  False when the kernel refuses ``prog``.
    """
    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    send = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sentinel = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for sock in (recv, send, sentinel):
            sock.bind(("127.0.0.1", 0))
        sentinel_port = sentinel.getsockname()[1]
        guard = [
            (0x28, 0, 0, 0),
            (0x15, 0, 1, sentinel_port),
            (0x06, 0, 0, 0xFFFF),
            (0x00, 0, 0, 0),
        ]  # ... then A = 0 again, as at the start of prog
        try:
            attach(recv, guard + [tuple(insn) for insn in prog])
        except OSError:
            return False
        dport, sport = recv.getsockname()[1], send.getsockname()[1]
        for payload in payloads:
            send.sendto(payload, recv.getsockname())
            sentinel.sendto(b"S", recv.getsockname())
            got = None
            while select.select([recv], [], [], 2)[0]:
                data, peer = recv.recvfrom(65535)
                if peer[1] == sentinel_port:
                    break
                got = data
            want = interpret(prog, _udp_view(sport, dport, payload), None, linux=True)
            assert (got is not None) == (want != 0), (prog, payload)
            if got is not None:  # the return value trims the datagram, never below the header
                assert len(got) == min(len(payload), max(want, 8) - 8)
        return True
    finally:
        for sock in (recv, send, sentinel):
            sock.close()


@given(prog=udp_programs(), payloads=st.lists(st.binary(max_size=24), min_size=1, max_size=4))
def test_udp_socket_filter_verdicts_equal_the_interpreter(prog: list, payloads: list) -> None:
    assume(_judge(prog, payloads))


HAND_WRITTEN = [
    [(0x80, 0, 0, 0), (0x25, 0, 1, 12), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)],  # len > 12
    [(0x30, 0, 0, 8), (0x15, 0, 1, 0x41), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)],  # first 'A'
    [(0x20, 0, 0, 10), (0x16, 0, 0, 0)],  # ld [10] out of bounds on short datagrams
    [(0x30, 0, 0, 8), (0x07, 0, 0, 0), (0x00, 0, 0, 100), (0x3C, 0, 0, 0), (0x16, 0, 0, 0)],
    [(0x30, 0, 0, 8), (0x07, 0, 0, 0), (0x00, 0, 0, 0xF0), (0x6C, 0, 0, 0), (0x16, 0, 0, 0)],
    [(0xB1, 0, 0, 8), (0x50, 0, 0, 0), (0x16, 0, 0, 0)],  # ldxb 4*([8]&0xf); ldb [x + 0]
    [(0x06, 0, 0, 10)],  # trims to 2 payload bytes
]


@pytest.mark.parametrize("prog", HAND_WRITTEN, ids=range(len(HAND_WRITTEN)))
def test_udp_socket_filter_hand_written(prog: list) -> None:
    payloads = [b"", b"A", b"AB", b"\x03bcdefgh", b"\x41" * 20, b"\x00\x10\x20", b"\xff" * 9]
    assert _judge(prog, payloads)


# -- TPACKET_V3 captures (root) ------------------------------------------------------------


def _packet_sockets() -> bool:
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    except (OSError, AttributeError):
        return False
    return True


needs_root = pytest.mark.skipif(
    not ROOT or not _packet_sockets(), reason="live capture needs root (CAP_NET_RAW)"
)


@needs_root
def test_loopback_capture_skips_outgoing_duplicates() -> None:
    from bpfc.capture.live import LiveCapture, collect

    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    recv.bind(("127.0.0.1", 0))
    port = recv.getsockname()[1]
    # udp dst port == port (IPv4 on Ethernet framing, as lo presents it)
    prog = [
        (0x28, 0, 0, 12), (0x15, 0, 6, 0x800), (0x30, 0, 0, 23), (0x15, 0, 4, 17),
        (0x28, 0, 0, 20), (0x45, 2, 0, 0x1FFF), (0xB1, 0, 0, 14), (0x48, 0, 0, 16),
        (0x15, 1, 0, port), (0x06, 0, 0, 0), (0x06, 0, 0, 262144),
    ]  # fmt: skip
    with LiveCapture("lo", prog) as capture:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as send:
            for i in range(5):
                send.sendto(b"payload-%d" % i, ("127.0.0.1", port))
            send.sendto(b"elsewhere", ("127.0.0.1", port ^ 1 or 1))
        got = collect(capture, 2, 3)  # stops inside a ring block ...
        time.sleep(0.05)
        got += collect(capture, None, 0.2)  # ... which the next call resumes
        assert [data[-9:] for _, _, data in got] == [b"payload-%d" % i for i in range(5)]
        assert capture.skipped_outgoing == 5
        assert all(wirelen == len(data) for _, wirelen, data in got)
    recv.close()


NETNS_SCRIPT = r"""
import json, socket, sys, time
from bpfc.capture.live import LiveCapture, collect
spec = json.loads(sys.argv[1])
frames = [bytes.fromhex(h) for h in spec["frames"]]
caps = [LiveCapture("vb", prog) for prog in spec["programs"]]
everything = LiveCapture("vb", None)
send = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
send.bind(("va", 0))
for frame in frames:
    send.send(frame)
seen = collect(everything, len(frames), 5)
out = {"all": [d.hex() for _, _, d in seen], "filtered": []}
for cap in caps:
    out["filtered"].append([d.hex() for _, _, d in collect(cap, None, 0.3)])
print(json.dumps(out))
"""


def _test_frames() -> list[bytes]:
    vlan_udp = struct.pack(">HH", 0x2005, 0x800) + ipv4(17, l4(9, 53, 7, False))
    return [*mixed_frames(), ether(UNICAST, 0x8100, vlan_udp)]


def _kernel_view(frame: bytes) -> bytes:
    """What a socket filter sees: the kernel moves an 802.1Q tag out of the frame."""
    if frame[12:14] == b"\x81\x00":
        return frame[:12] + frame[16:]
    return frame


EXPRESSIONS = [
    "udp",
    "tcp port 80",
    "arp or (ip and ip[8] < 64)",
    "ether broadcast",
    "ip6",
    "greater 60",
    "tcp[tcpflags] & tcp-syn != 0 and not port 443",
    "icmp or udp dst port 7000",
]


@needs_root
@pytest.mark.skipif(IP is None, reason="the ip(8) tool is not installed")
def test_kernel_verdicts_on_a_veth_pair_equal_the_interpreter(tmp_path: Path) -> None:
    libpcap = pytest.importorskip("bpfc.libpcap")
    if not libpcap.available():
        pytest.skip("libpcap (the compiler used for these programs) is not available")
    programs = [[list(i) for i in libpcap.compile(e, 1, 262144, True, 0)] for e in EXPRESSIONS]
    frames = _test_frames()
    ns = f"bpfc-h3-{uuid.uuid4().hex[:8]}"
    run = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True, timeout=20)  # noqa: E731
    try:
        run(IP, "netns", "add", ns)
    except subprocess.CalledProcessError as err:
        pytest.skip(f"cannot create a network namespace here: {err.stderr.decode().strip()}")
    try:
        run(IP, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        run(IP, "-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        for name in ("va", "vb"):
            run(IP, "-n", ns, "link", "set", name, "up")
        spec = json.dumps({"frames": [f.hex() for f in frames], "programs": programs})
        done = subprocess.run(
            [IP, "netns", "exec", ns, sys.executable, "-c", NETNS_SCRIPT, spec],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
    finally:
        subprocess.run([IP, "netns", "del", ns], capture_output=True, timeout=20)
    sent = {f.hex() for f in frames}
    seen = [h for h in result["all"] if h in sent]
    # every frame, in order, byte for byte (the VLAN tag put back as libpcap does)
    assert seen == [f.hex() for f in frames]
    for expr, prog, captured in zip(EXPRESSIONS, programs, result["filtered"], strict=True):
        want = [f.hex() for f in frames if interpret(prog, _kernel_view(f), None, linux=True)]
        assert [h for h in captured if h in sent] == want, expr
        assert 0 < len(want) < len(frames), expr
