"""``geneve [VNI]`` and ``vxlan [VNI]``: UDP tunnels whose payload is a link-layer frame.

Both match a UDP datagram to the tunnel's port (Geneve 6081, VXLAN 4789) over IPv4 or
IPv6, check the tunnel header (Geneve: version 0; VXLAN: the "VNI present" flag) and
the optional 24-bit VNI, and then, as libpcap does, make everything generated after
them look at the *inner* frame.  Where that frame starts depends on the IPv4 header
length (and, for Geneve, on its option length), so the new offsets are computed at run
time into scratch registers by statements appended to the test:

* the IPv4 branch ends with ``A = X = IP header length`` and the IPv6 one with
  ``A = X = 40`` (a ``jeq x`` that always holds), plus the variable part of the outer
  payload offset when the outer link header has one;
* the shared tail adds the constant part and the UDP header: A is the tunnel header;
* VXLAN: the inner Ethernet frame is 8 bytes on; Geneve: 8 bytes plus 4 times the
  option length, and its protocol field says whether the payload is an Ethernet frame
  (0x6558) or directly a network-layer packet with that ethertype.

Afterwards the link layer is Ethernet at variable offsets (so ``protochain`` refuses
"variable length headers" and ``gateway`` cannot be used within them); after Geneve,
MAC address tests first check that there is an Ethernet header at all.  Listings
follow libpcap master's, register numbers included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bpfc import linktypes
from bpfc.cfg import Cond, InnerJump, and_, jmp_block, not_, or_
from bpfc.codegen import link, transport
from bpfc.codegen.link import DIR_DST
from bpfc.codegen.pushlink import push_link
from bpfc.codegen.state import CodegenState, Offset, Rel, ld
from bpfc.isa.insn import AluOp, Class, JmpOp, Mode, Size, Src

GENEVE_PORT = 6081
VXLAN_PORT = 4789
MAX_VNI = 0xFFFFFF
UDP_HDR_LEN = 8
IPPROTO_UDP = 17
#: Geneve: fixed header length, "transparent Ethernet bridging" protocol type
GENEVE_HDR_LEN = 8
ETHERTYPE_TEB = 0x6558
VXLAN_HDR_LEN = 8
VXLAN_FLAG_VNI = 0x08
ETHER_TYPE_OFF, ETHER_HDR_LEN = 12, 14
IPV6_HDR_LEN = 40

TAX = Class.MISC | 0x00
TXA = Class.MISC | 0x80
ADD_X = Class.ALU | AluOp.ADD | Src.X


def _header_checks(
    state: CodegenState, v6: bool, geneve: bool, vni: int | None, span: Any = None
) -> Cond:
    """UDP to the tunnel port, tunnel header sane, VNI (if given), over one IP version.
    The VNI's range is checked after the link-layer test, which may fail first."""
    port = GENEVE_PORT if geneve else VXLAN_PORT
    rel = Rel.TRAN_IPV6 if v6 else Rel.TRAN_IPV4
    # master generates the port test before the link-layer test (visible in register
    # numbers on variable-length link headers), then puts the link test first
    ports = transport._portop(state, v6, port, port, (IPPROTO_UDP,), DIR_DST)
    ethertype = link.ETHERTYPE_IPV6 if v6 else link.ETHERTYPE_IP
    result = and_(link.gen_linktype(state, ethertype), ports)
    if geneve:  # version (top two bits) is 0
        result = and_(result, state.mcmp(rel, UDP_HDR_LEN, 1, 0, 0xC0))
    else:
        result = and_(result, state.cmp(rel, UDP_HDR_LEN, 1, VXLAN_FLAG_VNI))
    if vni is not None:
        if vni > MAX_VNI:
            name = "Geneve" if geneve else "VXLAN"
            raise state.error(f"{name} VNI {vni} greater than maximum {MAX_VNI}", span)
        result = and_(result, state.mcmp(rel, UDP_HDR_LEN + 4, 4, vni << 8, 0xFFFFFF00))
    # A = X = the IP header length plus the payload offset's variable part
    base = state.off_linkpl
    if v6:
        stmts = [ld(Class.LDX | Mode.MEM, base.reg)] if base.reg is not None else []
        stmts.append(ld(Class.LD | Mode.IMM, IPV6_HDR_LEN))
        if base.reg is not None:
            stmts.append(ld(ADD_X))
        stmts.append(ld(TAX))
    else:
        stmts = [*state.loadx_iphdrlen(), ld(TXA)]
    return and_(result, jmp_block(stmts, JmpOp.JEQ, 0, Src.X))


