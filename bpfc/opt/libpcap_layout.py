"""libpcap master's optimized program, instruction for instruction (``optimizer="libpcap"``).

bpfc's own optimizer (``bpfc.opt.manager``) makes smaller programs than libpcap's, so
its listings are verdict-equal to ``tcpdump -d`` but not the same text.  Tools that
compare or cache ``tcpdump -ddd`` output want the very program libpcap makes; this module
gives it: the graph master's optimizer ends with (``bpfc.opt.libpcap_model``, a replay of
optimize.c's fixed point) laid out as master's ``icode_to_fcode`` lays it out.

The layout is the unoptimized one's (``bpfc.emit``: blocks filled from the end, false
side first, a ``ja`` after a conditional jump whose target is more than 255 ahead), with
what only the optimizer leaves behind: deleted statements (``NOP``) take no slot, and a
jump among a block's statements (the Linux ``vlan`` test's) has its targets found the way
``convert_code_r`` finds them, which reads positions counted over the block's statement
list *with* its deleted entries against positions counted without them, and leaves the
targets 0 for such a jump in the second-to-last slot.  Those quirks are master's
behaviour and are copied as such: the goal here is the same bytes.

Where master does not optimize (``protochain``, Geneve, the 802.11 prologue, outermost
``PRISM_HEADER``), its program is the unoptimized listing, which ``bpfc.emit`` already
produces byte for byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfc.cfg import Block as CfgBlock
from bpfc.emit import linearize
from bpfc.errors import REJECTS_ALL, CompileError
from bpfc.isa.insn import Insn
from bpfc.isa.opcodes import CLASS_MASK, JA, Class
from bpfc.opt.libpcap_model import NOP, Refusal, Undecided, master_optimized

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.opt.libpcap_model import _Node

__all__ = ["LayoutError", "Undecided", "master_program"]

_JMP = 0x05


class LayoutError(CompileError):
    """Master's ``icode_to_fcode`` fails on a jump among a block's statements."""


def master_program(
    root: CfgBlock, expr: str, dlt: int | None = None, no_optimize: bool = False
) -> list[Insn]:
    """The instructions libpcap master's ``pcap_compile`` makes, optimizing, from the
    unoptimized graph ``root`` of ``expr`` (outermost link type ``dlt``).

    Raises :class:`~bpfc.errors.CompileError` with master's message where master refuses
    (its optimizer's refusals, "expression rejects all packets"), and
    :class:`~bpfc.opt.libpcap_model.Undecided` where the model gives up (its round cap)."""
    try:
        final = master_optimized(root, dlt, no_optimize)
    except Refusal as err:
        raise CompileError(str(err), expr) from None
    if final is None:
        return linearize(root, warn=False)
    if final.code & CLASS_MASK == Class.RET and final.k == 0:  # ret #0
        raise CompileError(REJECTS_ALL, expr)
    return linearize(_to_blocks(final, expr), warn=False)


def _to_blocks(final: _Node, expr: str) -> CfgBlock:
    """bpfc blocks for master's final graph: live statements only, inner jumps resolved."""
    blocks: dict[int, CfgBlock] = {}
    order: list[_Node] = []
    stack = [final]
    while stack:
        node = stack.pop()
        if id(node) in blocks:
            continue
        blocks[id(node)] = CfgBlock(_statements(node, expr), node.code, node.k)
        order.append(node)
        if node.code & CLASS_MASK != Class.RET and node.et.succ is not None:
            stack.extend((node.ef.succ, node.et.succ))  # type: ignore[arg-type]
    for node in order:
        if node.code & CLASS_MASK != Class.RET and node.et.succ is not None:
            block = blocks[id(node)]
            block.jt = blocks[id(node.et.succ)]
            block.jf = blocks[id(node.ef.succ)]  # type: ignore[arg-type]
    return blocks[id(final)]


def _statements(node: _Node, expr: str) -> list[Insn]:
    """``convert_code_r``'s statement loop for one block."""
    raw = node.stmts
    live = [i for i, s in enumerate(raw) if s[0] != NOP]
    slen = len(live)
    out: list[Insn] = []
    for off, i in enumerate(live):
        code, k = raw[i]
        jt = jf = 0
        if code & CLASS_MASK == _JMP and code != JA and off != slen - 2:
            target = node.inner.get(i)
            if target is None:
                raise LayoutError(
                    f"no jmp destination for block-local relative jump: off={off}", expr
                )
            # master's table holds the first ``slen`` raw positions, deleted ones included,
            # and the distance is unsigned: a target behind the jump is out of range
            if target[0] >= slen or target[1] >= slen:
                raise LayoutError(
                    f"no destination found for block-local relative jump: off={off}", expr
                )
            jt, jf = target[0] - off - 1, target[1] - off - 1
            if not (0 <= jt < 256 and 0 <= jf < 256):
                raise LayoutError(
                    f"out-of-range jump for block-local relative jump: off={off}", expr
                )
        out.append(Insn(code, jt, jf, k))
    return out
