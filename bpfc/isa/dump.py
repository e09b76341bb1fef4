"""Program dumps: every text form a cBPF program travels in, from one table.

``tcpdump -d``/``-dd``/``-ddd`` are what people paste; ``bpf_asm`` is what the Linux
kernel's tools assemble; the ``xt_bpf`` one-liner is what ``iptables -m bpf
--bytecode`` takes; JSON is for programs.  :data:`FORMATS` maps the name the CLI
uses (``--format``) to the function that writes it, and :func:`dump` dispatches.
Every format ends with a newline, so writing the text reproduces tcpdump's output.

>>> prog = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 262144), (0x06, 0, 0, 0)]
>>> print(dump(prog, "dd"), end="")
{ 0x28, 0, 0, 0x0000000c },
{ 0x15, 0, 1, 0x00000800 },
{ 0x6, 0, 0, 0x00040000 },
{ 0x6, 0, 0, 0x00000000 },
>>> dump(prog, "xt_bpf")
'4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0\\n'
>>> print(dump(prog, "asm"), end="")
    ldh [12]
    jeq #0x800, l2, l3
l2: ret #262144
l3: ret #0
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from bpfc.errors import AsmError
from bpfc.isa.listing import OPCODES, Operand, image, is_conditional_jump, lookup
from bpfc.isa.opcodes import BPF_ASM_EXTENSIONS, JA, RET_X, SKF_AD_OFF

Insns = Sequence[Sequence[int]]


def dump_d(insns: Insns, flavor: str = "master") -> str:
    """``tcpdump -d``: one ``bpf_image`` line per instruction."""
    return "".join(image(insn, n, flavor) + "\n" for n, insn in enumerate(insns))


def dump_dd(insns: Insns, flavor: str = "master") -> str:
    """``tcpdump -dd``: a C array body, ``{ 0x28, 0, 0, 0x0000000c },``."""
    return "".join(f"{{ 0x{c:x}, {jt}, {jf}, 0x{k:08x} }},\n" for c, jt, jf, k in insns)


def dump_ddd(insns: Insns, flavor: str = "master") -> str:
    """``tcpdump -ddd``: the instruction count, then ``code jt jf k`` in decimal."""
    lines = [str(len(insns))] + [f"{c} {jt} {jf} {k}" for c, jt, jf, k in insns]
    return "\n".join(lines) + "\n"


def dump_xt_bpf(insns: Insns, flavor: str = "master") -> str:
    """One line ``N,code jt jf k,...`` as ``iptables -m bpf --bytecode`` takes it."""
    return ",".join([str(len(insns))] + [f"{c} {jt} {jf} {k}" for c, jt, jf, k in insns]) + "\n"


def dump_json(insns: Insns, flavor: str = "master") -> str:
    """A JSON list with one ``{"code", "jt", "jf", "k"}`` object per line."""
    rows = [
        json.dumps({"code": c, "jt": jt, "jf": jf, "k": k}, separators=(", ", ": "))
        for c, jt, jf, k in insns
    ]
    return "[\n" + ",\n".join("  " + row for row in rows) + "\n]\n"


def dump_c(insns: Insns, flavor: str = "master") -> str:
    """A complete C declaration around the ``-dd`` lines, ready to paste."""
    body = "".join("\t" + line + "\n" for line in dump_dd(insns).splitlines())
    return f"struct sock_filter code[] = {{\n{body}}};\n"


def _asm_operand(n: int, code: int, k: int) -> str:
    entry = lookup(code)
    if entry is None:
        extra = {0x0E: "x"}.get(code)  # ret x: bpf_asm has it, bpf_image does not
        if extra is None:
            raise AsmError(f"insn {n}: opcode 0x{code:x} has no bpf_asm syntax")
        return extra
    kind = entry[1]
    if kind is Operand.NONE:
        return "a" if entry[0] == "ret" else ""
    if kind in (Operand.HEX, Operand.DEC):
        return f"#0x{k:x}" if kind is Operand.HEX else f"#{k}"
    if kind is Operand.ABS:
        ext = BPF_ASM_EXTENSIONS.get(k - SKF_AD_OFF) if k >= SKF_AD_OFF else None
        return f"#{ext}" if ext else f"[{k}]"
    if kind is Operand.IND:
        return f"[x + {k}]"
    if kind is Operand.MEM:
        return f"M[{k}]"
    if kind is Operand.MSH:
        return f"4*([{k}]&0xf)"
    if kind is Operand.LEN:
        return "#len"
    if kind is Operand.X:
        return "x"
    return f"l{(n + 1 + k) & 0xFFFFFFFF}"  # Operand.JA


def dump_asm(insns: Insns, flavor: str = "master") -> str:
    """Linux ``bpf_asm`` source: labels ``lN:`` on jump targets, both targets on every branch."""
    targets: set[int] = set()
    for n, (code, jt, jf, k) in enumerate(insns):
        if is_conditional_jump(code):
            targets.update((n + 1 + jt, n + 1 + jf))
        elif code == JA:
            targets.add((n + 1 + k) & 0xFFFFFFFF)  # a 32-bit offset may wrap backwards
    width = len(f"l{len(insns)}:") + 1
    lines = []
    for n, (code, jt, jf, k) in enumerate(insns):
        operand = _asm_operand(n, code, k)
        name = "ret" if code == RET_X else OPCODES[code][0]
        text = f"{name} {operand}".rstrip()
        if is_conditional_jump(code):
            text += f", l{n + 1 + jt}, l{n + 1 + jf}"
        label = f"l{n}:" if n in targets else ""
        lines.append(f"{label:<{width}s}{text}")
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Insns, str], str]] = {
    "d": dump_d,
    "dd": dump_dd,
    "ddd": dump_ddd,
    "asm": dump_asm,
    "xt_bpf": dump_xt_bpf,
    "json": dump_json,
    "c": dump_c,
}
"""Dump format name (as ``--format`` spells it) -> writer."""


def dump(insns: Insns, fmt: str = "d", flavor: str = "master") -> str:
    """``insns`` as text in format ``fmt`` (see :data:`FORMATS`); ``flavor`` shapes ``-d``."""
    writer = FORMATS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown dump format {fmt!r} (choose from {', '.join(FORMATS)})")
    return writer(insns, flavor)
