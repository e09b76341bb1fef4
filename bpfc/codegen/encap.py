"""``vlan [ID]`` and ``mpls [LABEL]``: encapsulations that move what follows them.

As in libpcap, generating one of these changes the compile state for everything
generated *after* it in the source (whatever the and/or/not structure):

* ``vlan``: the "network protocol is X" test of the link type for each VLAN TPID
  (0x8100, 0x88a8, 0x9100), then the 12-bit VLAN id at the start of the link payload;
  afterwards the link type field and the payload are 4 bytes further.  A second
  ``vlan`` therefore tests the inner tag.  Not after ``mpls`` ("no VLAN match after
  MPLS").
* ``mpls``: the first one tests the link type for MPLS unicast (PPP's protocol 0x0281),
  later ones that the previous label was not the bottom of the stack; the 20-bit label
  is in the top of the 32-bit label entry; afterwards the network layer is 4 bytes
  further, and "network protocol is IPv4/IPv6" becomes "bottom of stack, and version
  nibble 4/6" (:func:`gen_mpls_linktype`).

On a live Linux Ethernet capture the first ``vlan`` also accepts tags the kernel
stripped (ancillary ``[vlanp]``/``[vlan_tci]`` loads and variable offsets): that form
is :mod:`bpfc.codegen.vlan_live`, which falls back to this one otherwise.  Listings
follow libpcap master's.
"""

from __future__ import annotations

from typing import Any

from bpfc.cfg import Cond, and_, not_, or_
from bpfc.codegen import link
from bpfc.codegen.state import CodegenState, Rel
from bpfc.isa.insn import JmpOp

VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
ETHERTYPE_MPLS = 0x8847
PPP_MPLS_UCAST = 0x0281
MAX_VLAN_ID = 0x0FFF
MAX_MPLS_LABEL = 0xFFFFF


def check_vlan_after_mpls(state: CodegenState, span: Any = None) -> None:
    """libpcap refuses ``vlan`` inside MPLS before anything else, the link type included."""
    if state.label_depth > 0:
        raise state.error("no VLAN match after MPLS", span)


def gen_vlan(state: CodegenState, vid: int | None, span: Any = None) -> Cond:
    """``vlan [vid]`` (offline), shifting the link type and payload offsets by 4."""
    check_vlan_after_mpls(state, span)
    if vid is not None and vid > MAX_VLAN_ID:
        raise state.error(f"VLAN tag {vid} greater than maximum {MAX_VLAN_ID}", span)
    result = link.gen_linktype(state, VLAN_TPIDS[0])
    for tpid in VLAN_TPIDS[1:]:
        result = or_(result, link.gen_linktype(state, tpid))
    if vid is not None:
        # at the network layer's place (master's OR_LINKPL): past 802.11's LLC/SNAP header
        result = and_(result, state.mcmp(Rel.NET, 0, 2, vid, MAX_VLAN_ID))
    if state.off_linktype is not None:
        state.off_linktype.constant += 4
    state.off_linkpl.constant += 4
    state.vlan_depth += 1
    return result


def gen_mpls_linktype(state: CodegenState, proto: int) -> Cond:
    """The "network protocol is ``proto``" test inside MPLS: bottom of stack, IP version."""
    versions = {link.ETHERTYPE_IP: 0x40, link.ETHERTYPE_IPV6: 0x60}
    if proto not in versions:
        raise state.error("unsupported protocol over mpls")
    bottom = state.ncmp(Rel.NET, -2, 1, 0xFFFFFFFF, JmpOp.JSET, False, 0x01)
    return and_(bottom, state.mcmp(Rel.NET, 0, 1, versions[proto], 0xF0))


def gen_mpls(state: CodegenState, label: int | None, span: Any = None) -> Cond:
    """``mpls [label]``, moving the network layer 4 bytes on."""
    if label is not None and label > MAX_MPLS_LABEL:
        raise state.error(f"MPLS label {label} greater than maximum {MAX_MPLS_LABEL}", span)
    if state.label_depth > 0:
        # the previous label entry must not be the bottom of the stack
        result = not_(state.ncmp(Rel.NET, -2, 1, 0xFFFFFFFF, JmpOp.JSET, False, 0x01))
    else:
        result = link.gen_linktype(state, ETHERTYPE_MPLS)
    if label is not None:
        result = and_(result, state.mcmp(Rel.NET, 0, 4, label << 12, 0xFFFFF000))
    state.off_nl += 4
    state.off_nl_nosnap += 4
    state.label_depth += 1
    state.extra["linktype_hook"] = gen_mpls_linktype
    return result
