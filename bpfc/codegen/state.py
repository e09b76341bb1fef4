"""Compile state, scratch registers and the packet offset model.

Everything mutable during one compilation lives in :class:`CodegenState` (no
module globals): the link type row, the current offsets of the link-layer type
field, link-layer payload and network layer (which ``vlan``/``mpls``/``pppoes``/
``geneve``/``vxlan`` move for everything generated after them), the round-robin
scratch-register allocator, and the compile options (among them ``savefile``: a
program for a capture file tests loopback address families as libpcap does for a
``pcap_open_offline`` handle, see :mod:`bpfc.savefile`).  The per-framing and per-MAC-
layout generator tables come in with the state too (``framings``, ``mac_hosts``: the
literal tables of :mod:`bpfc.codegen.dispatch`), so no module fills another module's
table when it is imported.

Offsets are :class:`Offset` values: a constant part plus, for variable-length
headers, the scratch register holding the variable part (loaded in a prologue).
Loads are expressed relative to a header (:class:`Rel`) as libpcap's
``gen_load_a`` does, so generators never compute absolute offsets themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bpfc.cfg import Cond, and_, jmp_block, not_
from bpfc.codegen import messages
from bpfc.errors import CompileError
from bpfc.isa.insn import BPF_MEMWORDS, AluOp, Class, Insn, JmpOp, Mode, Size, stmt
from bpfc.linktypes import LinkType
from bpfc.savefile import SavefileInfo

#: libpcap's PCAP_NETMASK_UNKNOWN
NETMASK_UNKNOWN = 0xFFFFFFFF

SIZES = {1: Size.B, 2: Size.H, 4: Size.W}


class Rel(Enum):
    """What a load offset is relative to (libpcap's ``enum e_offrel``)."""

    PACKET = "packet"
    LINKHDR = "linkhdr"
    LINKTYPE = "linktype"
    LLC = "llc"  # start of the link-layer payload (802.2 header if any)
    NET = "net"  # network layer (payload + off_nl)
    NET_NOSNAP = "net_nosnap"  # network layer when there is no SNAP header
    TRAN_IPV4 = "tran_ipv4"  # after the IPv4 header (uses ldxb 4*([ip]&0xf))
    TRAN_IPV6 = "tran_ipv6"  # after the fixed IPv6 header


@dataclass
class Offset:
    """A header offset: ``constant`` plus, if ``reg`` is set, the value in M[reg]."""

    constant: int
    reg: int | None = None


@dataclass
class CodegenState:
    """All mutable state of one compilation."""

    link: LinkType
    snaplen: int = 262144
    netmask: int = NETMASK_UNKNOWN
    linux: bool = False
    resolver: Any = None
    expr: str = ""
    #: the capture file compiled for (``pcap_open_offline``), None for ``pcap_open_dead``
    savefile: SavefileInfo | None = None
    off_linkhdr: Offset = field(default_factory=lambda: Offset(0))
    off_linktype: Offset | None = None
    off_linkpl: Offset = field(default_factory=lambda: Offset(0))
    off_nl: int = 0
    off_nl_nosnap: int = 0
    regused: list[bool] = field(default_factory=lambda: [False] * BPF_MEMWORDS)
    curreg: int = 0
    #: encapsulation bookkeeping for later extensions (vlan/mpls/pppoe/geneve/vxlan)
    vlan_depth: int = 0
    label_depth: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    #: framing name -> "network protocol is X" generator (``dispatch.FRAMINGS``)
    framings: Mapping[str, Callable[..., Cond]] = field(default_factory=dict)
    #: frame-dependent MAC layout -> (host, broadcast, multicast) (``dispatch.MAC_HOSTS``)
    mac_hosts: Mapping[str, tuple[Callable[..., Cond], ...]] = field(default_factory=dict)

    @classmethod
    def for_link(cls, link: LinkType, **options: Any) -> CodegenState:
        state = cls(link=link, **options)
        state.off_linktype = None if link.off_linktype is None else Offset(link.off_linktype)
        state.off_linkpl = Offset(link.off_linkpl)
        state.off_linkhdr = Offset(link.off_linkhdr)
        state.off_nl = link.off_nl
        state.off_nl_nosnap = link.off_nl_nosnap
        return state

    # -- errors -------------------------------------------------------------------------

    def error(self, message: str, span: tuple[int, int] | None = None) -> CompileError:
        return CompileError(message, self.expr or None, span)

    # -- scratch registers (round robin, as libpcap's alloc_reg) ---------------------------

    def alloc_reg(self) -> int:
        for _ in range(BPF_MEMWORDS):
            if self.regused[self.curreg]:
                self.curreg = (self.curreg + 1) % BPF_MEMWORDS
            else:
                self.regused[self.curreg] = True
                return self.curreg
        raise self.error("too many registers needed to evaluate expression")

    def free_reg(self, reg: int) -> None:
        self.regused[reg] = False

    # -- loads --------------------------------------------------------------------------

    def base(self, rel: Rel) -> tuple[Offset, int]:
        """The header offset and the extra constant for a load relative to ``rel``."""
        if rel is Rel.PACKET:
            return Offset(0), 0
        if rel is Rel.LINKHDR:
            return self.off_linkhdr, 0
        if rel is Rel.LINKTYPE:
            if self.off_linktype is None:
                raise self.error(messages.no_linktype_filtering(self.link))
            return self.off_linktype, 0
        if rel is Rel.LLC:
            return self.off_linkpl, 0
        if rel is Rel.NET:
            return self.off_linkpl, self.off_nl
        if rel is Rel.NET_NOSNAP:
            return self.off_linkpl, self.off_nl_nosnap
        if rel is Rel.TRAN_IPV6:
            return self.off_linkpl, self.off_nl + 40
        raise ValueError(rel)

    def load(self, rel: Rel, offset: int, size: int) -> list[Insn]:
        """Statements leaving the ``size``-byte field at ``offset`` past ``rel`` in A."""
        sz = SIZES[size]
        if rel is Rel.TRAN_IPV4:
            return [
                *self.loadx_iphdrlen(),
                ld(Class.LD | Mode.IND | sz, self.off_linkpl.constant + self.off_nl + offset),
            ]
        base, extra = self.base(rel)
        if base.reg is None:
            return [ld(Class.LD | Mode.ABS | sz, base.constant + extra + offset)]
        return [
            ld(Class.LDX | Mode.MEM, base.reg),
            ld(Class.LD | Mode.IND | sz, base.constant + extra + offset),
        ]

    def loadx_iphdrlen(self) -> list[Insn]:
        """X = length of the IPv4 header (``ldxb 4*([nl]&0xf)``)."""
        base = self.off_linkpl
        if base.reg is None:
            return [ld(Class.LDX | Mode.MSH | Size.B, base.constant + self.off_nl)]
        # variable link header: X = M[reg]; A = [x + nl] & 0xf << 2; X = A + M[reg]
        return [
            ld(Class.LDX | Mode.MEM, base.reg),
            ld(Class.LD | Mode.IND | Size.B, base.constant + self.off_nl),
            ld(Class.ALU | AluOp.AND | 0, 0xF),
            ld(Class.ALU | AluOp.LSH | 0, 2),
            ld(Class.ALU | AluOp.ADD | 0x08, 0),
            ld(Class.MISC | 0x00, 0),
        ]

    # -- compares (libpcap's gen_ncmp family) -----------------------------------------------

    def ncmp(
        self,
        rel: Rel,
        offset: int,
        size: int,
        mask: int,
        op: int,
        reverse: bool,
        value: int,
    ) -> Cond:
        stmts = self.load(rel, offset, size)
        if mask != 0xFFFFFFFF:
            stmts.append(ld(Class.ALU | AluOp.AND, mask))
        cond = jmp_block(stmts, op, value)
        return not_(cond) if reverse else cond

    def cmp(self, rel: Rel, offset: int, size: int, value: int) -> Cond:
        return self.ncmp(rel, offset, size, 0xFFFFFFFF, JmpOp.JEQ, False, value)

    def cmp_gt(self, rel: Rel, offset: int, size: int, value: int) -> Cond:
        return self.ncmp(rel, offset, size, 0xFFFFFFFF, JmpOp.JGT, False, value)

    def cmp_ge(self, rel: Rel, offset: int, size: int, value: int) -> Cond:
        return self.ncmp(rel, offset, size, 0xFFFFFFFF, JmpOp.JGE, False, value)

    def cmp_lt(self, rel: Rel, offset: int, size: int, value: int) -> Cond:
        return self.ncmp(rel, offset, size, 0xFFFFFFFF, JmpOp.JGE, True, value)

    def cmp_le(self, rel: Rel, offset: int, size: int, value: int) -> Cond:
        return self.ncmp(rel, offset, size, 0xFFFFFFFF, JmpOp.JGT, True, value)

    def mcmp(self, rel: Rel, offset: int, size: int, value: int, mask: int) -> Cond:
        return self.ncmp(rel, offset, size, mask, JmpOp.JEQ, False, value)

    def bcmp(self, rel: Rel, offset: int, data: bytes) -> Cond:
        """Compare ``data`` at ``offset``: words from the end, then a half word, then a byte."""
        result: Cond | None = None
        size = len(data)
        for width in (4, 2, 1):
            while size >= width:
                chunk = int.from_bytes(data[size - width : size], "big")
                cond = self.cmp(rel, offset + size - width, width, chunk)
                result = cond if result is None else and_(result, cond)
                size -= width
                if width == 1:
                    break
        assert result is not None
        return result


ld = stmt
"""A non-jump statement: :func:`bpfc.isa.insn.stmt` (BPF_STMT) itself, no wrapper call."""
