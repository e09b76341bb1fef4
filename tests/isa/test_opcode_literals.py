"""No opcode is written as a number outside ``bpfc/isa/opcodes.py``.

Issue 12: the instruction set used to be described five times (``code & 0xF0``,
``code == 0xB1`` ...) and the copies drifted.  This test reads every module of
``bpfc`` with :mod:`ast` and flags an integer literal that meets an *opcode
expression* -- a name or attribute called ``code``/``op``/``opcode`` (or ending in
``_code``/``_op``), ``ins.code``, ``insn[0]`` -- in a comparison (``code == 0x15``,
``op in (0x30, 0x90)``) or a bit operation (``code & 0x18``, ``0x04 | op``).  Those
must use :mod:`bpfc.isa.opcodes` names instead.  It is a heuristic on purpose: it
catches the way opcodes are decoded, and the self-tests below show it can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "bpfc"
TABLE = ROOT / "isa" / "opcodes.py"
EBPF_TABLE = ROOT / "ebpf" / "insn.py"
"""eBPF's own opcode table: another instruction set (its ``JA`` is not cBPF's), defined once
there; the rest of ``bpfc/ebpf`` uses its names and is checked like any module."""
NOT_CBPF = (
    ROOT / "decode",  # packet printers: ``code`` is an ICMP/DNS/link-layer code
    ROOT / "packetgen" / "inet.py",  # builds ICMP headers (type, code)
    ROOT / "capture" / "pcapng.py",  # pcapng option codes
)
"""Modules whose ``code`` is a protocol field, not a cBPF opcode."""
_RANGE_BOUNDS = (0, 0xFFFF)
"""``0 <= code <= 0xFFFF`` checks the u16 field's width, not an opcode."""

_NAMES = frozenset({"code", "op", "opcode", "cls", "clazz", "alu_op", "jmp_op"})


def _is_opcode_expr(node: ast.AST) -> bool:
    """True for an expression that holds an opcode or one of its fields."""
    if isinstance(node, ast.Name):
        name = node.id.lower().lstrip("_")
        return name in _NAMES or name.endswith(("_code", "_op"))
    if isinstance(node, ast.Attribute):
        attr = node.attr.lower().lstrip("_")
        return attr in _NAMES or attr.endswith("_code")
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        base = node.value
        named = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        return node.slice.value == 0 and named.lower().lstrip("_") in ("insn", "ins", "i")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "int":
        return any(_is_opcode_expr(arg) for arg in node.args)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        return _is_opcode_expr(node.left) or _is_opcode_expr(node.right)
    return False


def _int_literals(node: ast.AST) -> list[ast.Constant]:
    """Integer literals in ``node`` itself or in a tuple/list/set/frozenset of them."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return [node]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [c for elt in node.elts for c in _int_literals(elt)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("frozenset", "set", "tuple") and node.args:
            return _int_literals(node.args[0])
    return []


def opcode_literals(source: str, filename: str = "<src>") -> list[str]:
    """``file:line: literal`` for each integer literal used as an opcode in ``source``."""
    hits: list[str] = []

    def flag(literals: list[ast.Constant]) -> None:
        hits.extend(f"{filename}:{c.lineno}: {c.value:#x}" for c in literals)

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            for one, other in ((node.left, node.right), (node.right, node.left)):
                if _is_opcode_expr(one):
                    flag(_int_literals(other))
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            ranges = all(isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in node.ops)
            if any(_is_opcode_expr(x) for x in operands):
                for x in operands:
                    if not _is_opcode_expr(x):
                        found = _int_literals(x)
                        flag([c for c in found if not (ranges and c.value in _RANGE_BOUNDS)])
    return hits


def _modules() -> list[Path]:
    def skipped(path: Path) -> bool:
        return path in (TABLE, EBPF_TABLE) or any(path == p or p in path.parents for p in NOT_CBPF)

    return sorted(p for p in ROOT.rglob("*.py") if not skipped(p))


def test_no_opcode_literal_outside_the_table() -> None:
    hits = [h for path in _modules() for h in opcode_literals(path.read_text(), str(path))]
    assert not hits, "opcode literals outside bpfc/isa/opcodes.py:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    "snippet",
    [
        "if code == 0xB1: pass",
        "op = code & 0xF0",
        "x = ins.code in (0x06, 0x16)",
        "s = frozenset(0x04 | op for op in ops)",
        "if bpf_op(code) != 0x00: pass",
        "y = int(insn.code) | 0x08",
        "z = alu_op in {0x30, 0x90}",
        "uses = any(insn[0] in (0x80, 0x81) for insn in insns)",
        "if code <= 0xAC: pass",
    ],
)
def test_the_check_flags_opcode_literals(snippet: str) -> None:
    """Each way an opcode used to be decoded by hand is caught."""
    src = snippet.replace("bpf_op(code)", "op")
    assert opcode_literals(src), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "x = (value & 0xF) << 2",
        "if k >= 0x80000000: pass",
        "if code == Class.JMP | JmpOp.JA: pass",
        "op = bpf_op(code)",
        "n = len(code) == 0",
        "ok = 0 <= code <= 0xFFFF",
    ],
)
def test_the_check_passes_named_opcodes(snippet: str) -> None:
    """Values that are not opcodes, and opcodes spelled by name, are not flagged."""
    assert not opcode_literals(snippet), snippet


_DEFINED_ONCE = frozenset({"JA", "SKF_AD_OFF", "SKF_NET_OFF", "SKF_LL_OFF", "ANCILLARY"})
"""Names issue 12 found defined several times; only ``isa/opcodes.py`` may compute them."""


def redefinitions(source: str, filename: str = "<src>") -> list[str]:
    """``file:line: NAME`` where ``source`` binds one of :data:`_DEFINED_ONCE` to a value
    it computes (a literal, an or-expression, a dict) rather than to an imported name."""
    hits: list[str] = []
    for node in ast.parse(source, filename).body:  # module level: not an enum's members
        if not isinstance(node, ast.Assign):
            continue
        pairs: list[tuple[ast.expr, ast.expr]] = []
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs += zip(target.elts, node.value.elts, strict=False)
            else:
                pairs.append((target, node.value))
        for target, value in pairs:
            name = target.id.lstrip("_") if isinstance(target, ast.Name) else ""
            if name in _DEFINED_ONCE and not isinstance(value, (ast.Name, ast.Attribute)):
                hits.append(f"{filename}:{node.lineno}: {name}")
    return hits


def test_shared_constants_are_defined_only_in_the_table() -> None:
    hits = [h for path in _modules() for h in redefinitions(path.read_text(), str(path))]
    assert not hits, "redefined outside bpfc/isa/opcodes.py:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    "snippet",
    [
        "SKF_AD_OFF = 0xFFFFF000",
        "JA = Class.JMP | JmpOp.JA",
        "_RET, _JA = int(Class.RET), int(Class.JMP | JmpOp.JA)",
        "ANCILLARY = {0: 'proto'}",
    ],
)
def test_the_redefinition_check_can_fail(snippet: str) -> None:
    assert redefinitions(snippet), snippet
