"""bpfc.ebpf.program: EbpfProgram's outputs and Program.to_ebpf."""

from __future__ import annotations

import pytest

import bpfc
from bpfc.ebpf.errors import TranslationError
from bpfc.ebpf.insn import decode
from bpfc.ebpf.program import EbpfProgram


@pytest.fixture(scope="module")
def prog() -> EbpfProgram:
    return bpfc.compile("tcp port 80").to_ebpf("xdp")


def test_to_ebpf(prog: EbpfProgram) -> None:
    assert prog.target == "xdp" and prog.section == "xdp" and prog.prog_type == 6
    assert prog.accept == 2 and prog.reject == 1 and prog.cbpf == tuple(bpfc.compile("tcp port 80"))
    assert repr(prog) == f"<EbpfProgram xdp: {len(prog)} instructions>"
    socket = bpfc.compile("ip").to_ebpf("socket", accept=96)
    assert (socket.accept, socket.reject, socket.prog_type) == (96, 0, 1)
    assert bpfc.compile("ip").to_ebpf("tc").accept == 0


def test_bytes(prog: EbpfProgram) -> None:
    assert bytes(prog) == prog.bytes() and len(bytes(prog)) == 8 * len(prog)
    assert decode(bytes(prog)) == list(prog.insns) == list(prog)


def test_equality_and_immutability(prog: EbpfProgram) -> None:
    again = bpfc.compile("tcp port 80").to_ebpf("xdp")
    assert again == prog and hash(again) == hash(prog)
    assert prog != bpfc.compile("tcp port 80").to_ebpf("tc")
    with pytest.raises(AttributeError, match="immutable"):
        prog.target = "tc"  # type: ignore[misc]


def test_c_array(prog: EbpfProgram) -> None:
    text = prog.c_array("tcp80")
    assert "static const struct bpf_insn tcp80[] = {" in text
    assert f"static const unsigned int tcp80_len = {len(prog)};" in text
    first = prog.insns[0]
    assert f"{{ 0x{first.code:02x}, {first.dst}, {first.src}, {first.off}, {first.imm} }}," in text
    with pytest.raises(ValueError, match="C identifier"):
        prog.c_array("1abc")


def test_dump_is_the_listing(prog: EbpfProgram) -> None:
    lines = prog.dump().splitlines()
    assert len(lines) == len(prog) and lines[-1].endswith("(95) exit")


def test_unknown_target() -> None:
    with pytest.raises(ValueError, match="unknown eBPF target"):
        EbpfProgram("lwt", [])
    with pytest.raises(TranslationError, match="unknown eBPF target"):
        bpfc.compile("ip").to_ebpf("lwt")
