"""bpfc.ebpf.elf: the object file parses back (our own reader, and readelf / llvm-objdump
where installed) with the program, licence and symbols where libbpf looks for them."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpfc
from bpfc.ebpf.elf import EM_BPF, elf_object
from bpfc.ebpf.insn import encode
from bpfc.ebpf.translate import translate
from ebpf.test_insn import insns

_E = "<" if sys.byteorder == "little" else ">"


def read_elf(
    data: bytes,
) -> tuple[dict[str, tuple[int, int, bytes]], list[tuple[str, int, int, int]]]:
    """``({section: (type, flags, bytes)}, [(symbol, info, shndx, size)])``."""
    assert data[:4] == b"\x7fELF" and data[4] == 2
    (_, e_type, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx) = (
        struct.unpack_from(_E + "16sHHIQQQIHHHHHH", data, 0)
    )
    assert (e_type, machine, shentsize) == (1, EM_BPF, 64)
    headers = [struct.unpack_from(_E + "IIQQQQIIQQ", data, shoff + 64 * i) for i in range(shnum)]
    names = headers[shstrndx]
    strings = data[names[4] : names[4] + names[5]]

    def name_at(table: bytes, offset: int) -> str:
        return table[offset : table.index(b"\0", offset)].decode()

    sections = {}
    for h in headers[1:]:
        sections[name_at(strings, h[0])] = (h[1], h[2], data[h[4] : h[4] + h[5]])
    symtab = next(h for h in headers if h[1] == 2)
    strtab = headers[symtab[6]]
    sym_names = data[strtab[4] : strtab[4] + strtab[5]]
    symbols = []
    for off in range(symtab[4], symtab[4] + symtab[5], 24):
        st_name, info, _, shndx, _, size = struct.unpack_from(_E + "IBBHQQ", data, off)
        symbols.append((name_at(sym_names, st_name), info, shndx, size))
    return sections, symbols


@pytest.mark.parametrize(
    ("target", "section"), [("xdp", "xdp"), ("tc", "tc"), ("socket", "socket")]
)
def test_sections_and_symbols(target: str, section: str) -> None:
    prog = translate(bpfc.compile("tcp port 80"), target)
    sections, symbols = read_elf(prog.elf())
    kind, flags, body = sections[section]
    assert kind == 1 and flags == 0x6 and body == bytes(prog)
    assert sections["license"][2] == b"GPL\0"
    assert ("bpfc_prog", 0x12, 1, len(body)) in symbols  # GLOBAL FUNC in section 1
    assert ("_license", 0x11, 2, 4) in symbols


def test_section_licence_and_name_are_configurable() -> None:
    prog = translate(bpfc.compile("ip"), "tc")
    sections, symbols = read_elf(prog.elf("classifier", license="Dual BSD/GPL", name="f"))
    assert "classifier" in sections and sections["license"][2] == b"Dual BSD/GPL\0"
    assert symbols[3][0] == "f"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"section": ""}, "section must be"),
        ({"section": "xdp", "name": "a\0b"}, "name must be"),
        ({"section": "xdp", "license": "G\nPL"}, "license must be"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        elf_object(b"\0" * 8, **kwargs)
    with pytest.raises(ValueError, match="multiple of 8"):
        elf_object(b"\0" * 7, "xdp")


@pytest.mark.skipif(shutil.which("readelf") is None, reason="readelf is not installed")
def test_readelf_reads_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.o"
    path.write_bytes(translate(bpfc.compile("udp"), "xdp").elf())
    out = subprocess.run(["readelf", "-hSs", str(path)], capture_output=True, text=True, check=True)
    assert "Linux BPF" in out.stdout and "REL (Relocatable file)" in out.stdout
    assert "FUNC    GLOBAL DEFAULT    1 bpfc_prog" in out.stdout
    assert not out.stderr


@pytest.mark.skipif(shutil.which("llvm-objdump") is None, reason="llvm-objdump is not installed")
def test_llvm_objdump_disassembles_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prog = translate(bpfc.compile("udp"), "xdp")
    path = tmp_path / "p.o"
    path.write_bytes(prog.elf())
    out = subprocess.run(
        ["llvm-objdump", "-d", str(path)], capture_output=True, text=True, check=True
    )
    assert "<bpfc_prog>:" in out.stdout
    assert out.stdout.count("exit") == sum(1 for i in prog.insns if i.code == 0x95)


@settings(max_examples=50, deadline=None)
@given(st.lists(insns, min_size=1, max_size=40), st.sampled_from(["xdp", "tc", "socket", "a/b"]))
def test_any_code_round_trips(code: list, section: str) -> None:
    data = encode(code)
    sections, symbols = read_elf(elf_object(data, section))
    assert sections[section][2] == data and symbols[3][3] == len(data)
