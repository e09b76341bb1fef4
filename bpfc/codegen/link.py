"""Link-layer tests: "is the network protocol X", MAC addresses, broadcast/multicast.

What a link type looks like comes from its :mod:`bpfc.linktypes` row; this module
holds one generator per common *framing* (how the type field encodes the protocol) in
:data:`LINKTYPE_GENERATORS` and the fixed MAC layouts in :data:`MAC_LAYOUTS`.  The
complete tables -- these plus the family modules' framings (pflog, ARCnet, ATM, 802.11,
Frame Relay/Juniper/LocalTalk) and frame-dependent MAC layouts (802.11, LANE, Geneve)
-- are literal dicts in :mod:`bpfc.codegen.dispatch`, handed to each compilation in
``CodegenState.framings``/``mac_hosts``; no module adds to this one's tables.  Adding a
framing or a MAC layout means adding an entry there, never a new ``if`` on the link
type name.  The instruction shapes follow libpcap's gencode.c
(``gen_linktype`` and its per-framing helpers) so listings match.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bpfc.cfg import Cond, and_, false_cond, not_, or_, true_cond
from bpfc.codegen import messages
from bpfc.codegen.state import CodegenState, Rel
from bpfc.isa.insn import JmpOp

ETHERMTU = 1500

# ethertypes and LLC SAPs with special handling
ETHERTYPE_IP = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_REVARP = 0x8035
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_ATALK = 0x809B
ETHERTYPE_AARP = 0x80F3
ETHERTYPE_IPX = 0x8137
ETHERTYPE_DN = 0x6003
LLCSAP_IP = 0x06
LLCSAP_ISONS = 0xFE
LLCSAP_NETBEUI = 0xF0
LLCSAP_IPX = 0xE0
LLCSAP_8021D = 0x42

# Linux cooked capture pseudo-protocols
SLL_P_802_3 = 0x0001
SLL_P_802_2 = 0x0004

#: ethertype -> PPP protocol number (others are used unchanged)
PPP_TYPES = {
    ETHERTYPE_IP: 0x0021,
    ETHERTYPE_IPV6: 0x0057,
    ETHERTYPE_DN: 0x0027,
    ETHERTYPE_ATALK: 0x0029,
    0x0600: 0x0025,  # XNS IDP
    ETHERTYPE_IPX: 0x002B,
    LLCSAP_IPX: 0x002B,
    LLCSAP_ISONS: 0x0023,  # OSI
    LLCSAP_8021D: 0x0031,  # bridging PDU
    0x0BAD: 0x0035,  # VINES
    0x8847: 0x0281,  # MPLS unicast (libpcap's ethertype_to_ppptype)
}
PPP_VJC = 0x002D
PPP_VJNC = 0x002F

#: address families for loopback-style headers (AF_INET, AF_INET6 as libpcap uses them)
AF_INET = 2
AF_INET6_LINUX = 10
#: IPv6's AF_ value on the BSDs (NetBSD/OpenBSD/BSD/OS/Npcap, FreeBSD, Darwin): a
#: savefile may come from any of them
BSD_AF_INET6 = (24, 28, 30)
IPNET_AF_INET = 2
IPNET_AF_INET6 = 26


def _snap(state: CodegenState, orgcode: int, ptype: int) -> Cond:
    """An LLC/SNAP header (AA AA 03, OUI, type) at the start of the link payload."""
    data = bytes([0xAA, 0xAA, 0x03]) + orgcode.to_bytes(3, "big") + ptype.to_bytes(2, "big")
    return state.bcmp(Rel.LLC, 0, data)


def _not_8023(state: CodegenState) -> Cond:
    """The type field is an 802.3 length (<= 1500), i.e. not an ethertype."""
    return not_(state.cmp_gt(Rel.LINKTYPE, 0, 2, ETHERMTU))


def _ether(state: CodegenState, proto: int) -> Cond:
    if proto in (LLCSAP_ISONS, LLCSAP_IP, LLCSAP_NETBEUI):
        return and_(_not_8023(state), state.cmp(Rel.LLC, 0, 2, (proto << 8) | proto))
    if proto == LLCSAP_IPX:
        b1 = or_(state.cmp(Rel.LLC, 0, 1, LLCSAP_IPX), state.cmp(Rel.LLC, 0, 2, 0xFFFF))
        b1 = or_(_snap(state, 0x000000, ETHERTYPE_IPX), b1)
        b1 = and_(_not_8023(state), b1)
        return or_(state.cmp(Rel.LINKTYPE, 0, 2, ETHERTYPE_IPX), b1)
    if proto in (ETHERTYPE_ATALK, ETHERTYPE_AARP):
        org = 0x080007 if proto == ETHERTYPE_ATALK else 0x000000
        b1 = and_(_not_8023(state), _snap(state, org, proto))
        return or_(state.cmp(Rel.LINKTYPE, 0, 2, proto), b1)
    if proto <= ETHERMTU:
        return and_(_not_8023(state), state.cmp(Rel.LINKTYPE, 2, 1, proto))
    return state.cmp(Rel.LINKTYPE, 0, 2, proto)


def _sll(state: CodegenState, proto: int) -> Cond:
    def is_802_2() -> Cond:
        return state.cmp(Rel.LINKTYPE, 0, 2, SLL_P_802_2)

    if proto in (LLCSAP_ISONS, LLCSAP_IP, LLCSAP_NETBEUI):
        return and_(is_802_2(), state.cmp(Rel.LLC, 0, 2, (proto << 8) | proto))
    if proto == LLCSAP_IPX:
        b1 = or_(state.cmp(Rel.LLC, 0, 1, LLCSAP_IPX), _snap(state, 0x000000, ETHERTYPE_IPX))
        b1 = and_(is_802_2(), b1)
        b1 = or_(state.cmp(Rel.LINKTYPE, 0, 2, SLL_P_802_3), b1)
        return or_(state.cmp(Rel.LINKTYPE, 0, 2, ETHERTYPE_IPX), b1)
    if proto in (ETHERTYPE_ATALK, ETHERTYPE_AARP):
        org = 0x080007 if proto == ETHERTYPE_ATALK else 0x000000
        b1 = and_(is_802_2(), _snap(state, org, proto))
        return or_(state.cmp(Rel.LINKTYPE, 0, 2, proto), b1)
    if proto <= ETHERMTU:
        return and_(is_802_2(), state.cmp(Rel.LLC, 0, 1, proto))
    return state.cmp(Rel.LINKTYPE, 0, 2, proto)


def _llc(state: CodegenState, proto: int) -> Cond:
    if proto in (LLCSAP_ISONS, LLCSAP_IP, LLCSAP_NETBEUI):
        return state.cmp(Rel.LLC, 0, 2, (proto << 8) | proto)
    if proto == LLCSAP_IPX:
        return state.cmp(Rel.LLC, 0, 1, LLCSAP_IPX)
    if proto == ETHERTYPE_ATALK:
        return _snap(state, 0x080007, ETHERTYPE_ATALK)
    if proto <= ETHERMTU:
        return state.cmp(Rel.LLC, 0, 1, proto)
    return state.cmp(Rel.LLC, 6, 2, proto)


def _chdlc(state: CodegenState, proto: int) -> Cond:
    if proto == LLCSAP_ISONS:  # OSI over Cisco HDLC carries the NLPID doubled
        proto = (proto << 8) | proto
    return state.cmp(Rel.LINKTYPE, 0, 2, proto)


def _ppp(state: CodegenState, proto: int) -> Cond:
    return state.cmp(Rel.LINKTYPE, 0, 2, PPP_TYPES.get(proto, proto))


def _ppp_bsdos(state: CodegenState, proto: int) -> Cond:
    if proto == ETHERTYPE_IP:
        b1 = or_(state.cmp(Rel.LINKTYPE, 0, 2, 0x0021), state.cmp(Rel.LINKTYPE, 0, 2, PPP_VJC))
        return or_(b1, state.cmp(Rel.LINKTYPE, 0, 2, PPP_VJNC))
    return _ppp(state, proto)


def _af(proto: int) -> int | None:
    return {ETHERTYPE_IP: AF_INET, ETHERTYPE_IPV6: AF_INET6_LINUX}.get(proto)


def _swap32(value: int) -> int:
    return int.from_bytes(value.to_bytes(4, "little"), "big")


def bsd_af_offline(
    state: CodegenState, rel: Rel, offset: int, size: int, proto: int, swapped: bool
) -> Cond:
    """A savefile's test of a BSD address-family field (libpcap's "offline AF handling").

    The capturing OS is unknown, so IPv6 is any of the three BSD values (tested Darwin's
    first, then NetBSD's and FreeBSD's, as libpcap orders them); ``swapped`` compares
    the word byte-swapped (one-byte fields are never swapped)."""

    def one(value: int) -> Cond:
        return state.cmp(rel, offset, size, _swap32(value) if swapped else value)

    if proto == ETHERTYPE_IP:
        return one(AF_INET)
    if proto == ETHERTYPE_IPV6:
        inet6_bsd, inet6_freebsd, inet6_darwin = BSD_AF_INET6
        return or_(one(inet6_darwin), or_(one(inet6_bsd), one(inet6_freebsd)))
    return false_cond()


def _null_host(state: CodegenState, proto: int) -> Cond:
    if state.savefile is not None:
        # the word is in the capturing host's order, which need not be the file's: test
        # the file's order (relative to ours) first, then the other
        swapped = state.savefile.swapped
        return or_(
            bsd_af_offline(state, Rel.LINKTYPE, 0, 4, proto, swapped),
            bsd_af_offline(state, Rel.LINKTYPE, 0, 4, proto, not swapped),
        )
    af = _af(proto)
    if af is None:
        return false_cond()
    # the 4-byte family is in the capturing host's byte order; pcap_open_dead: ours (LE)
    return state.cmp(Rel.LINKTYPE, 0, 4, _swap32(af))


def _null_net(state: CodegenState, proto: int) -> Cond:
    if state.savefile is not None:  # network byte order whatever the file's
        return bsd_af_offline(state, Rel.LINKTYPE, 0, 4, proto, False)
    af = _af(proto)
    if af is None:
        return false_cond()
    return state.cmp(Rel.LINKTYPE, 0, 4, af)


def _ipnet(state: CodegenState, proto: int) -> Cond:
    af = {ETHERTYPE_IP: IPNET_AF_INET, ETHERTYPE_IPV6: IPNET_AF_INET6}.get(proto)
    if af is None:
        return false_cond()
    return state.cmp(Rel.LINKTYPE, 0, 1, af)


def _raw(state: CodegenState, proto: int) -> Cond:
    version = {ETHERTYPE_IP: 0x40, ETHERTYPE_IPV6: 0x60}.get(proto)
    if version is None:
        return false_cond()
    return state.mcmp(Rel.LINKHDR, 0, 1, version, 0xF0)


def _only(wanted: int) -> Callable[[CodegenState, int], Cond]:
    def gen(state: CodegenState, proto: int) -> Cond:
        return true_cond() if proto == wanted else false_cond()

    return gen


def _ethertype(state: CodegenState, proto: int) -> Cond:
    """A plain EtherType field (Linux cooked v2, IP over FireWire...): the value is compared
    as is, no LLC or Novell special cases (its range is checked by the caller)."""
    return state.cmp(Rel.LINKTYPE, 0, 2, proto)


def _none(state: CodegenState, proto: int) -> Cond:
    raise state.error(messages.no_linktype_filtering(state.link))


#: common framing name (see bpfc.linktypes.FRAMINGS) -> generator of "network protocol
#: is X"; ``dispatch.FRAMINGS`` adds the family modules' framings to these
LINKTYPE_GENERATORS: dict[str, Callable[[CodegenState, int], Cond]] = {
    "ether": _ether,
    "llc": _llc,
    "sll": _sll,
    "sll2": _ethertype,
    "ethertype": _ethertype,
    "chdlc": _chdlc,
    "ppp": _ppp,
    "ppp_bsdos": _ppp_bsdos,
    "null_host": _null_host,
    "null_net": _null_net,
    "ipnet": _ipnet,
    "raw": _raw,
    "ipv4": _only(ETHERTYPE_IP),
    "ipv6": _only(ETHERTYPE_IPV6),
    "none": _none,
}


def gen_linktype(state: CodegenState, proto: int) -> Cond:
    """True when the link layer says the payload is protocol ``proto`` (ethertype/SAP)."""
    hook = state.extra.get("linktype_hook")
    if hook is not None:  # encapsulations (mpls, pppoe...) redirect the test
        return hook(state, proto)
    generator = state.framings.get(state.link.framing, _none)
    return generator(state, proto)


# -- MAC addresses -----------------------------------------------------------------------

#: MAC layout -> (source offset, destination offset) in the link header
MAC_LAYOUTS: dict[str, tuple[int | None, int | None]] = {
    "ether": (6, 0),
    "fddi": (7, 1),
    "tr": (8, 2),
    "ipfc": (10, 2),
    "sll": (6, None),
}

#: MAC layouts with both addresses, where ``gateway`` makes sense (``lane``: SunATM's
#: LAN emulation, Ethernet behind the LE header)
GATEWAY_MACS = ("ether", "fddi", "tr", "ipfc", "wlan", "lane")

#: MAC layouts whose address position depends on the frame (802.11, LANE, Geneve) are
#: in ``state.mac_hosts`` (``dispatch.MAC_HOSTS``): layout -> (host(state, mac,
#: direction), broadcast(state), multicast(state)) generators

DIR_SRC, DIR_DST, DIR_OR, DIR_AND = "src", "dst", "src or dst", "src and dst"


def _mac_layout(state: CodegenState, what: str) -> tuple[int | None, int | None]:
    layout = state.link.mac
    if layout is None or layout not in MAC_LAYOUTS:
        raise state.error(
            f"{what} supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel"
        )
    return MAC_LAYOUTS[layout]


def check_mac48_link(state: CodegenState, spelled: str) -> None:
    """Refuse a 48-bit MAC address test on a link type without 48-bit MAC addresses."""
    if state.link.mac not in state.mac_hosts and state.link.mac not in GATEWAY_MACS:
        raise state.error(messages.not_supported_on(f"link host {spelled}", state.link))


def gen_mac_host(
    state: CodegenState, mac: bytes, direction: str, spelled: str = "XX:XX:XX:XX:XX:XX"
) -> Cond:
    """``ether [src|dst] host MAC`` for the link type's MAC layout (``spelled``: how the
    id was written, ``NAME`` or ``XX:XX:...``, for libpcap's error message)."""
    if state.link.mac in state.mac_hosts:
        return state.mac_hosts[state.link.mac][0](state, mac, direction)
    check_mac48_link(state, spelled)
    src_off, dst_off = _mac_layout(state, "ethernet addresses")

    def one(off: int | None, name: str) -> Cond:
        if off is None:
            raise state.error(messages.not_supported_on(name, state.link))
        return state.bcmp(Rel.LINKHDR, off, mac)

    if direction == DIR_SRC:
        return one(src_off, "src")
    if direction == DIR_DST:
        return one(dst_off, "dst")
    if direction == DIR_AND:
        return and_(one(src_off, "src"), one(dst_off, "dst"))
    if direction == DIR_OR:
        return or_(one(src_off, "src"), one(dst_off, "dst"))
    raise state.error(f"'{direction}' is not a valid qualifier for 'ether host'")


