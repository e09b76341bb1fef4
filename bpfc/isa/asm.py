"""The assembler: any text form of a cBPF program back into a validated :class:`Program`.

People hold programs as ``tcpdump -d``/``-dd``/``-ddd`` output, ``bpf_asm`` source,
``iptables`` ``xt_bpf`` one-liners or JSON.  :func:`assemble` recognises which from
the text itself (:func:`detect`), reads it with that format's reader, and validates
the result through :meth:`Program.from_insns`.  A malformed line raises
:class:`~bpfc.errors.AsmError` naming the line; a well-formed but invalid program
raises :class:`~bpfc.errors.ValidationError` naming the instruction.

>>> assemble("4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0")[1]
Insn(code=21, jt=0, jf=1, k=2048)
>>> detect("(000) ret      #0"), detect("1\\n6 0 0 0"), detect("{ 0x6, 0, 0, 0x00000000 },")
('d', 'ddd', 'dd')
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from bpfc.argcheck import check_flag
from bpfc.errors import AsmError
from bpfc.isa.insn import Insn
from bpfc.isa.listing_reader import blank_block_comments, parse_listing, strip_comments

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.program import Program

INPUT_FORMATS = ("d", "dd", "ddd", "asm", "xt_bpf", "json")
"""Formats :func:`assemble` reads (``d`` and ``asm`` share one reader; ``c`` reads as ``dd``)."""

_UINT = r"\s*(0x[0-9a-fA-F]+|[0-9]+)\s*"
_DD_LINE = re.compile(r"\{" + ",".join([_UINT] * 4) + r"\}\s*,?")
_DD_WRAPPER = re.compile(r"(?:[\w\s\[\]*]*=\s*)?\{|\}\s*;?")
_FOUR = re.compile(r"\s*[0-9]+\s+[0-9]+\s+[0-9]+\s+[0-9]+\s*")
_DIGITS = re.compile(r"[0-9]+")
_LIMITS = (("code", 0xFFFF), ("jt", 0xFF), ("jf", 0xFF), ("k", 0xFFFFFFFF))


def _insn(values: list[Any], line: int | None) -> Insn:
    """An Insn from four unsigned field values, each checked against its width."""
    if len(values) != 4:
        raise AsmError(f"expected 4 fields (code jt jf k), found {len(values)}", line)
    for value, (name, limit) in zip(values, _LIMITS, strict=True):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            raise AsmError(f"{name} {value!r} is not an integer in 0..{limit}", line)
    return Insn(*values)


def _int(text: str, line: int) -> int:
    text = text.strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise AsmError(f"bad number {text!r}", line) from None


def _check_count(count: int, insns: list[Insn], line: int) -> list[Insn]:
    if count != len(insns):
        raise AsmError(f"count says {count} instructions but {len(insns)} follow", line)
    return insns


def read_ddd(text: str) -> list[Insn]:
    """``-ddd``: an optional count line, then ``code jt jf k`` per line, decimal."""
    rows = [(n, line.strip()) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    count = None
    if rows and re.fullmatch(r"[0-9]+", rows[0][1]):
        count = _int(rows.pop(0)[1], 1)
    insns = []
    for n, line in rows:
        fields = line.split()
        if len(fields) != 4 or not all(_DIGITS.fullmatch(f) for f in fields):
            raise AsmError(f"expected 'code jt jf k' in decimal, found {line!r}", n)
        insns.append(_insn([int(f) for f in fields], n))
    return insns if count is None else _check_count(count, insns, 1)


def read_dd(text: str) -> list[Insn]:
    """``-dd`` (or a whole C declaration): one ``{ code, jt, jf, k },`` per line."""
    text = blank_block_comments(text)
    insns = []
    for n, line in enumerate(text.split("\n"), 1):
        line = re.sub(r"//.*", "", line).strip()
        if not line or _DD_WRAPPER.fullmatch(line):
            continue
        match = _DD_LINE.fullmatch(line)
        if not match:
            raise AsmError(f"expected '{{ code, jt, jf, k }},', found {line!r}", n)
        insns.append(_insn([_int(g, n) for g in match.groups()], n))
    return insns


def read_xt_bpf(text: str) -> list[Insn]:
    """``N,code jt jf k,code jt jf k,...`` on one line (a trailing comma is allowed)."""
    parts = [part.strip() for part in text.strip().rstrip(",").split(",")]
    if not _DIGITS.fullmatch(parts[0]):
        raise AsmError(f"xt_bpf text must start with the instruction count, not {parts[0]!r}", 1)
    insns = []
    for i, part in enumerate(parts[1:], start=1):
        fields = part.split()
        if len(fields) != 4 or not all(_DIGITS.fullmatch(f) for f in fields):
            raise AsmError(f"field {i}: expected 'code jt jf k', found {part!r}", 1)
        insns.append(_insn([int(f) for f in fields], 1))
    return _check_count(int(parts[0]), insns, 1)


def read_json(text: str) -> list[Insn]:
    """A JSON list of ``{"code", "jt", "jf", "k"}`` objects or ``[code, jt, jf, k]`` lists."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        line = getattr(err, "lineno", None)
        raise AsmError(f"bad JSON: {getattr(err, 'msg', err)}", line) from None
    if isinstance(data, dict) and "insns" in data:
        data = data["insns"]
    if not isinstance(data, list):
        raise AsmError("JSON program must be a list of instructions")
    insns = []
    for i, item in enumerate(data):
        if isinstance(item, dict):
            missing = [key for key in ("code", "jt", "jf", "k") if key not in item]
            if missing:
                raise AsmError(f"JSON instruction {i} lacks {', '.join(missing)}")
            item = [item["code"], item["jt"], item["jf"], item["k"]]
        if not isinstance(item, list):
            raise AsmError(f"JSON instruction {i} is neither an object nor a list")
        try:
            insns.append(_insn(item, None))
        except AsmError as err:
            raise AsmError(f"JSON instruction {i}: {err.message}") from None
    return insns


