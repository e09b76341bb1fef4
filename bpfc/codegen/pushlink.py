"""Switching the link layer in the middle of a filter (libpcap's ``PUSH_LINKHDR``).

``pppoes`` makes what follows a PPP frame; ``geneve``/``vxlan`` make it the inner
Ethernet frame.  Both change the compile state's link row and offsets for everything
generated after them.  Two things must still see the *outermost* link type:

* the prologue of variable-length link headers (radiotap, AVS, Prism, PPI), computed
  when the filter is closed (:mod:`.vlhdr`); as in libpcap master it stores the lengths
  into the registers of the offsets current *at the end* of the filter (after a tunnel
  these are the tunnel's registers: master's listing then reads registers nobody
  wrote, and that is reproduced on purpose so verdicts stay identical);
* the parts of that prologue master decides on the *current* link type (radiotap's
  padding, PPI's "is it 802.11" check) are then left out, as in master.

Error messages and link tests of the primitives that follow are about the new link.

:func:`push_link` records the outermost row and wraps the prologue once.
"""

from __future__ import annotations

from typing import Any

from bpfc.cfg import Cond
from bpfc.codegen.state import CodegenState, Offset
from bpfc.codegen.vlhdr import VarOffset
from bpfc.linktypes import LinkType


class Shifted(Offset):
    """``base`` plus a constant, sharing base's (lazily allocated) register."""

    def __init__(self, base: Offset, constant: int) -> None:
        self.constant = constant
        self._base = base

    @property  # type: ignore[override]
    def reg(self) -> int | None:
        return self._base.reg

    @reg.setter
    def reg(self, value: int | None) -> None:
        self._base.reg = value

    @property
    def allocated(self) -> int | None:
        return allocated(self._base)

    def __repr__(self) -> str:
        return f"Shifted(constant={self.constant}, base={self._base!r})"


def allocated(offset: Offset) -> int | None:
    """The offset's register if it has one already (never allocates)."""
    if hasattr(offset, "allocated"):
        return offset.allocated  # type: ignore[no-any-return]
    return offset.reg


def shifted(offset: Offset, constant: int) -> Offset:
    """An offset at ``constant`` with ``offset``'s variable part (if any)."""
    if hasattr(offset, "allocated"):  # lazily allocated register: share it
        return Shifted(offset, constant)
    return Offset(constant, offset.reg)


def copied(state: CodegenState, offset: Offset, constant: int) -> Offset:
    """A *copy* of ``offset``'s variable part at ``constant``, as master's PUSH_LINKHDR
    copies the payload offset's register number into the new link header: if that
    register is not taken yet, the copy takes its own when first used (and no prologue
    writes it, as in master), else it reads the same register."""
    if not hasattr(offset, "allocated"):
        return Offset(constant, offset.reg)
    reg = allocated(offset)
    return VarOffset(state, constant) if reg is None else Offset(constant, reg)


def push_link(state: CodegenState, row: LinkType) -> None:
    """Make ``row`` the link type of what follows, keeping the prologue on the outer one.

    As in libpcap, a new link layer is no longer "inside a tunnel" (geneve and vxlan say
    so again after they push theirs): ``gateway`` after ``geneve and pppoes`` is judged
    on PPP."""
    state.extra.pop("tunnel", None)
    if "outermost_link" not in state.extra:
        state.extra["outermost_link"] = state.link
        prologue = state.extra.get("prologue")
        if prologue is not None:
            state.extra["prologue"] = _outer_prologue(prologue)
    state.link = row


def _outer_prologue(prologue: Any) -> Any:
    def run(state: CodegenState, cond: Cond) -> Cond:
        inner = state.link
        outer = state.extra["outermost_link"]
        # master decides radiotap's padding and PPI's DLT check on the *current* link
        # type, which is no longer the outermost one: neither is generated (the radio
        # header's length is still computed: any other name means radiotap/PPI framing)
        vlhdr = outer.vlhdr
        if vlhdr in ("radiotap", "ppi"):
            vlhdr = f"{vlhdr}-pushed"
        state.link = outer._replace(vlhdr=vlhdr)
        try:
            return prologue(state, cond)  # type: ignore[no-any-return]
        finally:
            state.link = inner

    return run
