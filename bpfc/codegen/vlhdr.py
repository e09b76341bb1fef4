"""Variable-length link headers: the 802.11 family (plain, Prism, AVS, radiotap, PPI).

On these link types neither the 802.11 header nor its payload is at a fixed offset:
a radio header of its own length may come first (Prism: 144 bytes, or an AVS header
whose length is in it; AVS, radiotap and PPI: a length field), and the 802.11 header
is 24 bytes, plus 2 for QoS data frames, plus padding to a 4-byte boundary when
radiotap says the frame was padded.  libpcap keeps each variable part in a scratch
register and computes it once, in a prologue at the start of the program
(``insert_compute_vloffsets``); bpfc does the same:

* :class:`VarOffset` is an offset whose register is taken the first time a load
  uses it, so register numbers come out in libpcap's order;
* :func:`setup` (called by ``compile`` for rows with a ``vlhdr``) installs those
  offsets and the prologue;
* :func:`prologue` prepends the length computations to the first block, only for the
  registers some load used, and for PPI puts the "is the payload 802.11" check first.

The prologue has jumps inside one block (:class:`~bpfc.cfg.InnerJump`), as libpcap's
does, so listings match master's.
"""

from __future__ import annotations

from typing import Any

from bpfc.cfg import Cond, InnerJump, and_, jmp_block, prepend
from bpfc.codegen.state import CodegenState, Offset, ld
from bpfc.isa.insn import AluOp, Class, Insn, JmpOp, Mode, Size, Src
from bpfc.isa.opcodes import JA

#: DLT_IEEE802_11 as PPI stores it (little-endian 105, loaded as a big-endian word)
PPI_DLT_IEEE802_11 = 0x69000000
#: Prism header: its length when it is not an AVS header in disguise
PRISM_HDR_LEN = 144
#: the first word of an AVS header, masked (version varies in the low bits)
AVS_MAGIC, AVS_MAGIC_MASK = 0x80211000, 0xFFFFF000
#: 802.11 header length without QoS control, the QoS control length
WLAN_HDR_LEN, WLAN_QOS_LEN = 24, 2

TAX = Class.MISC | 0x00
TXA = Class.MISC | 0x80
JSET = Class.JMP | JmpOp.JSET
JEQ = Class.JMP | JmpOp.JEQ

Stmt = Insn | InnerJump


class VarOffset(Offset):
    """An offset with a variable part whose scratch register is allocated lazily.

    Reading ``reg`` takes a register on first use (libpcap's
    ``gen_abs_offset_varpart``), so a program that never loads relative to this
    offset computes nothing for it.
    """

    def __init__(self, state: CodegenState, constant: int = 0) -> None:
        self.constant = constant
        self._state = state
        self._reg: int | None = None

    @property  # type: ignore[override]
    def reg(self) -> int:
        if self._reg is None:
            self._reg = self._state.alloc_reg()
        return self._reg

    @reg.setter
    def reg(self, value: int | None) -> None:
        self._reg = value

    @property
    def allocated(self) -> int | None:
        """The register if some load used this offset, else None (no allocation)."""
        return self._reg

    def __repr__(self) -> str:
        return f"VarOffset(constant={self.constant}, reg={self._reg})"

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__


def setup(state: CodegenState) -> None:
    """Install the variable offsets and the prologue for the row's ``vlhdr``."""
    state.off_linkpl = VarOffset(state, 0)
    if state.link.vlhdr != "ieee802_11":  # a radio header precedes the 802.11 header
        state.off_linkhdr = VarOffset(state, 0)
    state.extra["prologue"] = prologue


# -- the prologue ------------------------------------------------------------------------