_READERS = {
    "d": parse_listing,
    "asm": parse_listing,
    "dd": read_dd,
    "c": read_dd,
    "ddd": read_ddd,
    "xt_bpf": read_xt_bpf,
    "json": read_json,
}


def detect(text: str) -> str:
    """The input format ``text`` is written in (one of :data:`INPUT_FORMATS`)."""
    stripped = text.strip()
    if stripped[:1] == "[" or re.match(r'\{\s*"', stripped):
        return "json"
    lines = [line.strip() for line in strip_comments(stripped).split("\n") if line.strip()]
    if not lines:
        return "asm"
    if "{" in lines[0] or lines[0].endswith("{"):
        return "dd"
    if len(lines) == 1 and re.fullmatch(r"[0-9]+\s*,.*", lines[0]):
        return "xt_bpf"
    if re.fullmatch(r"[0-9]+", lines[0]) or _FOUR.fullmatch(lines[0]):
        return "ddd"
    return "d" if re.match(r"\(\s*[0-9]+\s*\)", lines[0]) else "asm"


def read(text: str, fmt: str | None = None) -> list[Insn]:
    """The raw instructions in ``text`` (format ``fmt``, detected when None), unvalidated."""
    if not isinstance(text, str):
        raise TypeError(f"assemble() takes text, not {type(text).__name__}")
    if fmt is not None and not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format name (str) or None, not {type(fmt).__name__}")
    text = text.removeprefix("\ufeff")  # a byte-order mark from an editor
    fmt = fmt or detect(text)
    reader = _READERS.get(fmt)
    if reader is None:
        raise ValueError(f"unknown input format {fmt!r} (choose from {', '.join(_READERS)})")
    insns = reader(text)
    if not insns:
        raise AsmError("no instructions found")
    return insns


def assemble(text: str, *, fmt: str | None = None, strict: bool = False) -> Program:
    """Read ``text`` in any dump format (see :func:`detect`) into a validated Program."""
    from bpfc.program import Program

    check_flag("strict", strict)
    return Program.from_insns(read(text, fmt), strict=strict)