def gen_link_broadcast(state: CodegenState) -> Cond:
    if state.link.mac in state.mac_hosts:
        return state.mac_hosts[state.link.mac][1](state)
    if state.link.mac not in GATEWAY_MACS:
        raise state.error(messages.not_supported_on("broadcast", state.link))
    return gen_mac_host(state, b"\xff" * 6, DIR_DST)


def gen_link_multicast(state: CodegenState) -> Cond:
    if state.link.mac in state.mac_hosts:
        return state.mac_hosts[state.link.mac][2](state)
    if state.link.mac not in GATEWAY_MACS:
        raise state.error(messages.not_supported_on("multicast", state.link))
    _, dst_off = _mac_layout(state, "multicast")
    if dst_off is None:
        raise state.error(messages.not_supported_on("multicast", state.link))
    return state.ncmp(Rel.LINKHDR, dst_off, 1, 0xFFFFFFFF, JmpOp.JSET, False, 1)


#: the 802.11 direction qualifiers, refused by every non-802.11 address test
WLAN_DIRS = ("addr1", "addr2", "addr3", "addr4", "ra", "ta")


def mac_direction(direction: str) -> str:
    """A MAC test's direction: ``default`` is "either"."""
    return DIR_OR if direction == "default" else direction


def assert_nonwlan_dqual(
    state: CodegenState, direction: str | None, span: Any, undefined: bool = False
) -> None:
    """The 802.11 direction qualifiers (``addr1``... ``ra``, ``ta``) only make sense on
    802.11 addresses; every non-802.11 address test refuses them first thing (and an
    undefined direction, in libpcap's placeholder words)."""
    if undefined:
        direction = "<invalid dir 255>"
    if direction in WLAN_DIRS or undefined:
        raise state.error(f"'{direction}' is valid for 802.11 syntax only", span)


def gen_mac48_host(
    state: CodegenState, mac: bytes, direction: str | None, spelled: str, span: Any
) -> Cond:
    """A 48-bit MAC address test: the link type must have such addresses, then (except on
    802.11, whose layout judges the 802.11 directions itself) the direction."""
    if state.link.mac != "wlan":
        check_mac48_link(state, spelled)
        assert_nonwlan_dqual(state, direction, span)
    return gen_mac_host(state, mac, mac_direction(direction or "default"), spelled)
