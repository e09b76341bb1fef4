"""Hypothesis strategies for whole cBPF programs that pass libpcap's validator.

``programs()`` draws programs built only from opcodes libpcap can name
(:data:`bpfc.isa.listing.OPCODES`), with jump offsets inside the program, scratch slots
below 16, no constant division by zero and a final ``ret``.  ``canonical=True``
zeroes the fields a ``-d`` listing does not show (jt/jf of non-branches, k of
operand-less instructions), so such programs survive a round trip through text.
"""

from __future__ import annotations

from hypothesis import strategies as st

from bpfc.isa.insn import Insn
from bpfc.isa.listing import OPCODES, Operand, is_conditional_jump

CODES = sorted(OPCODES)
RETS = [0x06, 0x16]
_NO_K = (Operand.NONE, Operand.X, Operand.LEN)
_DIVS = {0x34, 0x94}  # div #k, mod #k: k must not be 0


@st.composite
def insn_at(draw, index: int, length: int, canonical: bool, backward_ja: bool = False) -> Insn:
    """One instruction at ``index`` of a ``length``-long program."""
    room = length - index - 2  # how far forward a jump may go and still land on an insn
    code = draw(st.sampled_from(CODES if room >= 0 else RETS))
    kind = OPCODES[code][1]
    k = draw(st.integers(0, 0xFFFFFFFF))
    jt, jf = draw(st.integers(0, 255)), draw(st.integers(0, 255))
    if kind is Operand.MEM:
        k = draw(st.integers(0, 15))
    elif code in _DIVS:
        k = draw(st.integers(1, 0xFFFFFFFF))
    elif kind is Operand.JA:
        k = draw(st.integers(-index - 1 if backward_ja else 0, room)) & 0xFFFFFFFF
    if is_conditional_jump(code):
        jt, jf = draw(st.integers(0, min(room, 255))), draw(st.integers(0, min(room, 255)))
    elif canonical:
        jt = jf = 0
    if canonical and kind in _NO_K:
        k = 0
    return Insn(code, jt, jf, k)


@st.composite
def programs(
    draw, canonical: bool = True, max_size: int = 24, backward_ja: bool = False
) -> list[Insn]:
    """A libpcap-valid program of 1..max_size instructions.

    ``backward_ja`` lets ``ja`` wrap its 32-bit offset back to an earlier instruction,
    as libpcap's ``protochain`` code does (libpcap's validator allows it; such a
    program may loop forever, so never *run* these).
    """
    length = draw(st.integers(1, max_size))
    return [draw(insn_at(i, length, canonical, backward_ja)) for i in range(length)]
