"""``pppoed`` and ``pppoes [SESSION]``: PPP over Ethernet (RFC 2516).

``pppoed`` is only a link-layer type test (discovery stage, ethertype 0x8863).
``pppoes`` tests for the session stage (0x8864) and optionally the 16-bit session id
(2 bytes into the PPPoE header), and then, as libpcap does, makes the rest of the
filter look *inside* the session: the link layer becomes PPP (whose 2-byte protocol
field follows the 6-byte PPPoE header), so ``pppoes and ip`` tests PPP protocol
0x0021 and ``pppoes and vlan`` gets "'vlan' not supported on DLT_PPP".  Like every
encapsulation this changes the compile state for everything generated after it in the
source, whatever the and/or/not structure.
"""

from __future__ import annotations

from typing import Any

from bpfc import linktypes
from bpfc.cfg import Cond, and_
from bpfc.codegen import link
from bpfc.codegen.pushlink import copied, push_link, shifted
from bpfc.codegen.state import CodegenState, Rel

ETHERTYPE_PPPOED = 0x8863
ETHERTYPE_PPPOES = 0x8864
MAX_SESSION = 0xFFFF
#: PPPoE header: version/type, code, session id, length
PPPOE_HDR_LEN = 6
#: the PPP protocol field that follows it
PPP_PROTO_LEN = 2


def gen_pppoed(state: CodegenState) -> Cond:
    """``pppoed``: a PPPoE discovery packet."""
    return link.gen_linktype(state, ETHERTYPE_PPPOED)


def gen_pppoes(state: CodegenState, session: int | None, span: Any = None) -> Cond:
    """``pppoes [session]``; what follows is tested inside the PPP frame."""
    result = link.gen_linktype(state, ETHERTYPE_PPPOES)  # (may fail first, as in libpcap)
    if session is not None and session > MAX_SESSION:
        raise state.error(
            f"PPPoE session number {session} greater than maximum {MAX_SESSION}", span
        )
    if session is not None:
        # the session id, 2 bytes into the PPPoE header (after any LLC/SNAP header)
        result = and_(result, state.cmp(Rel.NET, 2, 2, session))
    # the PPP header starts after the PPPoE header, at the network layer's place
    start = state.off_linkpl.constant + state.off_nl + PPPOE_HDR_LEN
    outer = state.off_linkpl
    push_link(state, linktypes.lookup("PPP"))
    state.off_linkhdr = copied(state, outer, start)
    state.off_linktype = copied(state, outer, start)
    state.off_linkpl = shifted(outer, start + PPP_PROTO_LEN)
    state.off_nl = 0
    state.off_nl_nosnap = 0
    return result
