"""Graphviz views of programs, so people can see what the optimizer did.

Any cBPF program is a DAG of basic blocks (jumps only go forward, except the ``ja`` that
libpcap's ``protochain`` wraps backwards).  :func:`program_dot` splits an instruction list
into blocks and draws them as one ``digraph`` cluster; :func:`compare_dot` puts the
unoptimized and the optimized program of one filter side by side, which is what
``bpfc cfg`` prints.

>>> dot = program_dot([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 1), (0x06, 0, 0, 0)])
>>> [line.strip() for line in dot.splitlines() if "->" in line]
['p0 -> p2 [color=green label="T"];', 'p0 -> p3 [color=red label="F"];']
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfc.isa.listing import image
from bpfc.isa.opcodes import CLASS_MASK, JA, Class

HEADER = '  node [shape=box fontname="monospace"];'
"""Every graph draws blocks as monospace boxes, so listings line up."""

Edge = tuple[str, str, str]
"""``(target node, color, tag)``; an empty tag draws an unlabelled edge."""


def block_lines(indent: str, name: str, text: Sequence[str], edges: Sequence[Edge]) -> list[str]:
    """One block: its node (``text`` one line each, left-aligned) and its outgoing edges.

    Both graphs use this: programs (:func:`program_dot`) and the compiler's CFG
    (``bpfc.cfg.to_dot``, which passes plain labels so this module never imports it).
    """
    label = "\\l".join(t.replace('"', '\\"').replace("\t", "\\t") for t in text) + "\\l"
    lines = [f'{indent}{name} [label="{label}"];']
    for target, color, tag in edges:
        attrs = f'color={color} label="{tag}"' if tag else f"color={color}"
        lines.append(f"{indent}{name} -> {target} [{attrs}];")
    return lines


def digraph(name: str, body: Sequence[str]) -> str:
    """A whole ``digraph`` with the common node style around ``body`` lines."""
    return "\n".join([f"digraph {name} {{", HEADER, *body, "}"]) + "\n"


def _target(pc: int, offset: int) -> int:
    """Absolute target of a relative offset (a 32-bit ``ja`` offset may wrap backwards)."""
    if offset >= 0x80000000:
        offset -= 1 << 32
    return pc + 1 + offset


def _leaders(insns: Sequence[Sequence[int]]) -> list[int]:
    """Indices that start a basic block, in order."""
    starts = {0}
    for pc, (code, jt, jf, k) in enumerate(insns):
        cls = code & CLASS_MASK
        if cls == Class.JMP:
            targets = [_target(pc, k)] if code == JA else [_target(pc, jt), _target(pc, jf)]
            starts.update(t for t in targets if 0 <= t < len(insns))
            starts.add(pc + 1)
        elif cls == Class.RET:
            starts.add(pc + 1)
    return sorted(s for s in starts if s < len(insns))


def _cluster(insns: Sequence[Sequence[int]], prefix: str, indent: str) -> list[str]:
    lines: list[str] = []
    leaders = _leaders(insns)
    ends = leaders[1:] + [len(insns)]
    for start, end in zip(leaders, ends, strict=True):
        text = [image(insns[pc], pc) for pc in range(start, end)]
        last = end - 1
        code, jt, jf, k = insns[last]
        if code & CLASS_MASK == Class.RET:
            targets = []
        elif code & CLASS_MASK == Class.JMP and code != JA:
            targets = [(_target(last, jt), "green", "T"), (_target(last, jf), "red", "F")]
        elif code == JA:
            targets = [(_target(last, k), "black", "")]
        else:
            targets = [(end, "black", "")]
        edges = [(f"{prefix}{t}", color, tag) for t, color, tag in targets if 0 <= t < len(insns)]
        lines += block_lines(indent, f"{prefix}{start}", text, edges)
    return lines


def program_dot(insns: Sequence[Sequence[int]], name: str = "program") -> str:
    """One program's basic blocks as a Graphviz digraph (true edges green, false red)."""
    return digraph(name, _cluster(insns, "p", "  "))


def compare_dot(before: Sequence[Sequence[int]], after: Sequence[Sequence[int]]) -> str:
    """The unoptimized and optimized programs of one filter, as two clusters of one graph."""
    lines: list[str] = []
    for tag, insns, title in (
        ("u", before, f"unoptimized: {len(before)} instructions"),
        ("o", after, f"optimized: {len(after)} instructions"),
    ):
        lines.append(f"  subgraph cluster_{tag} {{")
        lines.append(f'    label="{title}";')
        lines += _cluster(insns, tag, "    ")
        lines.append("  }")
    return digraph("filter", lines)
