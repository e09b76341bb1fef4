"""Older network layers: DECnet hosts, OSI (``iso``/``clnp``/``esis``/``isis``/IS-IS PDU
abbreviations) and 802.2 LLC frame kinds (``llc [i|s|u|rr|...]``).

Shapes follow libpcap master (``gen_dnhostop``, the ``Q_ISO``/``Q_ISIS`` protocol
tests, ``gen_llc*``), learnt from its listings.
"""

from __future__ import annotations

from typing import Any

from bpfc.cfg import Cond, and_, not_, or_, true_cond
from bpfc.codegen import juniper_fr_dsa, link, messages, wlan
from bpfc.codegen.state import CodegenState, Rel
from bpfc.isa.insn import JmpOp

ISO_NLPID = {"clnp": 0x81, "esis": 0x82, "isis": 0x83}
#: IS-IS PDU type abbreviations, in the order libpcap tests them
ISIS_PDUS = {
    "l1": (0x1A, 0x18, 0x12, 0x0F, 0x11),
    "l2": (0x1B, 0x19, 0x14, 0x10, 0x11),
    "iih": (0x11, 0x0F, 0x10),
    "lsp": (0x12, 0x14),
    "snp": (0x1B, 0x1A, 0x18, 0x19),
    "csnp": (0x18, 0x19),
    "psnp": (0x1A, 0x1B),
}

#: llc kind -> (mask, value) on the control byte; "i" is a jset test
LLC_KINDS = {
    "s": (0x03, 0x01),
    "u": (0x03, 0x03),
    "rr": (0x0F, 0x01),
    "rnr": (0x0F, 0x05),
    "rej": (0x0F, 0x09),
    "ui": (0xEF, 0x03),
    "ua": (0xEF, 0x63),
    "disc": (0xEF, 0x43),
    "dm": (0xEF, 0x0F),
    "sabme": (0xEF, 0x6F),
    "test": (0xEF, 0xE3),
    "xid": (0xEF, 0xAF),
    "frmr": (0xEF, 0x87),
}


def gen_iso_proto(state: CodegenState, nlpid: int) -> Cond:
    """``iso proto N``: an OSI frame whose network-layer protocol id is N."""
    if nlpid > 255:
        raise state.error(f"ISO protocol {nlpid} greater than maximum 255")
    if state.link.framing == "frelay":  # the NLPID is in the Q.933 header itself
        return juniper_fr_dsa.gen_frelay_nlpid(state, nlpid)
    return and_(link.gen_linktype(state, link.LLCSAP_ISONS), state.cmp(Rel.NET_NOSNAP, 0, 1, nlpid))


def gen_isis_proto(state: CodegenState, pdu: int) -> Cond:
    """``isis proto N``: an IS-IS PDU of type N."""
    if pdu > 31:
        raise state.error(f"IS-IS PDU type {pdu} greater than maximum 31")
    b0 = gen_iso_proto(state, ISO_NLPID["isis"])
    return and_(b0, state.mcmp(Rel.NET_NOSNAP, 4, 1, pdu, 0x1F))


def gen_iso_abbrev(state: CodegenState, word: str) -> Cond | None:
    """``clnp``/``esis``/``isis``/``l1``/``iih``...; None when ``word`` is not one."""
    if word in ISO_NLPID:
        return gen_iso_proto(state, ISO_NLPID[word])
    pdus = ISIS_PDUS.get(word)
    if pdus is None:
        return None
    result = gen_isis_proto(state, pdus[0])
    for pdu in pdus[1:]:
        result = or_(result, gen_isis_proto(state, pdu))
    return result


# -- 802.2 LLC -----------------------------------------------------------------------


#: Ethernet-framed link types on which libpcap supports ``llc`` (not netANALYZER)
LLC_ETHER_LINKS = frozenset({"EN10MB", "DSA_TAG_BRCM", "DSA_TAG_DSA"})


def _is_llc(state: CodegenState) -> Cond:
    framing = state.link.framing
    if framing == "llc" and state.link.llc_always:
        return true_cond()
    if framing == "ether" and state.link.name in LLC_ETHER_LINKS:
        # an 802.3 length field, and not a raw Novell 802.3 frame (0xFFFF)
        b0 = not_(state.cmp_gt(Rel.LINKTYPE, 0, 2, link.ETHERMTU))
        return and_(b0, not_(state.cmp(Rel.LLC, 0, 2, 0xFFFF)))
    if framing == "wlan":  # 802.11: every data frame carries 802.2 LLC
        return wlan.gen_data_frame(state)
    raise state.error(messages.not_supported_on("llc", state.link))


