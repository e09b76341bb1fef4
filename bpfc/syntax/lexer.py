"""The scanner: pcap-filter text to tokens, with flex's longest-match rule.

libpcap's scanner is a flex specification, so a word's token type is decided by *longest
match, earliest rule on ties*: ``ip6`` is a keyword but ``ip6x`` a name, ``10.1`` an address
but ``10.1.`` a name, ``1-1024`` a name (a port range), ``001122334455`` a MAC address,
``0x1g`` a name while ``08`` is a number with a bad octal digit.  Lark's regex lexers pick
the first alternative that matches, not the longest, so bpfc scans by hand.  The
observation that keeps this simple: every keyword and named constant is also matched by the
generic name pattern, so a word is a keyword exactly when the longest name match *is* the
keyword.

Tokens are :class:`bpfc.syntax.lalr.Token` objects whose ``type`` is a terminal declared
in ``grammar/pcap_filter.lark``.  A character no rule accepts becomes a ``LEX_ERROR`` token
(the parser then reports a syntax error there, as libpcap does); numbers that overflow or
have bad digits and malformed addresses raise :class:`~bpfc.errors.CompileError` with
libpcap's wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bpfc.errors import CompileError
from bpfc.syntax.lalr import Token

KEYWORDS: dict[str, str] = {
    "dst": "DST", "src": "SRC",
    "link": "LINK", "ether": "LINK", "ppp": "LINK", "slip": "LINK",
    "fddi": "LINK", "tr": "LINK", "wlan": "LINK",
    "arp": "ARP", "rarp": "RARP", "ip": "IP", "sctp": "SCTP", "tcp": "TCP", "udp": "UDP",
    "icmp": "ICMP", "igmp": "IGMP", "igrp": "IGRP", "pim": "PIM", "vrrp": "VRRP",
    "carp": "CARP", "radio": "RADIO", "ip6": "IPV6", "icmp6": "ICMPV6", "ah": "AH",
    "esp": "ESP", "atalk": "ATALK", "aarp": "AARP", "decnet": "DECNET", "lat": "LAT",
    "sca": "SCA", "moprc": "MOPRC", "mopdl": "MOPDL", "iso": "ISO", "esis": "ESIS",
    "es-is": "ESIS", "isis": "ISIS", "is-is": "ISIS", "l1": "L1", "l2": "L2", "iih": "IIH",
    "lsp": "LSP", "snp": "SNP", "csnp": "CSNP", "psnp": "PSNP", "clnp": "CLNP", "stp": "STP",
    "ipx": "IPX", "netbeui": "NETBEUI",
    "host": "HOST", "net": "NET", "mask": "NETMASK", "port": "PORT",
    "portrange": "PORTRANGE", "proto": "PROTO", "protochain": "PROTOCHAIN",
    "gateway": "GATEWAY",
    "type": "TYPE", "subtype": "SUBTYPE", "direction": "DIR", "dir": "DIR",
    "address1": "ADDR1", "addr1": "ADDR1", "address2": "ADDR2", "addr2": "ADDR2",
    "address3": "ADDR3", "addr3": "ADDR3", "address4": "ADDR4", "addr4": "ADDR4",
    "ra": "RA", "ta": "TA",
    "less": "LESS", "greater": "GREATER", "byte": "CBYTE", "broadcast": "TK_BROADCAST",
    "multicast": "TK_MULTICAST",
    "and": "AND", "or": "OR", "not": "NOT",
    "len": "LEN", "length": "LEN", "inbound": "INBOUND", "outbound": "OUTBOUND",
    "ifindex": "IFINDEX",
    "vlan": "VLAN", "mpls": "MPLS", "pppoed": "PPPOED", "pppoes": "PPPOES",
    "geneve": "GENEVE", "vxlan": "VXLAN",
    "lane": "LANE", "llc": "LLC", "metac": "METAC", "bcc": "BCC", "oam": "OAM",
    "oamf4": "OAMF4", "oamf4ec": "OAMF4EC", "oamf4sc": "OAMF4SC", "sc": "SC",
    "ilmic": "ILMIC", "vpi": "VPI", "vci": "VCI", "connectmsg": "CONNECTMSG",
    "metaconnect": "METACONNECT",
    "on": "PF_IFNAME", "ifname": "PF_IFNAME", "rset": "PF_RSET", "ruleset": "PF_RSET",
    "rnr": "PF_RNR", "rulenum": "PF_RNR", "srnr": "PF_SRNR", "subrulenum": "PF_SRNR",
    "reason": "PF_REASON", "action": "PF_ACTION",
    "fisu": "FISU", "lssu": "LSSU", "lsu": "LSSU", "msu": "MSU", "hfisu": "HFISU",
    "hlssu": "HLSSU", "hmsu": "HMSU", "sio": "SIO", "opc": "OPC", "dpc": "DPC", "sls": "SLS",
    "hsio": "HSIO", "hopc": "HOPC", "hdpc": "HDPC", "hsls": "HSLS",
}  # fmt: skip
"""Every reserved word and the terminal it becomes (keywords are case-sensitive)."""

PUNCT: dict[str, str] = {
    ">=": "GEQ", "<=": "LEQ", "!=": "NEQ", "==": "EQ", "<<": "LSH", ">>": "RSH",
    "&&": "AND", "||": "OR",
    "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "%": "PERCENT", ":": "COLON",
    "[": "LSQB", "]": "RSQB", "!": "NOT", "<": "LT", ">": "GT", "(": "LPAR", ")": "RPAR",
    "&": "AMP", "|": "VBAR", "^": "CARET", "=": "EQ",
}  # fmt: skip

_N = r"(?:0[xX][0-9A-Fa-f]+|[0-9]+)"
_B = r"[0-9A-Fa-f]{1,2}"
_B2 = r"[0-9A-Fa-f]{4}"
_W = r"[0-9A-Fa-f]{1,4}"


class _LazyPattern:
    """A regular expression compiled on first use: most filters need only the word rule
    (``_ALNUM_RUN_RE``), and compiling the address patterns cost ~1 ms of every start-up."""

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source)
        return self._compiled

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled().match(text, pos)


_ID_RE = _LazyPattern(r"[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?")
_NUM_RE = _LazyPattern(_N)
_HID_RE = _LazyPattern(rf"{_N}\.{_N}(?:\.{_N}(?:\.{_N})?)?")
_MAC_RE = _LazyPattern(
    rf"{_B}:{_B}:{_B}:{_B}:{_B}:{_B}|{_B}-{_B}-{_B}-{_B}-{_B}-{_B}"
    rf"|{_B}\.{_B}\.{_B}\.{_B}\.{_B}\.{_B}|{_B2}\.{_B2}\.{_B2}|[0-9A-Fa-f]{{12}}"
)
_BOGUS_MAC_RE = _LazyPattern(rf"(?:{_B}:+){{2,}}")
_AID_RE = _LazyPattern(rf"\$({_B})")
_ESCAPED_RE = _LazyPattern(r"\\([^ !()\n\t]+)")
_V6_CHARS_RE = _LazyPattern(r"[0-9A-Fa-fxX:.]+")


def _v6_pattern() -> re.Pattern[str]:
    """flex's V6 set: 8 groups, or 0-7 groups around one ``::``, optionally ending in an
    embedded dotted quad that replaces the last two groups."""
    alts = []
    v4 = rf"{_N}\.{_N}\.{_N}\.{_N}"
    for tail_v4, total in ((False, 8), (True, 6)):
        end = v4 if tail_v4 else None
        full = ":".join([_W] * total)
        alts.append(f"{full}:{end}" if end else full)
        for n in range(total):  # n groups in all, split around "::"
            for left in range(n + 1):
                right = n - left
                lhs = ":".join([_W] * left)
                rhs = ":".join([_W] * right)
                if end:
                    rhs = f"{rhs}:{end}" if rhs else end
                alts.append(f"{lhs}::{rhs}")
    return re.compile("|".join(f"(?:{a})" for a in alts))


_v6_re: re.Pattern[str] | None = None  # compiled on first use: a big pattern, rarely needed

NAMED_NUMBERS: dict[str, int] = {
    "icmptype": 0, "icmpcode": 1,
    "icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
    "icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
    "icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
    "icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
    "icmp6type": 0, "icmp6code": 1,
    "icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
    "icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
    "icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
    "icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
    "icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136,
    "icmp6-redirect": 137, "icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139,
    "icmp6-nodeinformationresponse": 140, "icmp6-ineighbordiscoverysolicit": 141,
    "icmp6-ineighbordiscoveryadvert": 142, "icmp6-multicastlistenerreportv2": 143,
    "icmp6-homeagentdiscoveryrequest": 144, "icmp6-homeagentdiscoveryreply": 145,
    "icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
    "icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
    "icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
    "icmp6-multicastrouterterm": 153,
    "tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
    "tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}  # fmt: skip
"""Words the scanner turns into numbers (offsets and values for ``icmp[]``/``tcp[]``)."""

_WHITESPACE = " \r\n\t"
_DIGITS = frozenset("0123456789")
_JOINERS = frozenset(":.-_")
_ALNUM_RUN_RE = re.compile(r"[A-Za-z0-9]+")
_LIMIT = 0xFFFFFFFF


def number_value(text: str, expr: str | None = None, start: int = 0) -> int:
    """The value of a NUM token's text (decimal, ``0x`` hex, ``0`` octal, named constant);
    raises :class:`CompileError` with libpcap's wording on bad digits or overflow."""
    if text in NAMED_NUMBERS:
        return NAMED_NUMBERS[text]
    span = (start, start + len(text))
    if text[:2] in ("0x", "0X"):
        kind, value = "hexadecimal", int(text[2:], 16)
    elif text.startswith("0") and len(text) > 1:
        # digit by digit, as libpcap does: whichever of a bad digit and overflow comes first
        kind, value = "octal", 0
        for digit in text[1:]:
            if digit in "89":
                raise CompileError(f"number {text} contains non-octal digit", expr, span)
            value = value * 8 + int(digit)
            if value > _LIMIT:
                break
    else:
        kind, value = "decimal", int(text)
    if value > _LIMIT:
        raise CompileError(f"{kind} number {text} overflows 32 bits", expr, span)
    return value


