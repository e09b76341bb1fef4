"""An ELF64 relocatable object holding one eBPF program, written with :mod:`struct`.

The layout is what clang leaves for a one-function BPF object with no maps and no BTF,
and what libbpf (and so ``ip link set dev D xdp obj F sec xdp`` and ``tc filter add dev
D ingress bpf direct-action obj F sec tc``) loads: ``e_machine`` ``EM_BPF``, the
program's instructions in an executable section named after its type (``xdp``, ``tc``,
``socket``...) with a global ``FUNC`` symbol covering them, a ``license`` section holding
the NUL-terminated licence string (the kernel lets only GPL-compatible programs call
GPL-only helpers) with an ``OBJECT`` symbol ``_license``, then ``.symtab``, ``.strtab``
and ``.shstrtab``.  Byte order and bit-field layout are the host's, like the code in it.
"""

from __future__ import annotations

import struct
import sys

__all__ = ["EM_BPF", "elf_object"]

EM_BPF = 247
ET_REL = 1
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB = 1, 2, 3
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
STB_LOCAL, STB_GLOBAL = 0, 1
STT_OBJECT, STT_FUNC, STT_SECTION = 1, 2, 3

_E = "<" if sys.byteorder == "little" else ">"
_EHDR = struct.Struct(_E + "16sHHIQQQIHHHHHH")
_SHDR = struct.Struct(_E + "IIQQQQIIQQ")
_SYM = struct.Struct(_E + "IBBHQQ")


class _Strings:
    """A string table: NUL first, each name once."""

    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self.index: dict[str, int] = {"": 0}

    def add(self, name: str) -> int:
        if name not in self.index:
            self.index[name] = len(self.data)
            self.data += name.encode() + b"\0"
        return self.index[name]


def _check_name(what: str, name: str) -> None:
    if not isinstance(name, str) or not name or "\0" in name or not name.isprintable():
        raise ValueError(f"{what} must be a non-empty printable string, not {name!r}")


def elf_object(
    code: bytes, section: str, *, license: str = "GPL", name: str = "bpfc_prog"
) -> bytes:  # noqa: A002
    """The object file's bytes: ``code`` (``struct bpf_insn`` array) in ``section``."""
    _check_name("section", section)
    _check_name("name", name)
    if not isinstance(license, str) or "\0" in license or not license.isprintable():
        raise ValueError(f"license must be a printable string, not {license!r}")
    if not code or len(code) % 8:
        raise ValueError(f"code must be a non-empty multiple of 8 bytes, not {len(code)}")
    licence = license.encode() + b"\0"
    shstr, strtab = _Strings(), _Strings()
    # sections: 0 null, 1 program, 2 license, 3 .symtab, 4 .strtab, 5 .shstrtab
    symbols = [
        _SYM.pack(0, 0, 0, 0, 0, 0),
        _SYM.pack(0, STB_LOCAL << 4 | STT_SECTION, 0, 1, 0, 0),
        _SYM.pack(0, STB_LOCAL << 4 | STT_SECTION, 0, 2, 0, 0),
        _SYM.pack(strtab.add(name), STB_GLOBAL << 4 | STT_FUNC, 0, 1, 0, len(code)),
        _SYM.pack(strtab.add("_license"), STB_GLOBAL << 4 | STT_OBJECT, 0, 2, 0, len(licence)),
    ]
    first_global = 3
    symtab = b"".join(symbols)
    bodies = [code, licence, symtab, bytes(strtab.data)]
    names = [section, "license", ".symtab", ".strtab", ".shstrtab"]
    name_offsets = [shstr.add(n) for n in names]
    bodies.append(bytes(shstr.data))

    out = bytearray(_EHDR.size)
    offsets = []
    for body, align in zip(bodies, (8, 1, 8, 1, 1), strict=True):
        out += bytes(-len(out) % align)
        offsets.append(len(out))
        out += body
    out += bytes(-len(out) % 8)
    shoff = len(out)
    headers = [
        _SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        _SHDR.pack(
            name_offsets[0],
            SHT_PROGBITS,
            SHF_ALLOC | SHF_EXECINSTR,
            0,
            offsets[0],
            len(code),
            0,
            0,
            8,
            0,
        ),
        _SHDR.pack(
            name_offsets[1],
            SHT_PROGBITS,
            SHF_ALLOC | SHF_WRITE,
            0,
            offsets[1],
            len(licence),
            0,
            0,
            1,
            0,
        ),
        _SHDR.pack(
            name_offsets[2],
            SHT_SYMTAB,
            0,
            0,
            offsets[2],
            len(symtab),
            4,
            first_global,
            8,
            _SYM.size,
        ),
        _SHDR.pack(name_offsets[3], SHT_STRTAB, 0, 0, offsets[3], len(bodies[3]), 0, 0, 1, 0),
        _SHDR.pack(name_offsets[4], SHT_STRTAB, 0, 0, offsets[4], len(bodies[4]), 0, 0, 1, 0),
    ]
    for header in headers:
        out += header
    ident = b"\x7fELF" + bytes([2, 1 if _E == "<" else 2, 1, 0]) + bytes(8)
    _EHDR.pack_into(
        out,
        0,
        ident,
        ET_REL,
        EM_BPF,
        1,
        0,
        0,
        shoff,
        0,
        _EHDR.size,
        0,
        0,
        _SHDR.size,
        len(headers),
        len(headers) - 1,
    )
    return bytes(out)
