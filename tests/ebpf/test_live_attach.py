"""Live: translated filters attached with ip(8) and tc(8) pass exactly what the interpreter accepts.

A veth pair ``va``-``vb`` in a private network namespace.  Each filter is translated
to eBPF and written as an ELF object (:meth:`EbpfProgram.elf`); then

* XDP: ``ip link set dev vb xdp obj F sec xdp``; frames sent on ``va`` with a packet
  socket, and a packet socket on ``vb`` (packet taps run after XDP) records which frames
  got through: exactly those the interpreter accepts, in order;
* TC egress: ``tc filter add dev va egress bpf direct-action obj F sec tc``; egress TC
  runs before the frame leaves ``va``, so the packet socket on ``vb`` again names every
  frame that passed;
* TC ingress (the issue's command): ``tc filter add dev vb ingress bpf direct-action
  obj F sec tc``; ingress TC runs *after* the packet taps, so here the clsact qdisc's
  counters judge: it drops exactly as many frames as the interpreter rejects.

Needs root, ip(8), tc(8) and network namespaces; skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from support.live_frames import BROADCAST, ether, mixed_frames

import bpfc
from bpfc.ebpf import kernel
from bpfc.vm.interp import interpret

IP, TC = shutil.which("ip"), shutil.which("tc")
REASON = kernel.unavailable()
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
    pytest.mark.skipif(os.geteuid() != 0, reason="attaching XDP/TC programs needs root"),
    pytest.mark.skipif(IP is None or TC is None, reason="ip(8) or tc(8) is not installed"),
]

EXPRESSIONS = [
    "udp",
    "tcp port 80",
    "arp or (ip and ip[8] < 64)",
    "ether broadcast",
    "ip6 or icmp",
    "greater 60",
    "tcp[tcpflags] & tcp-syn != 0 and not port 443",
    "ip[2:2] > 40 or udp dst port 7000",
]

NETNS_SCRIPT = r"""
import json, socket, sys, time
from bpfc.capture.live import LiveCapture, collect
spec = json.loads(sys.argv[1])
frames = [bytes.fromhex(h) for h in spec["frames"]]
seen = LiveCapture("vb", None)
send = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
send.bind(("va", 0))
for frame in frames:
    try:
        send.send(frame)
    except OSError as err:  # ENOBUFS: dropped by TC on egress
        if err.errno != 105:
            raise
got = [d.hex() for _, _, d in collect(seen, len(frames), float(spec["wait"]))]
print(json.dumps(got))
"""


def frames() -> list[bytes]:
    """Distinct frames (no two equal) that split every expression's verdicts."""
    extra = b"broadcast local experimental, a longer frame " * 2
    return [*mixed_frames(), ether(BROADCAST, 0x88B5, extra)]


class Namespace:
    """A private network namespace with a veth pair ``va``-``vb``, both up."""

    def __init__(self) -> None:
        self.name = f"bpfc-ebpf-{uuid.uuid4().hex[:8]}"

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(cmd[:6])}...: {done.stderr.strip()[-2000:]}")
        return done

    def __enter__(self) -> Namespace:
        done = self.run(IP, "netns", "add", self.name, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot create a network namespace here: {done.stderr.strip()}")
        self.run(IP, "netns", "exec", self.name, "sysctl", "-qw",
                 "net.ipv6.conf.default.disable_ipv6=1")  # fmt: skip
        self.run(IP, "-n", self.name, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        for dev in ("va", "vb"):
            self.run(IP, "-n", self.name, "link", "set", dev, "up")
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(IP, "netns", "del", self.name, check=False)

    def send(self, sent: list[bytes], wait: float) -> list[bytes]:
        """Send ``sent`` on va; the frames (of ``sent``) a packet socket on vb saw, in order."""
        spec = json.dumps({"frames": [f.hex() for f in sent], "wait": wait})
        done = self.run(IP, "netns", "exec", self.name, sys.executable, "-c", NETNS_SCRIPT, spec)
        known = {f.hex() for f in sent}
        return [bytes.fromhex(h) for h in json.loads(done.stdout) if h in known]


def _objects(tmp_path: Path, target: str) -> list[tuple[str, Path, list[bool]]]:
    """``(expression, ELF object path, the interpreter's verdict per frame)``."""
    from bpfc.ebpf.translate import translate

    out = []
    for number, expr in enumerate(EXPRESSIONS):
        program = bpfc.compile(expr)
        path = tmp_path / f"{target}{number}.o"
        path.write_bytes(translate(program, target).elf())
        verdicts = [interpret(list(program), frame, None) != 0 for frame in frames()]
        assert any(verdicts) and not all(verdicts), expr  # each program splits the frames
        out.append((expr, path, verdicts))
    return out


def test_xdp_attached_with_ip_passes_what_the_interpreter_accepts(tmp_path: Path) -> None:
    sent = frames()
    with Namespace() as ns:
        assert ns.send(sent, 5) == sent  # with no program every frame arrives
        for expr, path, verdicts in _objects(tmp_path, "xdp"):
            ns.run(IP, "-n", ns.name, "link", "set", "dev", "vb", "xdp", "obj", str(path),
                   "sec", "xdp")  # fmt: skip
            want = [frame for frame, ok in zip(sent, verdicts, strict=True) if ok]
            assert ns.send(sent, 0.5) == want, expr
            ns.run(IP, "-n", ns.name, "link", "set", "dev", "vb", "xdp", "off")


def test_tc_egress_attached_with_tc_passes_what_the_interpreter_accepts(tmp_path: Path) -> None:
    sent = frames()
    with Namespace() as ns:
        ns.run(TC, "-n", ns.name, "qdisc", "add", "dev", "va", "clsact")
        for expr, path, verdicts in _objects(tmp_path, "tc"):
            ns.run(TC, "-n", ns.name, "filter", "add", "dev", "va", "egress", "bpf",
                   "direct-action", "obj", str(path), "sec", "tc")  # fmt: skip
            want = [frame for frame, ok in zip(sent, verdicts, strict=True) if ok]
            assert ns.send(sent, 0.5) == want, expr
            ns.run(TC, "-n", ns.name, "filter", "del", "dev", "va", "egress")


def _ingress_drops(ns: Namespace) -> int:
    text = ns.run(TC, "-n", ns.name, "-s", "qdisc", "show", "dev", "vb").stdout
    block = text[text.index("qdisc clsact") :]
    return int(re.search(r"dropped (\d+)", block).group(1))  # type: ignore[union-attr]


def test_tc_ingress_attached_with_tc_drops_what_the_interpreter_rejects(tmp_path: Path) -> None:
    sent = frames()
    with Namespace() as ns:
        ns.run(TC, "-n", ns.name, "qdisc", "add", "dev", "vb", "clsact")
        for expr, path, verdicts in _objects(tmp_path, "tc"):
            before = _ingress_drops(ns)
            ns.run(TC, "-n", ns.name, "filter", "add", "dev", "vb", "ingress", "bpf",
                   "direct-action", "obj", str(path), "sec", "tc")  # fmt: skip
            assert ns.send(sent, 0.5) == sent  # taps see every frame before ingress TC
            assert _ingress_drops(ns) - before == verdicts.count(False), expr
            ns.run(TC, "-n", ns.name, "filter", "del", "dev", "vb", "ingress")
