"""docs/integrations.md's recipes run as written.

Every fenced block is taken from the document itself, by section, so an edit that breaks
a recipe fails here.  Recipes that touch the network run in a fresh network namespace
(root and ``ip(8)``); the scapy recipe with ``install()`` runs where scapy cannot load
libpcap (``ctypes.util.find_library`` blinded) and ``PATH`` has no tcpdump; iptables'
and ``bpf_asm``'s recipes skip where those are missing.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import bpfc

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
BIN = str(Path(sys.executable).parent)  # where the bpfc command is installed
IP = shutil.which("ip")

NO_LIBPCAP = """
import ctypes.util
_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if name == "pcap" else _find(name)
"""


def sections() -> dict[str, list[tuple[str, str]]]:
    """``## heading`` -> its fenced blocks as ``(language, code)``, in order."""
    found: dict[str, list[tuple[str, str]]] = {}
    heading = ""
    text = DOC.read_text("utf-8")
    for match in re.finditer(r"^## ([^\n]+)$|^```(\w*)\n(.*?)^```$", text, re.M | re.S):
        if match.group(1):
            heading = match.group(1).strip()
            found.setdefault(heading, [])
        else:
            found.setdefault(heading, []).append((match.group(2), match.group(3)))
    return found


def blocks(prefix: str) -> list[tuple[str, str]]:
    [name] = [name for name in sections() if name.startswith(prefix)]
    return sections()[name]


RUN_BY = {
    "SO_ATTACH_FILTER on a raw socket": "test_raw_socket",
    "An asyncio datagram endpoint": "test_asyncio_endpoint",
    "scapy": "test_scapy_with_and_without_install",
    "Tools that run `tcpdump -ddd`": "test_tcpdump_command_line",
    "iptables `-m bpf`": "test_iptables_bpf_match",
    "The kernel's `bpf_asm`": "test_bpf_asm_source",
    "libpcap-shaped objects": "test_libpcap_shaped_objects",
}


def test_every_recipe_is_run_by_a_test() -> None:
    with_code = {name for name, found in sections().items() if found}
    assert with_code == set(RUN_BY)
    assert all(name in globals() for name in RUN_BY.values())


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or IP is None or not sys.platform.startswith("linux"):
        pytest.skip("needs Linux, root and ip(8)")
    name = f"bpfc-doc-{uuid.uuid4().hex[:8]}"
    if subprocess.run([IP, "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    try:
        subprocess.run([IP, "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run([IP, "netns", "del", name], capture_output=True)


def run(
    command: list[str], *, netns: str | None = None, env: dict[str, str] | None = None, cwd=None
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(sys.path),
        **(env or {}),
    }
    if netns is not None:
        command = [IP or "ip", "netns", "exec", netns, *command]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=environ, cwd=cwd
    )


def run_python(code: str, **options: object) -> subprocess.CompletedProcess[str]:
    done = run([sys.executable, "-c", code], **options)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_raw_socket(netns: str) -> None:
    [(lang, code)] = blocks("SO_ATTACH_FILTER")
    assert lang == "python"
    run_python(code, netns=netns)


def test_asyncio_endpoint(netns: str) -> None:
    [(lang, code)] = blocks("An asyncio")
    assert lang == "python"
    run_python(code, netns=netns)


DUMP = "\nimport json\nprint(json.dumps([p.original.hex() for p in packets]))\n"


def test_scapy_with_and_without_install(tmp_path: Path) -> None:
    pytest.importorskip("scapy", reason="scapy is not installed")
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    packets = [
        Ether() / IP() / TCP(dport=80),
        Ether() / IP() / UDP(dport=80),
        Ether() / IP() / TCP(sport=80, dport=5000),
        Ether() / IP() / TCP(dport=443),
    ]
    wrpcap(str(tmp_path / "capture.pcap"), packets)
    expected = [bytes(packets[0]).hex(), bytes(packets[2]).hex()]
    without, with_install = blocks("scapy")
    with tempfile.TemporaryDirectory() as empty:
        done = run_python(NO_LIBPCAP + with_install[1] + DUMP, env={"PATH": empty}, cwd=tmp_path)
    assert json.loads(done.stdout.splitlines()[-1]) == expected
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed: scapy's own way cannot run")
    done = run_python(without[1] + DUMP, cwd=tmp_path)
    assert json.loads(done.stdout.splitlines()[-1]) == expected


def test_tcpdump_command_line() -> None:
    [(lang, code)] = blocks("Tools that run")
    assert lang == "sh"
    done = run(["sh", "-c", code])
    assert done.returncode == 0, done.stderr
    count, *lines = done.stdout.splitlines()
    program = [tuple(map(int, line.split())) for line in lines]
    assert int(count) == len(program)
    assert program == bpfc.compile("udp port 53", snaplen=1600, netmask=0, linux=True)


def test_iptables_bpf_match(netns: str) -> None:
    if shutil.which("iptables") is None:
        pytest.skip("iptables is not installed")
    [(lang, code)] = blocks("iptables")
    assert lang == "sh"
    done = run(["sh", "-c", code], netns=netns)
    if done.returncode != 0:
        pytest.skip(f"iptables' bpf match is not available: {done.stderr.strip()[:200]}")
    probe = """
import socket
got = {}
for port in (9998, 9999):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", port))
    rx.settimeout(1)
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", port))
    try:
        got[port] = rx.recv(10)
    except socket.timeout:
        got[port] = None
print(got[9998], got[9999])
"""
    assert run_python(probe, netns=netns).stdout.split() == ["b'x'", "None"]


def test_bpf_asm_source(tmp_path: Path) -> None:
    [(lang, code)] = blocks("The kernel's")
    assert lang == "sh"
    done = run(["sh", "-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == bpfc.compile("tcp port 22").dump("ddd")
    bpf_asm = os.environ.get("BPFC_BPF_ASM") or shutil.which("bpf_asm")
    if bpf_asm is None:
        pytest.skip("no bpf_asm (set BPFC_BPF_ASM=path)")
    theirs = subprocess.run([bpf_asm, str(tmp_path / "ssh.bpf")], capture_output=True, text=True)
    assert theirs.stdout.strip() == bpfc.compile("tcp port 22").dump("xt_bpf").strip()


def test_libpcap_shaped_objects() -> None:
    [(lang, code)] = blocks("libpcap-shaped")
    assert lang == "python"
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    assert isinstance(namespace["pointer"], type(ctypes.byref(ctypes.c_int())))
    assert namespace["prog"] == bpfc.compile("udp port 53", netmask=None)
