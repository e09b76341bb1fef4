"""Read mnemonic listings: ``tcpdump -d`` output and Linux ``bpf_asm`` source, one parser.

The two syntaxes share their mnemonics and operand forms (``ldh [12]``, ``ld [x + 14]``,
``ldxb 4*([14]&0xf)``, ``jeq #0x800``); they differ in how jumps name targets.  A
``-d`` listing gives absolute instruction numbers (``jt 2	jf 8``, ``ja 21``), possibly
after a ``(NNN)`` prefix and before a ``; 0xNNNN`` comment; ``bpf_asm`` gives labels
(``jeq #0x800, l3, l5``; one label means "fall through when false").  So a target is
either a number (absolute index) or a label, resolved once every line is read.

Comments follow ``bpf_asm``: ``;`` to end of line, ``/* ... */``, and ``#`` in column 0.
Mnemonics and operands are case-insensitive; labels are not.  Every malformed line
raises :class:`~bpfc.errors.AsmError` with its 1-based line number.

>>> parse_listing("ldh [12]\\njeq #0x800, ok, drop\\nok: ret #-1\\ndrop: ret #0")
[Insn(code=40, jt=0, jf=0, k=12), Insn(code=21, jt=0, jf=1, k=2048), \
Insn(code=6, jt=0, jf=0, k=4294967295), Insn(code=6, jt=0, jf=0, k=0)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bpfc.errors import AsmError
from bpfc.isa.insn import Insn
from bpfc.isa.listing import OPCODES, Operand
from bpfc.isa.opcodes import ANCILLARY_LIBPCAP, BPF_ASM_EXTENSIONS, SKF_AD, SKF_AD_OFF

_NUMBER = re.compile(r"[-+]?(?:0x[0-9a-f]+|0b[01]+|0[0-7]*|[1-9][0-9]*)", re.I)

EXTENSIONS: dict[str, int] = (
    {name: off for off, name in ANCILLARY_LIBPCAP.items()}
    | {name: off for off, name in BPF_ASM_EXTENSIONS.items()}
    | {"vlan_pr": SKF_AD["vlan_tag_present"]}  # bpf_asm also accepts #vlan_pr
)
"""Ancillary load names from libpcap (``[vlanp]``) and bpf_asm (``#vlan_avail``) -> offset."""

# (mnemonic, operand kind) -> opcode.  HEX and DEC both read as an immediate "imm".
_CODES: dict[tuple[str, str], int] = {}
for _code, (_name, _kind) in OPCODES.items():
    _generic = "imm" if _kind in (Operand.HEX, Operand.DEC) else _kind.value
    _CODES[(_name, _generic)] = _code
_CODES[("ret", "a")] = 0x16
_CODES[("ret", "x")] = 0x0E  # bpf_asm accepts it; validators decide whether it may run
_CODES[("ldx", "msh")] = 0xB1

_ALIASES = {"ldi": "ld", "ldxi": "ldx", "jmp": "ja", "jneq": "jne"}
_NEGATED = {"jne": "jeq", "jlt": "jge", "jle": "jgt"}  # one label: the *false* target
_JUMPS = {"jeq", "jgt", "jge", "jset"}

_PREFIX = re.compile(r"\s*(?:\(\s*([0-9]+)\s*\))?\s*(?:([A-Za-z_]\w*)\s*:)?\s*(.*)$")
_LABEL = re.compile(r"[A-Za-z_]\w*$")


def parse_number(text: str, line: int, what: str = "number") -> int:
    """An integer in bpf_asm/C syntax, -2**31..2**32-1, as an unsigned 32-bit value."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise AsmError(f"bad {what} {text!r}", line)
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").lower()
    if body.startswith("0x"):
        value = int(body[2:], 16)
    elif body.startswith("0b"):
        value = int(body[2:], 2)
    elif len(body) > 1 and body.startswith("0"):
        value = int(body[1:], 8)
    else:
        value = int(body)
    value *= sign
    if not -(1 << 31) <= value < (1 << 32):
        raise AsmError(f"{what} {text} does not fit in 32 bits", line)
    return value & 0xFFFFFFFF


def parse_operand(text: str, line: int) -> tuple[str, int]:
    """An operand's kind (``imm``, ``abs``, ``ind``, ``mem``, ...) and its k value."""
    op = re.sub(r"\s+", "", text).lower()
    if op == "":
        return "none", 0
    if op in ("x", "%x"):
        return "x", 0
    if op in ("a", "%a"):
        return "a", 0
    if op in ("#pktlen", "#len", "len"):
        return "len", 0
    bare = op[1:] if op.startswith("#") else op[1:-1] if op[:1] == "[" and op[-1:] == "]" else op
    if bare in EXTENSIONS:
        return "abs", SKF_AD_OFF + EXTENSIONS[bare]
    if op.startswith("#"):
        return "imm", parse_number(op[1:], line, "immediate")
    match = re.fullmatch(r"\[(?:%?x\+)(.+)\]", op)
    if match:
        return "ind", parse_number(match.group(1), line, "offset")
    match = re.fullmatch(r"\[(.+)\]", op)
    if match:
        return "abs", parse_number(match.group(1), line, "offset")
    match = re.fullmatch(r"m\[(.+)\]", op)
    if match:
        return "mem", parse_number(match.group(1), line, "memory slot")
    match = re.fullmatch(r"(\w+)\*\(\[(.+)\]&(\w+)\)", op)
    if match:
        if parse_number(match.group(1), line) != 4 or parse_number(match.group(3), line) != 0xF:
            raise AsmError(f"only 4*([k]&0xf) is an instruction, not {text.strip()!r}", line)
        return "msh", parse_number(match.group(2), line, "offset")
    if _NUMBER.fullmatch(op):
        return "imm", parse_number(op, line, "immediate")
    raise AsmError(f"cannot read operand {text.strip()!r}", line)


@dataclass
class _Pending:
    """One parsed instruction whose jump targets may still be labels or absolute numbers."""

    line: int
    code: int
    k: int
    jt: str | None = None
    jf: str | None = None
    ja: str | None = None


def blank_block_comments(text: str) -> str:
    """Remove ``/* ... */`` comments (keeping their newlines), in linear time."""
    parts = []
    pos = 0
    while (start := text.find("/*", pos)) >= 0:
        end = text.find("*/", start + 2)
        if end < 0:
            raise AsmError("unterminated /* comment", text.count("\n", 0, start) + 1)
        parts.append(text[pos:start] + "\n" * text.count("\n", start, end))
        pos = end + 2
    parts.append(text[pos:])
    return "".join(parts)


def strip_comments(text: str) -> str:
    """Blank out ``/* */``, ``;`` and column-0 ``#`` comments, keeping line numbers."""
    lines = []
    for raw in blank_block_comments(text).split("\n"):
        lines.append("" if raw.startswith("#") else raw.split(";", 1)[0])
    return "\n".join(lines)


def _parse_line(body: str, line: int) -> _Pending:
    match = re.match(r"([A-Za-z]+)\b\s*(.*)$", body)
    if not match:
        raise AsmError(f"expected a mnemonic, found {body.strip()!r}", line)
    name, rest = match.group(1).lower(), match.group(2).strip()
    name = _ALIASES.get(name, name)
    if name == "unimp":
        raise AsmError("'unimp' lines lost their instruction's operands; use -dd or -ddd", line)
    if name == "ja":
        if not rest:
            raise AsmError("'ja' needs a target", line)
        return _Pending(line, 0x05, 0, ja=rest)
    targets: list[str] = []
    if name in _JUMPS or name in _NEGATED:
        words = rest.rsplit(None, 4)  # -d style: OPERAND jt N jf M
        if len(words) == 5 and words[1].lower() == "jt" and words[3].lower() == "jf":
            rest, targets = words[0], [words[2], words[4]]
        else:
            rest, *targets = (part.strip() for part in rest.split(","))
        if not 1 <= len(targets) <= 2 or not all(targets):
            raise AsmError(f"'{name}' needs one or two jump targets", line)
    elif "," in rest:
        raise AsmError(f"'{name}' takes no jump targets", line)
    kind, k = parse_operand(rest, line)
    base = _NEGATED.get(name, name)
    code = _CODES.get((base, kind))
    if code is None:
        if not any(key[0] == base for key in _CODES):
            raise AsmError(f"unknown mnemonic {name!r}", line)
        raise AsmError(f"'{name}' cannot take operand {rest.strip() or '(none)'!r}", line)
    if name in _NEGATED:
        if len(targets) != 1:
            raise AsmError(f"'{name}' takes exactly one jump target", line)
        return _Pending(line, code, k, jf=targets[0])
    return _Pending(
        line,
        code,
        k,
        jt=targets[0] if targets else None,
        jf=targets[1] if len(targets) > 1 else None,
    )


def _resolve(
    target: str | None, index: int, labels: dict[str, int], line: int, backwards: bool = False
) -> int:
    """The offset of ``target`` from the next instruction; None means 0 (fall through).

    Only ``ja`` may go ``backwards``: its 32-bit k wraps, and libpcap's own code for
    ``protochain`` relies on it (its ``bpf_validate`` sums offsets modulo 2**32).
    """
    if target is None:
        return 0
    if _LABEL.match(target):
        if target not in labels:
            raise AsmError(f"no such label {target!r}", line)
        absolute = labels[target]
    else:
        absolute = parse_number(target, line, "jump target")
        if absolute >= 1 << 31:
            raise AsmError(f"jump target {target} is negative", line)
    if absolute <= index and not backwards:
        raise AsmError(f"jump from insn {index} to insn {absolute} goes backwards", line)
    return (absolute - index - 1) & 0xFFFFFFFF


def parse_listing(text: str) -> list[Insn]:
    """Instructions from a ``-d`` listing or ``bpf_asm`` source (see the module doc)."""
    pending: list[_Pending] = []
    labels: dict[str, int] = {}
    for number, raw in enumerate(strip_comments(text).split("\n"), start=1):
        match = _PREFIX.match(raw)
        assert match is not None  # the pattern matches every string
        index_text, label, body = match.groups()
        if index_text is not None and int(index_text) != len(pending):
            raise AsmError(
                f"listing number ({index_text}) where instruction {len(pending)} was expected",
                number,
            )
        if label is not None:
            if label in labels:
                raise AsmError(f"label {label!r} defined twice", number)
            labels[label] = len(pending)
        if body.strip():
            pending.append(_parse_line(body, number))
    if not pending:
        raise AsmError("no instructions found")
    insns = []
    for index, item in enumerate(pending):
        if item.ja is not None:
            k = _resolve(item.ja, index, labels, item.line, backwards=True)
            insns.append(Insn(item.code, 0, 0, k))
            continue
        jt = _resolve(item.jt, index, labels, item.line)
        jf = _resolve(item.jf, index, labels, item.line)
        for which, value in (("true", jt), ("false", jf)):
            if value > 255:
                raise AsmError(f"{which} branch jumps {value} insns, more than 255", item.line)
        insns.append(Insn(item.code, jt, jf, item.k))
    return insns
