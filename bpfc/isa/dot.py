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
from bpfc.isa.opcodes import CLASS_MASK

_JA, _RET_CLASS, _JMP_CLASS = 0x05, 0x06, 0x05


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
        if cls == _JMP_CLASS:
            targets = [_target(pc, k)] if code == _JA else [_target(pc, jt), _target(pc, jf)]
            starts.update(t for t in targets if 0 <= t < len(insns))
            starts.add(pc + 1)
        elif cls == _RET_CLASS:
            starts.add(pc + 1)
    return sorted(s for s in starts if s < len(insns))


def _cluster(insns: Sequence[Sequence[int]], prefix: str, indent: str) -> list[str]:
    lines: list[str] = []
    leaders = _leaders(insns)
    ends = leaders[1:] + [len(insns)]
    for start, end in zip(leaders, ends, strict=True):
        text = [image(insns[pc], pc) for pc in range(start, end)]
        label = "\\l".join(t.replace('"', '\\"').replace("\t", "\\t") for t in text) + "\\l"
        lines.append(f'{indent}{prefix}{start} [label="{label}"];')
        last = end - 1
        code, jt, jf, k = insns[last]
        if code & CLASS_MASK == _RET_CLASS:
            continue
        if code & CLASS_MASK == _JMP_CLASS and code != _JA:
            edges = [(_target(last, jt), "green", "T"), (_target(last, jf), "red", "F")]
        elif code == _JA:
            edges = [(_target(last, k), "black", "")]
        else:
            edges = [(end, "black", "")]
        for target, color, tag in edges:
            if 0 <= target < len(insns):
                attrs = f'color={color} label="{tag}"' if tag else f"color={color}"
                lines.append(f"{indent}{prefix}{start} -> {prefix}{target} [{attrs}];")
    return lines


def program_dot(insns: Sequence[Sequence[int]], name: str = "program") -> str:
    """One program's basic blocks as a Graphviz digraph (true edges green, false red)."""
    lines = [f"digraph {name} {{", '  node [shape=box fontname="monospace"];']
    lines += _cluster(insns, "p", "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def compare_dot(before: Sequence[Sequence[int]], after: Sequence[Sequence[int]]) -> str:
    """The unoptimized and optimized programs of one filter, as two clusters of one graph."""
    lines = ["digraph filter {", '  node [shape=box fontname="monospace"];']
    for tag, insns, title in (
        ("u", before, f"unoptimized: {len(before)} instructions"),
        ("o", after, f"optimized: {len(after)} instructions"),
    ):
        lines.append(f"  subgraph cluster_{tag} {{")
        lines.append(f'    label="{title}";')
        lines += _cluster(insns, tag, "    ")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