def ether_octets(text: str) -> bytes:
    """The 6 bytes of a MAC address token (any of the scanner's spellings)."""
    if ":" in text or "-" in text or text.count(".") == 5:
        parts = re.split(r"[:.-]", text)
        return bytes(int(p, 16) for p in parts)
    digits = text.replace(".", "")
    return bytes.fromhex(digits)


def _match_len(pattern: _LazyPattern, text: str, pos: int) -> int:
    m = pattern.match(text, pos)
    return m.end() - pos if m else 0


def _v6_len(text: str, pos: int) -> int:
    """Longest prefix at ``pos`` in the V6 set (Python's alternation is first-match, so try
    the candidate ends from the longest down)."""
    run = _V6_CHARS_RE.match(text, pos)
    if not run or ":" not in run.group():
        return 0
    global _v6_re
    if _v6_re is None:
        _v6_re = _v6_pattern()
    end = min(run.end(), pos + 128)
    for stop in range(end, pos + 1, -1):
        if _v6_re.fullmatch(text, pos, stop):
            return stop - pos
    return 0


def _token(kind: str, text: str, start: int, end: int) -> Token:
    return Token(kind, text, start, end)


def tokenize(expr: str) -> Iterator[Token]:
    """Yield the tokens of ``expr`` lazily (errors surface in parse order, as in libpcap)."""
    pos, size = 0, len(expr)
    while pos < size:
        ch = expr[pos]
        if ch in _WHITESPACE:
            pos += 1
            continue
        two = expr[pos : pos + 2]
        if ch == ":" and (length := _v6_len(expr, pos)):
            yield _ipv6_token(expr, pos, length)
            pos += length
        elif len(two) == 2 and two in PUNCT:
            yield _token(PUNCT[two], two, pos, pos + 2)
            pos += 2
        elif ch in PUNCT:
            yield _token(PUNCT[ch], ch, pos, pos + 1)
            pos += 1
        elif ch == "$":
            length = _match_len(_AID_RE, expr, pos)
            kind = "AID" if length else "LEX_ERROR"
            length = length or 1
            yield _token(kind, expr[pos : pos + length], pos, pos + length)
            pos += length
        elif ch == "\\":
            m = _ESCAPED_RE.match(expr, pos)
            if m is None:
                yield _token("LEX_ERROR", ch, pos, pos + 1)
                pos += 1
            else:
                yield _token("ID", m.group(1), pos, m.end())
                pos = m.end()
        elif ch.isascii() and ch.isalnum():
            tok = _scan_word(expr, pos)
            yield tok
            pos = tok.end_pos
        else:
            yield _token("LEX_ERROR", ch, pos, pos + 1)
            pos += 1


