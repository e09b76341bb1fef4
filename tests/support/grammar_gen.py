"""A seeded generator of pcap-filter expressions over the whole grammar, legal and not.

The front-end differential (tests/differential/test_front_end.py and
tools/front_end_differential.py) compiles what this draws with bpfc and with libpcap
master and compares accept/reject, the whole error message and, where both compile, the
verdicts.  So the generator aims at the *edges* of the language rather than at useful
filters: every production of ``grammar/pcap_filter.lark``; every protocol x direction x
address-type qualifier combination, the ones libpcap refuses included; 802.11 ``addr1-4``/
``ra``/``ta``; the keyword primitives (``vlan``/``mpls``/``pppoes``/``geneve``/``vxlan``/
``batadv``, ``llc``, pflog, 802.11 ``type``/``subtype``/``dir``, ATM, MTP2/MTP3); arithmetic
relations with every operator and ``proto[expr:size]`` loads; numbers at, just past and far
past each limit, in decimal, hex and octal (bad digits too); names that resolve and names
that do not (hosts from the system's own hosts file, which both compilers read, services,
protocols, LLC and 802.11 names); joined by and/or/not and parentheses, including the
"implicit qualifier" continuation (``host a or b``) and parenthesised id lists.

Everything is drawn from one :class:`random.Random`, so ``Generator(seed)`` yields the
same cases on every machine with the same hosts file.  :meth:`Generator.case` returns the
expression, a link type and the name of the production that made its first primitive (the
tool's category column).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# ------------------------------------------------------------------ vocabularies

PNAMES = (
    "link", "ether", "ppp", "slip", "fddi", "tr", "wlan", "ip", "arp", "rarp", "sctp", "tcp",
    "udp", "icmp", "igmp", "igrp", "pim", "vrrp", "carp", "atalk", "aarp", "decnet", "lat",
    "sca", "mopdl", "moprc", "ip6", "icmp6", "ah", "esp", "iso", "esis", "es-is", "isis",
    "is-is", "l1", "l2", "iih", "lsp", "snp", "psnp", "csnp", "clnp", "stp", "ipx", "netbeui",
    "radio",
)  # fmt: skip
"""Every protocol qualifier spelling (the grammar's ``pname``)."""

DQUALS = (
    "src", "dst", "src or dst", "dst or src", "src and dst", "dst and src",
    "addr1", "addr2", "addr3", "addr4", "address1", "address2", "address3", "address4", "ra",
    "ta",
)  # fmt: skip
AQUALS = ("host", "net", "port", "portrange")
SENSIBLE = {
    "host": ("", "", "ip", "ip6", "arp", "rarp", "ether", "decnet"),
    "net": ("", "", "ip", "ip6", "arp", "rarp"),
    "port": ("", "", "tcp", "udp", "sctp"),
    "portrange": ("", "", "tcp", "udp", "sctp"),
}
"""Protocol qualifiers each address type takes (the rest are for the refusals)."""
RELOPS = (">", ">=", "=", "==", "<=", "<", "!=")
BINOPS = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>")
BYTEOPS = ("&", "|", "<", ">", "=")
LOAD_SIZES = ("1", "2", "4", "1", "2", "4", "1", "2", "4", "3", "0", "8")
LOAD_PROTOS = (
    "ether", "link", "ppp", "fddi", "tr", "wlan", "slip", "radio", "ip", "ip6", "arp", "rarp",
    "tcp", "udp", "icmp", "icmp6", "igmp", "igrp", "pim", "vrrp", "carp", "sctp", "atalk",
    "decnet", "lat", "iso", "clnp", "ah", "esp",
)  # fmt: skip
NAMED_OFFSETS = ("icmptype", "icmpcode", "icmp6type", "icmp6code", "tcpflags")
NAMED_VALUES = (
    "icmp-echo", "icmp-echoreply", "icmp-unreach", "icmp-maskreply", "icmp6-echo",
    "icmp6-routeradvert", "tcp-syn", "tcp-ack", "tcp-fin", "tcp-cwr",
)  # fmt: skip
SERVICES = ("http", "domain", "ssh", "ftp-data", "https", "ntp", "bootps", "telnet", "sunrpc",
            "nosuchservice", "smtp", "www")  # fmt: skip
PORTRANGES = ("1-1024", "http-https", "20-ftp", "domain-80", "1024-1", "0-65535",
              "65535-65536", "80-80", "nosuch-90", "1--2", "x-y")  # fmt: skip
IP_PROTO_NAMES = ("tcp", "udp", "icmp", "igmp", "gre", "esp", "ah", "sctp", "pim", "vrrp",
                  "ospf", "ipv6-icmp", "nosuchproto", "TCP", "ip")  # fmt: skip
ETHER_PROTO_NAMES = ("ip", "ip6", "arp", "rarp", "atalk", "aarp", "decnet", "lat", "sca",
                     "mopdl", "moprc", "lldp", "loopback", "iso", "stp", "ipx", "netbeui",
                     "slow", "nosuchproto")  # fmt: skip
MASKS = ("255.255.0.0", "255.0.0.0", "255.255.255.255", "0.0.0.0", "255.0.255.0", "255.255")
BATADV_TYPES = ("0", "1", "2", "3", "4", "64", "255", "256", "iv_ogm", "unicast", "bcast",
                "elp", "bogus")  # fmt: skip
UNKNOWN_HOSTS = ("nosuch.invalid", "bogus-host.invalid")
WLAN_TYPES = ("data", "mgt", "management", "ctl", "control", "bogus")
WLAN_SUBTYPES = ("beacon", "probe-req", "assocresp", "ack", "rts", "cts", "qos-data", "data",
                 "null", "ps-poll", "bogus", "deauth", "qos")  # fmt: skip
WLAN_DIRS = ("nods", "tods", "fromds", "dstods", "bogus")
LLC_KINDS = ("i", "s", "u", "rr", "rnr", "rej", "ui", "ua", "disc", "dm", "sabme", "test",
             "xid", "frmr", "bogus")  # fmt: skip
PF_REASONS = ("match", "bad-offset", "fragment", "short", "memory", "bogus")
PF_ACTIONS = ("pass", "accept", "drop", "block", "scrub", "nat", "rdr", "bogus")
ATM_TYPES = ("lane", "metac", "bcc", "oamf4ec", "oamf4sc", "sc", "ilmic")
ATM_MULTI = ("oam", "oamf4", "connectmsg", "metaconnect")
ATM_FIELDS = ("vpi", "vci")
MTP2_TYPES = ("fisu", "lssu", "lsu", "msu", "hfisu", "hlssu", "hmsu")
MTP3_FIELDS = ("sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls")

# Limits libpcap checks, each drawn at, just past and well past the edge.
LIMITS = (
    0, 1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1500, 1501, 4095, 4096, 32767,
    65535, 65536, 1048575, 1048576, 16777215, 16777216, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
)  # fmt: skip
OVERFLOWS = ("4294967296", "99999999999", "0x100000000", "0xFFFFFFFFF", "040000000000")
BAD_OCTALS = ("08", "0789", "09")

# ------------------------------------------------------------------ link types

AFFINITY: dict[str, tuple[str, ...]] = {
    "pflog": ("PFLOG",),
    "atm": ("SUNATM",),
    "mtp": ("MTP2", "MTP2_WITH_PHDR", "MTP3", "SCCP"),
    "wlan_type": ("IEEE802_11", "IEEE802_11_RADIO", "PRISM_HEADER", "IEEE802_11_RADIO_AVS",
                  "PPI"),
    "llc": ("EN10MB", "IEEE802", "FDDI", "IEEE802_11", "SUNATM", "LINUX_SLL"),
    "direction": ("LINUX_SLL", "LINUX_SLL2", "SLIP", "PPP_PPPD", "IPNET", "PFLOG",
                  "JUNIPER_ETHER", "DSA_TAG_BRCM"),
    "ifindex": ("LINUX_SLL2",),
    "encap": ("EN10MB", "LINUX_SLL", "PPP", "C_HDLC"),
}  # fmt: skip
"""Link types on which a production means something: drawn for it half the time."""

COMMON_LINKTYPES = (
    "EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW", "IPV4", "IPV6", "NULL", "LOOP", "ENC", "PPP",
    "PPP_SERIAL", "PPP_ETHER", "PPP_BSDOS", "PPP_PPPD", "C_HDLC", "SLIP", "SLIP_BSDOS", "FDDI",
    "IEEE802", "IP_OVER_FC", "IPNET", "IEEE802_11", "IEEE802_11_RADIO", "PRISM_HEADER",
    "IEEE802_11_RADIO_AVS", "PPI", "ARCNET", "ARCNET_LINUX", "SUNATM", "PFLOG", "MTP2",
    "MTP2_WITH_PHDR", "MTP3", "SCCP", "NFLOG", "JUNIPER_ETHER", "DSA_TAG_BRCM",
    "LINUX_IRDA", "MPLS", "FRELAY", "USB_LINUX", "CAN_SOCKETCAN", "ERF",
)  # fmt: skip
"""The link types with real header models (and a few without), drawn 70% of the time."""


def bpfc_linktype_names() -> list[str]:
    """Every link-type name bpfc resolves (its table, the name-only DLTs and the rows
    that code-generation modules register), aliases excluded."""
    import bpfc.codegen.dispatch  # noqa: F401  (registers the link types modules add)
    from bpfc import linktypes

    names = {row.name for row in (*linktypes.LINKTYPES, *linktypes.REGISTERED)}
    names |= set(linktypes.OTHER_DLTS)
    return sorted(names)


def shared_linktypes(known: Callable[[str], bool]) -> list[str]:
    """bpfc's link-type names that the reference library also knows (``known(name)``)."""
    return [name for name in bpfc_linktype_names() if known(name)]


def system_host_names(path: Path = Path("/etc/hosts"), limit: int = 6) -> list[str]:
    """Up to ``limit`` names from the hosts file: both compilers resolve these the same."""
    names: list[str] = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return names
    for line in lines:
        words = line.split("#", 1)[0].split()
        for word in words[1:]:
            if word not in names and len(names) < limit:
                names.append(word)
    return names


# ------------------------------------------------------------------ the generator


@dataclass(frozen=True)
class Case:
    """One expression on one link type; ``production`` names what made its first primitive."""

    expr: str
    linktype: str
    production: str


class Generator:
    """Random pcap-filter expressions from a seed; see the module docstring."""

    def __init__(
        self,
        seed: int = 0,
        linktypes: Sequence[str] = COMMON_LINKTYPES,
        hosts: Sequence[str] | None = None,
        max_depth: int = 3,
        names: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.linktypes = list(linktypes)
        self.common = [lt for lt in COMMON_LINKTYPES if lt in set(self.linktypes)]
        pools = dict(names or {})
        default_hosts = system_host_names() if hosts is None else hosts
        self.hosts = list(pools.get("hosts", default_hosts)) + list(pools.get("ethers", ()))
        self.ethers = list(pools.get("ethers", ())) or self.hosts
        self.networks = list(pools.get("networks", ())) or self.hosts
        self.unknown = list(pools.get("unknown", ())) or list(UNKNOWN_HOSTS)
        self.max_depth = max_depth
        self._first = ""
        self.primitives: list[tuple[str, Callable[[], str], int]] = [
            ("qualified", self.qualified, 30),
            ("proto_abbrev", self.proto_abbrev, 6),
            ("relation", self.relation, 12),
            ("broadcast", self.broadcast, 3),
            ("multicast", self.multicast, 3),
            ("less_greater", self.less_greater, 2),
            ("byte_op", self.byte_op, 2),
            ("direction", self.direction, 3),
            ("ifindex", self.ifindex, 2),
            ("encap", self.encap, 8),
            ("batadv", self.batadv, 2),
            ("pflog", self.pflog, 3),
            ("wlan_type", self.wlan_type, 4),
            ("llc", self.llc, 3),
            ("atm", self.atm, 3),
            ("mtp", self.mtp, 3),
            ("proto_chain", self.proto_chain, 5),
            ("gateway", self.gateway, 1),
        ]
        self._weights = [w for _, _, w in self.primitives]

    # -------------------------------------------------------------- top level

    def case(self) -> Case:
        """One expression and a link type (a common one 70% of the time, else any)."""
        r = self.rng
        pool = self.common if self.common and r.random() < 0.7 else self.linktypes
        linktype = r.choice(pool)
        self._first = ""
        expr = self.expression()
        suited = [lt for lt in AFFINITY.get(self._first, ()) if lt in self.linktypes]
        if suited and r.random() < 0.5:
            linktype = r.choice(suited)
        return Case(expr, linktype, self._first or "empty")

    def cases(self, n: int) -> Iterator[Case]:
        for _ in range(n):
            yield self.case()

    def expression(self, depth: int = 0) -> str:
        """``expr``: terms joined by and/or (&&, ||), with ids standing for a repeated
        qualifier now and then; empty once in a long while."""
        r = self.rng
        if depth == 0 and r.random() < 0.003:
            self._first = "empty"
            return r.choice(("", " ", "\t"))
        parts = [self.term(depth)]
        joins = 0 if depth >= self.max_depth else r.choice((0, 0, 0, 0, 1, 1, 2, 3))
        for _ in range(joins):
            op = r.choice(("and", "or", "and", "or", "&&", "||"))
            if r.random() < 0.15:
                parts.append(f"{op} {self.id_value(r.choice(AQUALS))}")
            else:
                parts.append(f"{op} {self.term(depth + 1)}")
        return " ".join(parts)

    def term(self, depth: int) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.12:
            return f"{r.choice(('not', '!', 'not'))} {self.term(depth + 1)}"
        if roll < 0.2 and depth < self.max_depth:
            return f"({self.expression(depth + 1)})"
        name, make, _ = r.choices(self.primitives, self._weights)[0]
        if not self._first:
            self._first = name
        return make()

    # -------------------------------------------------------------- numbers

    def number(self, near: Sequence[int] = LIMITS) -> str:
        """A NUM token: near a limit, in decimal, hex or octal; or overflowing; or bad."""
        r = self.rng
        roll = r.random()
        if roll < 0.04:
            return r.choice(OVERFLOWS)
        if roll < 0.06:
            return r.choice(BAD_OCTALS)
        value = r.choice(near)
        if r.random() < 0.2:
            value = max(0, value + r.choice((-1, 1)))
        value = min(value, 0xFFFFFFFF)
        form = r.random()
        if form < 0.15:
            return hex(value) if r.random() < 0.5 else f"0X{value:X}"
        if form < 0.22 and value:
            return f"0{value:o}"
        return str(value)

    def small(self, limit: int) -> str:
        """A number around ``limit`` (the field's maximum) or a small one."""
        return self.number((0, 1, 2, 3, limit - 1, limit, limit + 1, *LIMITS[:6]))

    # -------------------------------------------------------------- ids

    def ipv4(self) -> str:
        r = self.rng
        octets = [r.choice((0, 1, 10, 127, 192, 224, 255, 256, 168, 2)) for _ in range(4)]
        n = r.choice((4, 4, 4, 3, 2, 1)) if r.random() < 0.3 else 4
        return ".".join(str(o) for o in octets[:n])

    def ipv6(self) -> str:
        return self.rng.choice(
            ("::1", "fe80::1", "2001:db8::2", "ff02::1", "::", "::ffff:10.1.2.3",
             "1:2:3:4:5:6:7:8", "2001:db8::", "fe80::1:2:3:4:5:6:7", "1::2::3")
        )  # fmt: skip

    def mac(self) -> str:
        return self.rng.choice(
            ("ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "0:1:2:3:4:5", "00-11-22-33-44-55",
             "0011.2233.4455", "001122334455", "00.11.22.33.44.55", "aa:bb:cc:dd:ee")
        )  # fmt: skip

    def host_name(self) -> str:
        return self._name(self.hosts)

    def net_name(self) -> str:
        return self._name(self.networks)

    def ether_name(self) -> str:
        return self._name(self.ethers)

    def _name(self, pool: Sequence[str]) -> str:
        """A name from ``pool`` (they resolve) 60% of the time, else one that does not."""
        r = self.rng
        if pool and r.random() < 0.6:
            return r.choice(pool)
        return r.choice(self.unknown)

    def id_value(self, aqual: str | None) -> str:
        """An id (the grammar's ``id``/``nid``/``pnum``) that suits ``aqual`` most of the
        time and could be anything the rest."""
        r = self.rng
        if r.random() < 0.25:
            aqual = r.choice((None, "host", "net", "port", "portrange", "proto"))
        roll = r.random()
        if roll < 0.05:
            return f"not {self.id_value(aqual)}"
        if roll < 0.1:
            joiner = r.choice(("or", "and", "||"))
            items = [self.id_value(aqual) for _ in range(r.choice((2, 2, 3)))]
            return "(" + f" {joiner} ".join(items) + ")"
        if roll < 0.13:
            return f"({self.number()})"
        if aqual == "host":
            return r.choice((self.ipv4, self.ipv6, self.mac, self.host_name, self.host_name,
                             self.arcnet, self.number))()  # fmt: skip
        if aqual == "net":
            return r.choice((self.net_v4, self.net_v4, self.net_v6, self.ipv4, self.number,
                             self.net_name, self.host_name))()  # fmt: skip
        if aqual == "port":
            return r.choice((lambda: self.small(65535), lambda: r.choice(SERVICES),
                             lambda: r.choice(PORTRANGES)))()  # fmt: skip
        if aqual == "portrange":
            return r.choice((lambda: r.choice(PORTRANGES), lambda: r.choice(SERVICES),
                             lambda: self.small(65535)))()  # fmt: skip
        if aqual == "proto":
            return self.proto_value()
        return r.choice((self.ipv4, self.mac, self.host_name, self.number, self.net_v4))()

    def net_v4(self) -> str:
        r = self.rng
        if r.random() < 0.5:
            return f"{self.ipv4()}/{r.choice((0, 8, 16, 24, 32, 33, 12, 31))}"
        return f"{self.ipv4()} mask {r.choice(MASKS)}"

    def net_v6(self) -> str:
        return f"{self.ipv6()}/{self.rng.choice((0, 16, 64, 128, 129, 127))}"

    def arcnet(self) -> str:
        return self.rng.choice(("$0", "$ff", "$1a", "$100"))

    def proto_value(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.45:
            return self.small(255)
        if roll < 0.75:
            name = r.choice(IP_PROTO_NAMES + ETHER_PROTO_NAMES)
            # keywords must be escaped to be names; an unescaped one is a syntax error
            return f"\\{name}" if r.random() < 0.8 else name
        return self.number((0, 1, 6, 17, 0x800, 0x86DD, 1500, 1501, 65535, 65536))

    # -------------------------------------------------------------- primitives

    def qualified(self) -> str:
        """``head id``: [pname] [dqual] [aqual] id, in every combination (half the time a
        combination libpcap accepts, so that programs get compared too)."""
        r = self.rng
        if r.random() < 0.5:
            aqual = r.choice(AQUALS)
            pname = r.choice(SENSIBLE[aqual])
            dqual = r.choice(("", "", "src", "dst", "src or dst", "src and dst"))
            head = " ".join(x for x in (pname, dqual, aqual) if x)
            return f"{head} {self.id_value(aqual)}"
        pname = r.choice(PNAMES) if r.random() < 0.6 else ""
        dqual = r.choice(DQUALS) if r.random() < 0.5 else ""
        aqual = r.choice(AQUALS) if (r.random() < 0.75 or not dqual) else ""
        if not dqual and not aqual:
            aqual = r.choice(AQUALS)
        head = " ".join(x for x in (pname, dqual, aqual) if x)
        return f"{head} {self.id_value(aqual or 'host')}"

    def proto_chain(self) -> str:
        r = self.rng
        pname = r.choice(PNAMES) if r.random() < 0.7 else ""
        kw = r.choice(("proto", "protochain", "proto"))
        return " ".join(x for x in (pname, kw, self.proto_value()) if x)

    def gateway(self) -> str:
        r = self.rng
        pname = r.choice(("", "", "ip", "ether", "tcp"))
        name = self.ether_name() if r.random() < 0.5 else self.host_name()
        return " ".join(x for x in (pname, "gateway", name) if x)

    def proto_abbrev(self) -> str:
        return self.rng.choice(PNAMES)

    def broadcast(self) -> str:
        r = self.rng
        return f"{r.choice(PNAMES)} broadcast" if r.random() < 0.6 else "broadcast"

    def multicast(self) -> str:
        r = self.rng
        return f"{r.choice(PNAMES)} multicast" if r.random() < 0.6 else "multicast"

    def less_greater(self) -> str:
        return f"{self.rng.choice(('less', 'greater'))} {self.number()}"

    def byte_op(self) -> str:
        return f"byte {self.small(64)} {self.rng.choice(BYTEOPS)} {self.small(255)}"

    def direction(self) -> str:
        return self.rng.choice(("inbound", "outbound"))

    def ifindex(self) -> str:
        return f"ifindex {self.number()}"

    def encap(self) -> str:
        r = self.rng
        kw, limit = r.choice(
            (("vlan", 4095), ("mpls", 1048575), ("pppoes", 65535), ("geneve", 16777215),
             ("vxlan", 16777215), ("pppoed", 0))
        )  # fmt: skip
        if kw == "pppoed" or r.random() < 0.35:
            return kw
        value = self.small(limit)
        if r.random() < 0.1:
            value = f"({value})"
        return f"{kw} {value}"

    def batadv(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.25:
            return "batadv"
        version = r.choice(("14", "15", "0", "16", "1", "4294967295"))
        if roll < 0.5:
            return f"batadv {version}"
        return f"batadv {version} {r.choice(BATADV_TYPES)}"

    def pflog(self) -> str:
        r = self.rng
        kw = r.choice(("on", "ifname", "rset", "ruleset", "rnr", "rulenum", "srnr",
                       "subrulenum", "reason", "action"))  # fmt: skip
        if kw in ("on", "ifname", "rset", "ruleset"):
            return f"{kw} {r.choice(('eth0', 'lo', 'x' * 17, 'pflog0', 'foo-bar'))}"
        if kw == "reason":
            return f"reason {r.choice(PF_REASONS) if r.random() < 0.6 else self.small(255)}"
        if kw == "action":
            return f"action {r.choice(PF_ACTIONS)}"
        return f"{kw} {self.number()}"

    def wlan_type(self) -> str:
        r = self.rng
        pname = r.choice(("", "", "wlan", "link", "ip")) + " "
        kind = r.choice(("type", "type_sub", "subtype", "dir", "direction"))
        if kind == "type":
            return f"{pname}type {self.wlan_type_value()}".strip()
        if kind == "type_sub":
            sub = r.choice(WLAN_SUBTYPES) if r.random() < 0.7 else self.small(15)
            return f"{pname}type {self.wlan_type_value()} subtype {sub}".strip()
        if kind == "subtype":
            return f"{pname}subtype {r.choice(WLAN_SUBTYPES)}".strip()
        value = r.choice(WLAN_DIRS) if r.random() < 0.6 else self.small(3)
        return f"{pname}{kind} {value}".strip()

    def wlan_type_value(self) -> str:
        r = self.rng
        return r.choice(WLAN_TYPES) if r.random() < 0.7 else self.small(3)

    def llc(self) -> str:
        r = self.rng
        return "llc" if r.random() < 0.3 else f"llc {r.choice(LLC_KINDS)}"

    def atm(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.3:
            return r.choice(ATM_TYPES)
        if roll < 0.5:
            return r.choice(ATM_MULTI)
        return f"{r.choice(ATM_FIELDS)} {self.field_value(65535)}"

    def mtp(self) -> str:
        r = self.rng
        if r.random() < 0.35:
            return r.choice(MTP2_TYPES)
        field = r.choice(MTP3_FIELDS)
        limit = {"sio": 255, "sls": 15, "hsio": 255, "hsls": 15}.get(field, 16383)
        return f"{field} {self.field_value(limit)}"

    def field_value(self, limit: int) -> str:
        """``atmvalue``: NUM, relop NUM or (NUM or NUM ...)."""
        r = self.rng
        roll = r.random()
        if roll < 0.5:
            return self.small(limit)
        if roll < 0.8:
            return f"{r.choice(RELOPS)} {self.small(limit)}"
        return "(" + " or ".join(self.small(limit) for _ in range(r.choice((1, 2, 3)))) + ")"

    # -------------------------------------------------------------- arithmetic

    def relation(self) -> str:
        """``arth relop arth``."""
        return f"{self.arith(0)} {self.rng.choice(RELOPS)} {self.arith(0)}"

    def arith(self, depth: int) -> str:
        r = self.rng
        roll = r.random()
        if depth >= 3 or roll < 0.3:
            return self.arith_leaf()
        if roll < 0.75:
            return f"{self.arith(depth + 1)} {r.choice(BINOPS)} {self.arith(depth + 1)}"
        if roll < 0.85:
            return f"-{self.arith(depth + 1)}"
        if roll < 0.95:
            return f"({self.arith(depth + 1)})"
        return self.load(depth + 1)

    def arith_leaf(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.35:
            return self.number((0, 1, 2, 4, 12, 13, 14, 255, 256, 65535, 0x7FFFFFFF, 0xFFFFFFFF))
        if roll < 0.45:
            return r.choice(("len", "length"))
        if roll < 0.5:
            return r.choice(NAMED_VALUES)
        return self.load(1)

    def load(self, depth: int) -> str:
        """``pname[arth]`` or ``pname[arth:size]``."""
        r = self.rng
        proto = r.choice(LOAD_PROTOS)
        if r.random() < 0.15:
            index = r.choice(NAMED_OFFSETS)
        elif depth < 3 and r.random() < 0.2:
            index = self.arith(depth + 1)
        else:
            index = self.number((0, 1, 2, 6, 12, 13, 14, 20, 40, 255, 65535, 0xFFFFFFFF))
        if r.random() < 0.6:
            return f"{proto}[{index}:{r.choice(LOAD_SIZES)}]"
        return f"{proto}[{index}]"


def generate(n: int, seed: int, linktypes: Sequence[str] = COMMON_LINKTYPES) -> list[Case]:
    """``n`` cases from ``seed`` (the same list every time)."""
    return list(Generator(seed, linktypes).cases(n))