def _geneve_offsets(state: CodegenState) -> list[Any]:
    """A: Geneve header -> registers for the inner link header, type field and payload."""
    # its jump inside a block turns libpcap's optimizer off for the whole filter, even
    # where a constant operand drops this code (bpfc.opt.libpcap_model reads the flag)
    state.extra["no_optimize"] = True
    start = state.off_linkpl.constant + state.off_nl + UDP_HDR_LEN
    linktype = state.alloc_reg()
    stmts: list[Any] = [
        ld(Class.ALU | AluOp.ADD, start),
        ld(TAX),  # X = Geneve header
        ld(Class.ALU | AluOp.ADD, 2),
        ld(Class.ST, linktype),  # the protocol type field, an ethertype
        ld(Class.LD | Mode.IND | Size.B, 0),
        ld(Class.ALU | AluOp.AND, 0x3F),  # option length, in 4-byte words
        ld(Class.ALU | AluOp.MUL, 4),
        ld(Class.ALU | AluOp.ADD, GENEVE_HDR_LEN),
        ld(ADD_X),
    ]
    linkhdr = state.alloc_reg()
    stmts += [
        ld(Class.ST, linkhdr),  # the Geneve payload
        ld(Class.LD | Mode.IND | Size.H, 2),
        ld(Class.LDX | Mode.MEM, linkhdr),
    ]
    jump_at = len(stmts)
    stmts += [
        None,  # jeq #TEB: an Ethernet frame follows; else the payload is the network layer
        ld(TXA),
        ld(Class.ALU | AluOp.ADD, ETHER_TYPE_OFF),
        ld(Class.ST, linktype),
        ld(Class.ALU | AluOp.ADD, 2),
        ld(TAX),
    ]
    linkpl = state.alloc_reg()
    store_at = len(stmts)
    stmts.append(ld(Class.STX, linkpl))
    stmts[jump_at] = InnerJump(Class.JMP | JmpOp.JEQ, ETHERTYPE_TEB, jump_at + 1, store_at)
    _enter_inner(state, linkhdr, linktype, linkpl)
    return stmts


def _vxlan_offsets(state: CodegenState) -> list[Any]:
    """A: VXLAN header -> registers for the inner Ethernet header, type field, payload."""
    start = state.off_linkpl.constant + state.off_nl + UDP_HDR_LEN
    linkhdr = state.alloc_reg()
    stmts = [
        ld(Class.ALU | AluOp.ADD, start),
        ld(Class.ALU | AluOp.ADD, VXLAN_HDR_LEN),
        ld(Class.ST, linkhdr),
    ]
    linktype = state.alloc_reg()
    stmts += [
        ld(Class.ALU | AluOp.ADD, ETHER_TYPE_OFF),
        ld(Class.ST, linktype),
        ld(Class.ALU | AluOp.ADD, 2),
        ld(TAX),
    ]
    linkpl = state.alloc_reg()
    stmts.append(ld(Class.STX, linkpl))
    _enter_inner(state, linkhdr, linktype, linkpl)
    return stmts


def _enter_inner(state: CodegenState, linkhdr: int, linktype: int, linkpl: int) -> None:
    push_link(state, ENCAP_ETHER)
    state.off_linkhdr = Offset(0, linkhdr)
    state.off_linktype = Offset(0, linktype)
    state.off_linkpl = Offset(0, linkpl)
    state.off_nl = 0  # off_nl_nosnap is left as it was: libpcap master does not reset it
    state.extra["tunnel"] = True


def gen_tunnel(state: CodegenState, geneve: bool, vni: int | None, span: Any = None) -> Cond:
    """``geneve [vni]`` (``geneve`` true) or ``vxlan [vni]``."""
    b4 = _header_checks(state, False, geneve, vni, span)
    b6 = _header_checks(state, True, geneve, vni, span)
    stmts = _geneve_offsets(state) if geneve else _vxlan_offsets(state)
    # the offsets run on either branch, then an always-true test (not folded away)
    tail = jmp_block([*stmts, ld(Class.LD | Mode.IMM, 0)], JmpOp.JEQ, 0)
    return and_(or_(b4, b6), tail)


# -- MAC addresses inside VXLAN or Geneve: first check there is an Ethernet header --------------

#: the link after ``vxlan`` or ``geneve``: Ethernet, but MAC tests first check that there is a
#: MAC header (a Geneve payload may have none; libpcap checks after VXLAN too, where the test
#: always holds but is part of the program)
ENCAP_ETHER = linktypes.lookup("EN10MB")._replace(mac="encap")


def gen_has_ether_header(state: CodegenState) -> Cond:
    """The tunnel's payload is an Ethernet frame: its header and payload offsets differ."""
    assert state.off_linkhdr.reg is not None and state.off_linkpl.reg is not None
    stmts = [ld(Class.LD | Mode.MEM, state.off_linkhdr.reg),
             ld(Class.LDX | Mode.MEM, state.off_linkpl.reg)]  # fmt: skip
    return not_(jmp_block(stmts, JmpOp.JEQ, 0, Src.X))


def _checked(generator: Callable[..., Cond]) -> Callable[..., Cond]:
    def gen(state: CodegenState, *args: Any) -> Cond:
        check = gen_has_ether_header(state)
        state.link = ETHER
        try:
            return and_(check, generator(state, *args))
        finally:
            state.link = ENCAP_ETHER

    return gen


ETHER = linktypes.lookup("EN10MB")
#: the inner Ethernet's MAC tests, for ``dispatch.MAC_HOSTS["encap"]``
ENCAP_MAC_HOSTS = (
    _checked(link.gen_mac_host),
    _checked(link.gen_link_broadcast),
    _checked(link.gen_link_multicast),
)