def _scan_word(expr: str, pos: int) -> Token:
    """The longest of the address, number and name rules at ``pos`` (earliest on ties)."""
    run = _ALNUM_RUN_RE.match(expr, pos)
    assert run is not None
    word, end = run.group(), run.end()
    if expr[end : end + 1] not in _JOINERS and len(word) != 12:
        # No separator follows and not 12 characters long: no address form can match,
        # so this is a number (all digits) or a name/keyword (anything else).
        if word.isdigit():
            number_value(word, expr, pos)
            return _token("NUM", word, pos, end)
        if word[0] not in _DIGITS:
            kind = KEYWORDS.get(word, "NUM" if word in NAMED_NUMBERS else "ID")
            return _token(kind, word, pos, end)
    candidates = (
        ("EID", _match_len(_MAC_RE, expr, pos)),
        ("NUM", _match_len(_NUM_RE, expr, pos)),
        ("HID", _match_len(_HID_RE, expr, pos)),
        ("HID6", _v6_len(expr, pos)),
        ("BOGUS_EID", _match_len(_BOGUS_MAC_RE, expr, pos)),
        ("ID", _match_len(_ID_RE, expr, pos)),
    )
    kind, length = candidates[0]
    for cand_kind, cand_len in candidates[1:]:
        if cand_len > length:
            kind, length = cand_kind, cand_len
    end = pos + length
    text = expr[pos:end]
    if kind == "ID":
        if text in KEYWORDS:
            kind = KEYWORDS[text]
        elif text in NAMED_NUMBERS:
            kind = "NUM"
    if kind == "NUM":
        number_value(text, expr, pos)  # validate now: the error names this token
    elif kind == "HID6":
        return _ipv6_token(expr, pos, length)
    elif kind == "BOGUS_EID":
        raise CompileError(f"invalid Ethernet address {text}", expr, (pos, end))
    return _token(kind, text, pos, end)


def _ipv6_token(expr: str, pos: int, length: int) -> Token:
    import ipaddress

    text = expr[pos : pos + length]
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        raise CompileError(f"invalid IPv6 address {text}", expr, (pos, pos + length)) from None
    return _token("HID6", text, pos, pos + length)
