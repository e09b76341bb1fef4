"""``vlan [ID]`` on a live Linux socket (``linux=True``): the kernel may strip the tag.

On Linux the kernel usually removes the outer 802.1Q tag before the filter runs and
reports it out of band: ancillary loads ``[vlanp]`` (SKF_AD_VLAN_TAG_PRESENT) and
``[vlan_tci]`` (SKF_AD_VLAN_TAG).  libpcap therefore generates, for the *first* ``vlan``
on an Ethernet-like link (not inside a tunnel):

* "tag present" (``ldb [vlanp]; jeq #1``) *or* the offline TPID tests; the offline
  branch first adds 4 to the link payload and link type offsets, which become
  variable (two scratch registers, zeroed by a prologue, as the tag is in the data
  only on that path);
* for ``vlan ID``: the 12-bit id from ``[vlan_tci]`` when the tag was stripped,
  else from the packet (``ldb [vlanp]; jeq #1`` then ``ldh [vlan_tci]; ja`` over the
  packet load, inside the test's block).

Later ``vlan`` primitives (inner tags) are the offline ones of :mod:`.encap`, on top
of the variable offsets; :mod:`.dispatch` asks :func:`uses_extensions` first.
"""

from __future__ import annotations

from typing import Any

from bpfc.cfg import Cond, InnerJump, and_, jmp_block, or_
from bpfc.codegen import encap, link
from bpfc.codegen.state import CodegenState, Offset, Rel, ld
from bpfc.isa.insn import AluOp, Class, Insn, JmpOp, Mode, Size
from bpfc.isa.opcodes import JA, SKF_AD, SKF_AD_OFF

SKF_AD_VLAN_TAG = SKF_AD["vlan_tag"]
SKF_AD_VLAN_TAG_PRESENT = SKF_AD["vlan_tag_present"]
VLAN_TAG_LEN = 4
#: link types whose live Linux captures get the ancillary-load form
LIVE_VLAN_LINKS = frozenset({"EN10MB", "NETANALYZER", "NETANALYZER_TRANSPARENT"})

JEQ = Class.JMP | JmpOp.JEQ


def uses_extensions(state: CodegenState) -> bool:
    """Whether a ``vlan`` generated now takes the ancillary-load form."""
    return (
        state.linux
        and state.link.name in LIVE_VLAN_LINKS
        and state.vlan_depth == 0
        and state.off_linkhdr.reg is None
        and "outermost_link" not in state.extra  # not inside a tunnel or PPPoE
    )


def _tag_present() -> Insn:
    return ld(Class.LD | Mode.ABS | Size.B, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)


def _shift_offsets(state: CodegenState) -> list[Insn]:
    """Make the payload and type offsets variable; statements adding the tag's 4 bytes."""
    stmts: list[Insn] = []
    for name in ("off_linkpl", "off_linktype"):
        offset: Offset = getattr(state, name)
        if offset.reg is None:
            setattr(state, name, Offset(offset.constant, state.alloc_reg()))
            offset = getattr(state, name)
        stmts += [
            ld(Class.LD | Mode.MEM, offset.reg),
            ld(Class.ALU | AluOp.ADD, VLAN_TAG_LEN),
            ld(Class.ST, offset.reg),
        ]
    return stmts


def _vid_from_metadata(b_vid: Cond) -> None:
    """Prefix the id test: take the TCI from ``[vlan_tci]`` when the tag was stripped."""
    packet_load = list(b_vid.entry.stmts)
    b_vid.entry.stmts[:] = [
        _tag_present(),
        InnerJump(JEQ, 1, 2, 4),
        ld(Class.LD | Mode.ABS | Size.H, SKF_AD_OFF + SKF_AD_VLAN_TAG),
        InnerJump(JA, len(packet_load) - 1),  # over the packet load, onto the mask
        *packet_load,
    ]


def gen_vlan_live(state: CodegenState, vid: int | None, span: Any = None) -> Cond:
    """The first ``vlan [vid]`` on a live Linux Ethernet socket."""
    encap.check_vlan_after_mpls(state, span)
    if vid is not None and vid > encap.MAX_VLAN_ID:
        raise state.error(f"VLAN tag {vid} greater than maximum {encap.MAX_VLAN_ID}", span)
    present = jmp_block([_tag_present()], JmpOp.JEQ, 1)
    b_tpid = link.gen_linktype(state, encap.VLAN_TPIDS[0])
    for tpid in encap.VLAN_TPIDS[1:]:
        b_tpid = or_(b_tpid, link.gen_linktype(state, tpid))
    b_vid = state.mcmp(Rel.LLC, 0, 2, vid, encap.MAX_VLAN_ID) if vid is not None else None
    # only the in-packet path moves the offsets: the updates go before the TPID tests
    b_tpid.entry.stmts[:0] = _shift_offsets(state)
    result = or_(present, b_tpid)
    if b_vid is not None:
        _vid_from_metadata(b_vid)
        result = and_(result, b_vid)
    state.vlan_depth += 1
    if state.extra.get("prologue") is None:
        regs = [state.off_linkpl.reg, state.off_linktype.reg if state.off_linktype else None]
        state.extra["prologue"] = lambda state, cond: _zero_offsets(regs, cond)
    return result


def _zero_offsets(regs: list[int | None], cond: Cond) -> Cond:
    """The variable parts start at 0: ``ld #0; st M[payload]; st M[type]`` first.

    libpcap master zeroes the registers of the offsets current at the *end* of the
    filter; after a later ``geneve``/``vxlan`` those are the tunnel's, and the tag's
    registers are read uninitialized (a program Linux refuses).  bpfc zeroes the
    registers the tag's offsets use: the same listing whenever master's is sound.
    """
    stmts: list[Any] = [ld(Class.LD | Mode.IMM, 0)]
    stmts += [ld(Class.ST, reg) for reg in regs if reg is not None]
    entry = cond.entry
    shift = len(stmts)
    entry.stmts[:] = stmts + [
        s._replace(jt=s.jt + shift, jf=s.jf + shift)
        if isinstance(s, InnerJump) and s.code != JA
        else s
        for s in entry.stmts
    ]
    return cond