class _Code:
    """Statements with symbolic forward jump targets (labels), resolved by ``finish``."""

    def __init__(self) -> None:
        self.stmts: list[Any] = []
        self.labels: dict[str, int] = {}
        self.jumps: list[tuple[int, str, str]] = []

    def emit(self, code: int, k: int = 0) -> None:
        self.stmts.append(ld(code, k))

    def jump(self, code: int, k: int, jt: str, jf: str) -> None:
        self.jumps.append((len(self.stmts), jt, jf))
        self.stmts.append(InnerJump(code, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.stmts)

    def finish(self) -> list[Stmt]:
        """The statements; label ``end`` (and any unplaced label) is the next statement."""
        end = len(self.stmts)
        out = list(self.stmts)
        for pos, jt, jf in self.jumps:
            out[pos] = out[pos]._replace(
                jt=self.labels.get(jt, end) if jt != "next" else pos + 1,
                jf=self.labels.get(jf, end) if jf != "next" else pos + 1,
            )
        return out


def _prefix_length(code: _Code, kind: str, reg: int) -> None:
    """A = the radio header's length; store it in M[reg] and keep it in X."""
    if kind == "prism":  # 144 bytes, unless it is really an AVS header (length at 4)
        code.emit(Class.LD | Mode.ABS | Size.W, 0)
        code.emit(Class.ALU | AluOp.AND, AVS_MAGIC_MASK)
        code.jump(JEQ, AVS_MAGIC, "next", "prism")
        code.emit(Class.LD | Mode.ABS | Size.W, 4)
        code.stmts.append(InnerJump(JA, 1))
        code.label("prism")
        code.emit(Class.LD | Mode.IMM, PRISM_HDR_LEN)
    elif kind == "avs":  # big-endian 32-bit length at offset 4
        code.emit(Class.LD | Mode.ABS | Size.W, 4)
    else:  # radiotap / PPI: little-endian 16-bit length at offset 2
        code.emit(Class.LD | Mode.ABS | Size.B, 3)
        code.emit(Class.ALU | AluOp.LSH, 8)
        code.emit(TAX)
        code.emit(Class.LD | Mode.ABS | Size.B, 2)
        code.emit(Class.ALU | AluOp.OR | Src.X)
    code.emit(Class.ST, reg)
    code.emit(TAX)


def _wlan_header_length(code: _Code, radiotap: bool, reg: int) -> None:
    """M[reg] = X + 24, + 2 for QoS data frames, rounded up to 4 for padded radiotap."""
    code.emit(TXA)
    code.emit(Class.ALU | AluOp.ADD, WLAN_HDR_LEN)
    code.emit(Class.ST, reg)
    code.emit(Class.LD | Mode.IND | Size.B, 0)  # frame control, byte 0
    code.jump(JSET, 0x08, "next", "end")  # a data frame...
    code.jump(JSET, 0x04, "end", "next")  # ...not of the reserved type
    code.jump(JSET, 0x80, "next", "radiotap")  # QoS subtypes carry QoS control
    code.emit(Class.LD | Mode.MEM, reg)
    code.emit(Class.ALU | AluOp.ADD, WLAN_QOS_LEN)
    code.emit(Class.ST, reg)
    code.label("radiotap")
    if not radiotap:
        return
    # radiotap "present" word (little-endian, read big-endian): Flags present, no
    # extension bitmap; the Flags byte follows the TSFT field if that is present
    code.emit(Class.LD | Mode.ABS | Size.W, 4)
    code.jump(JSET, 0x02000000, "next", "end")
    code.jump(JSET, 0x80, "end", "next")
    code.jump(JSET, 0x01000000, "next", "no_tsft")
    code.emit(Class.LD | Mode.ABS | Size.B, 16)
    code.jump(JSET, 0x20, "pad", "end")
    code.label("no_tsft")
    code.emit(Class.LD | Mode.ABS | Size.B, 8)
    code.jump(JSET, 0x20, "pad", "end")
    code.label("pad")  # data padded to a 32-bit boundary
    code.emit(Class.LD | Mode.MEM, reg)
    code.emit(Class.ALU | AluOp.ADD, 3)
    code.emit(Class.ALU | AluOp.AND, 0xFFFFFFFC)
    code.emit(Class.ST, reg)


def _allocated(offset: Offset) -> int | None:
    """The register holding ``offset``'s variable part, if any (never allocates)."""
    return offset.allocated if isinstance(offset, VarOffset) else offset.reg


def prologue_stmts(state: CodegenState) -> list[Stmt]:
    """The statements computing the variable offsets the program uses (maybe none).

    The registers are the offsets' registers at the end of generation: an
    encapsulation that moved an offset into a new register gets it computed there.
    """
    kind = state.link.vlhdr or ""
    radio = kind != "ieee802_11"  # a radio header precedes the 802.11 header
    pl_reg = _allocated(state.off_linkpl)
    hdr_reg = _allocated(state.off_linkhdr) if radio else None
    if pl_reg is not None and radio and hdr_reg is None:
        # the payload offset includes the radio header's length: compute that too
        hdr_reg = state.alloc_reg()
        state.off_linkhdr.reg = hdr_reg
    code = _Code()
    if hdr_reg is not None:
        _prefix_length(code, kind, hdr_reg)
    if pl_reg is not None:
        # its jumps inside a block turn libpcap's optimizer off for the whole filter
        # (bpfc.opt.libpcap_model reads the flag)
        state.extra["no_optimize"] = True
        if hdr_reg is None:
            code.emit(Class.LDX | Mode.IMM, 0)
        _wlan_header_length(code, kind == "radiotap", pl_reg)
    return code.finish()


def prologue(state: CodegenState, cond: Cond) -> Cond:
    """``cond`` with the offset computations in front (and PPI's DLT check first)."""
    prepend(cond.entry, prologue_stmts(state))
    if state.link.vlhdr == "ppi":
        check = jmp_block([ld(Class.LD | Mode.ABS | Size.W, 4)], JmpOp.JEQ, PPI_DLT_IEEE802_11)
        cond = and_(check, cond)
    return cond