def check_llc_kind(state: CodegenState, kind: str | None, span: Any = None) -> str | None:
    """The kind of ``llc KIND`` in lower case (libpcap ignores case), or None for plain
    ``llc``.  libpcap's grammar judges the name before any code is generated, so an
    unknown name is reported even where ``llc`` itself is not supported."""
    word = None if kind is None else kind.lower()
    if word is not None and word != "i" and word not in LLC_KINDS:
        err = state.error(f'unknown LLC type name "{kind}"', span)
        err.from_grammar = True  # type: ignore[attr-defined]
        raise err
    return word


def gen_llc_kind(state: CodegenState, word: str) -> Cond:
    """The control field test of one (checked) ``llc`` kind."""
    if word == "i":
        return not_(state.ncmp(Rel.LLC, 2, 1, 0xFFFFFFFF, JmpOp.JSET, False, 0x01))
    mask, value = LLC_KINDS[word]
    return state.mcmp(Rel.LLC, 2, 1, value, mask)


def gen_llc(state: CodegenState, kind: str | None, span: Any = None) -> Cond:
    """``llc [kind]``: an 802.2 frame, optionally of one control-field kind."""
    word = check_llc_kind(state, kind, span)
    b0 = _is_llc(state)
    return b0 if word is None else and_(b0, gen_llc_kind(state, word))


# -- DECnet --------------------------------------------------------------------------


def parse_decnet(state: CodegenState, text: str, span: Any) -> int:
    """``area.node`` (area <= 63, node <= 1023) as the 16-bit DECnet address."""
    parts = text.split(".")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        area, node = int(parts[0]), int(parts[1])
        if area <= 63 and node <= 1023:
            return (area << 10) | node
    raise state.error(f"invalid DECnet address '{text}'", span)


def _dn_dir(state: CodegenState, addr: int, src: bool) -> Cond:
    swapped = ((addr & 0xFF) << 8) | (addr >> 8)  # DECnet addresses are little-endian
    short, long_ = (3, 15) if src else (1, 7)

    def flagged(pad: bool, long_hdr: bool) -> Cond:
        if pad:
            return state.mcmp(Rel.NET, 2, 2, 0x8106 if long_hdr else 0x8102, 0xFF07)
        return state.mcmp(Rel.NET, 2, 1, 0x06 if long_hdr else 0x02, 0x07)

    if src:
        tests = [
            and_(flagged(False, False), state.cmp(Rel.NET, 2 + short, 2, swapped)),
            and_(flagged(True, False), state.cmp(Rel.NET, 3 + short, 2, swapped)),
        ]
    else:  # the destination follows the flags byte: one masked word compare
        tests = [
            state.mcmp(Rel.NET, 2, 4, 0x02000000 | swapped << 8, 0x07FFFF00),
            state.mcmp(Rel.NET, 2, 4, 0x81020000 | swapped, 0xFF07FFFF),
        ]
    tests += [
        and_(flagged(False, True), state.cmp(Rel.NET, 2 + long_, 2, swapped)),
        and_(flagged(True, True), state.cmp(Rel.NET, 3 + long_, 2, swapped)),
    ]
    result = tests[0]
    for test in tests[1:]:
        result = or_(result, test)
    return result


def gen_decnet_host(state: CodegenState, addr: int, direction: str) -> Cond:
    """``decnet [src|dst] host AREA.NODE``."""
    if direction == "src":
        tests = _dn_dir(state, addr, True)
    elif direction == "dst":
        tests = _dn_dir(state, addr, False)
    elif direction == "src and dst":
        tests = and_(_dn_dir(state, addr, True), _dn_dir(state, addr, False))
    elif direction in ("src or dst", "default"):
        tests = or_(_dn_dir(state, addr, True), _dn_dir(state, addr, False))
    else:
        raise state.error(f"'{direction}' is not a valid qualifier for 'decnet host'")
    return and_(link.gen_linktype(state, link.ETHERTYPE_DN), tests)
