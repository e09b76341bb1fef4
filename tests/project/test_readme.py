"""README.md's Python example runs as written.

The block is taken from the README itself (its only ```python fence), not copied here,
so an edit that breaks the documented API fails this test.  The example leaves three
things to the reader: ``sock`` (a Linux socket: a packet socket when we may open one,
else a UDP socket, which takes a classic BPF filter just the same), ``frame_bytes`` (an
Ethernet frame carrying TCP to port 80) and a ``prog.txt`` listing in the current
directory.
"""

from __future__ import annotations

import re
import socket
import struct
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_block() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text("utf-8"), re.M | re.S)
    assert len(blocks) == 1, "README.md should have exactly one ```python block"
    return blocks[0]


def tcp_port_80_frame() -> bytes:
    """Ethernet + IPv4 + TCP (source port 4321, destination port 80), no payload."""
    tcp = struct.pack("!HHIIBBHHH", 4321, 80, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))  # fmt: skip
    return b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00" + ip + tcp


def open_socket() -> socket.socket:
    if not sys.platform.startswith("linux"):
        pytest.skip("prog.attach() is SO_ATTACH_FILTER, a Linux socket option")
    try:
        return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # no protocol: no traffic
    except (PermissionError, AttributeError, OSError):
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # unprivileged, filters too


def test_readme_python_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bpfc

    listing = bpfc.compile("udp and not port 53").dump("d")
    (tmp_path / "prog.txt").write_text(listing, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    frame = tcp_port_80_frame()
    with open_socket() as sock:
        namespace = {"sock": sock, "frame_bytes": frame}
        exec(compile(python_block(), str(README), "exec"), namespace)
    prog = namespace["prog"]
    assert isinstance(prog, bpfc.Program)
    assert prog.run(frame) == 262144  # the frame the example runs is accepted
    assert prog.run(frame[:-20] + struct.pack("!HH", 4321, 81) + frame[-16:]) == 0


def test_readme_block_covers_the_api_it_documents() -> None:
    block = python_block()
    for call in ("bpfc.compile(", "bpfc.assemble(", "bpfc.validate(", "Program.from_bytes("):
        assert call in block
