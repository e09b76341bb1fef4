"""DNS as tcpdump prints it without ``-v``: header flags, counts, questions, answers.

A query prints ``ID[op][+][%] [counts] TYPE? NAME. (LENGTH)``, a response
``ID[op][rcode][*][-][|][$] AN/NS/AR ANSWER, ANSWER (LENGTH)``.  Names are printed
label by label with tcpdump's escapes for unprintable bytes; compression pointers must
point backwards.  Answers of the common types print their data (A, AAAA, NS, CNAME,
PTR, DNAME, MX, SRV, TXT, OPT without options); other types print only their name, as
tcpdump does.  Bit-string labels, A6, URI, TSIG and EDNS options are not copied: the
line is marked inexact.
"""

from __future__ import annotations

from bpfc.decode.common import Out, Truncated, ip4, ip6, need, u16

OPS = ("", " inv_q", " stat", " op3", " notify", " update", " op6", " op7", " op8")
OPS += (" updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit", " zoneRef")
RCODES = ("", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain")
RCODES += (" YXRRSet", " NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13")
RCODES += (" Resp14", " NoChange", " BadVers")
#: the record types tcpdump 4.99.3 names (found by asking it about all 65,536); the rest
#: print as ``TypeN``
TYPES = dict(
    enumerate(
        "A NS MD MF CNAME SOA MB MG MR NULL WKS PTR HINFO MINFO MX TXT RP AFSDB X25 ISDN RT"
        " NSAP NSAP_PTR SIG KEY PX GPOS AAAA LOC NXT EID NIMLOC SRV ATMA NAPTR KX CERT A6"
        " DNAME SINK OPT APL DS SSHFP IPSECKEY RRSIG NSEC DNSKEY".split(),
        start=1,
    )
)
TYPES |= dict(enumerate("SPF UINFO UID GID UNSPEC UNSPECA".split(), start=99))
TYPES |= dict(enumerate("TKEY TSIG IXFR AXFR MAILB MAILA ANY URI".split(), start=249))
CLASSES = {1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"}
T_OPT = 41
MAXCDNAME = 255


class _Bad(Exception):
    """tcpdump's printer returned NULL: the line ends with ``[|domain]``."""


def _type(kind: int) -> str:
    return TYPES.get(kind, f"Type{kind}")


def _char(c: int) -> str:
    """tcpdump's ``fn_print_char``: ``M-`` for the high bit, ``^`` for control bytes."""
    text = ""
    if c >= 0x80:
        c &= 0x7F
        text = "M-"
    if not 0x20 <= c <= 0x7E:
        c ^= 0x40
        text += "^"
    return text + chr(c)


def _printn(out: Out, data: memoryview, start: int, count: int) -> None:
    """``nd_printn``: ``count`` bytes escaped; stops (and fails) at the capture's end."""
    end = min(start + count, len(data))
    out.add("".join(_char(c) for c in data[start:end]))
    if end < start + count:
        raise _Bad


def _nskip(data: memoryview, cp: int) -> int | None:
    """Skip a name as tcpdump's ``ns_nskip`` does; None where it gives up."""
    if cp >= len(data):
        return None
    i = data[cp]
    cp += 1
    while i:
        kind = i & 0xC0
        if kind == 0xC0:
            return cp + 1
        if kind == 0x40:
            if i & 0x3F != 1 or cp >= len(data):
                return None
            bits = data[cp] or 256
            cp += 1 + (bits + 7) // 8
        elif kind == 0x80:
            return None
        else:
            cp += i
        if cp >= len(data):
            return None
        i = data[cp]
        cp += 1
    return cp


def _fqdn(out: Out, data: memoryview, cp: int) -> int:
    """Print a name (``fqdn_print``); return the offset after it in the record."""
    if cp >= len(data):
        raise _Bad
    i = data[cp]
    if i & 0xC0 in (0x40, 0x80):  # bit-string labels and reserved types: not copied
        out.exact = False
        raise _Bad
    length = i
    max_offset = cp
    cp += 1
    compress = (i & 0xC0) == 0xC0
    rp = 0 if compress else cp + length
    if i == 0:
        out.add(".")
        return rp
    chars = 0
    while i and cp < len(data):
        if i & 0xC0 == 0xC0:
            if not compress:
                rp = cp + 1
                compress = True
            if cp >= len(data):
                raise _Bad
            offset = ((i << 8) | data[cp]) & 0x3FFF
            if offset >= max_offset:
                out.add("<BAD PTR>")
                raise _Bad
            max_offset = offset
            cp = offset
            if cp >= len(data):
                raise _Bad
            i = data[cp]
            if i & 0xC0 in (0x40, 0x80):
                out.exact = False
                raise _Bad
            length = i
            cp += 1
            continue
        if chars + length <= MAXCDNAME:
            _printn(out, data, cp, length)
        else:
            out.exact = False  # tcpdump cuts overlong names: not copied
            raise _Bad
        chars += length
        cp += length
        out.add(".")
        chars += 1
        if cp >= len(data):
            raise _Bad
        i = data[cp]
        if i & 0xC0 in (0x40, 0x80):
            out.exact = False
            raise _Bad
        length = i
        cp += 1
        if not compress:
            rp += length + 1
    return rp


def _question(out: Out, data: memoryview, cp: int, mdns: bool) -> int:
    """``TYPE[ CLASS][ (QU|QM)]? NAME``; return the offset after the question."""
    end = _nskip(data, cp)
    if end is None or end + 4 > len(data):
        raise _Bad
    out.add(f" {_type(u16(data, end))}")
    raw = u16(data, end + 2)
    klass = raw & ~0x8000 if mdns else raw
    if klass != 1:
        out.add(f" {CLASSES.get(klass, f'(Class {klass})')}")
    if mdns:
        out.add(" (QU)" if raw & 0x8000 else " (QM)")
    out.add("? ")
    rp = _fqdn(out, data, cp)
    return rp + 4


def _answer(out: Out, data: memoryview, cp: int, mdns: bool) -> int:
    """One resource record as ``ns_rprint`` prints it without -v."""
    end = _nskip(data, cp)
    if end is None or end + 10 > len(data):
        return len(data)
    kind, raw = u16(data, end), u16(data, end + 2)
    klass = raw & ~0x8000 if mdns else raw
    if klass != 1 and kind != T_OPT:
        out.add(f" {CLASSES.get(klass, f'(Class {klass})')}")
    if mdns and raw & 0x8000:
        out.add(" (Cache flush)")
    flags = u16(data, end + 6)
    size = u16(data, end + 8)
    cp = end + 10
    out.add(f" {_type(kind)}")
    if cp + size > len(data):
        raise _Bad
    rp = cp + size
    if kind == 1:
        out.add(f" {ip4(data, cp)}" if cp + 4 <= len(data) else "")
        if cp + 4 > len(data):
            raise _Bad
    elif kind in (2, 5, 12, 39):
        out.add(" ")
        _fqdn(out, data, cp)
    elif kind == 15:
        out.add(" ")
        if cp + 2 > len(data):
            raise _Bad
        _fqdn(out, data, cp + 2)
        out.add(f" {u16(data, cp)}")
    elif kind == 16:
        while cp < rp:
            out.add(' "')
            count = data[cp]
            _printn(out, data, cp + 1, count)
            cp += 1 + count
            out.add('"')
    elif kind == 33:
        out.add(" ")
        if cp + 6 > len(data):
            raise _Bad
        _fqdn(out, data, cp + 6)
        out.add(f":{u16(data, cp + 4)} {u16(data, cp)} {u16(data, cp + 2)}")
    elif kind == 28:
        if cp + 16 > len(data):
            raise _Bad
        out.add(f" {ip6(data, cp)}")
    elif kind == T_OPT:
        out.add(f" UDPsize={klass}" + (" DO" if flags & 0x8000 else ""))
        if cp < rp:
            out.exact = False  # EDNS options: not copied
            raise _Bad
    elif kind in (38, 250, 256):  # A6, TSIG, URI
        out.exact = False
        raise _Bad
    return rp


def _rcode(data: memoryview, flags: int, counts: tuple[int, int, int, int]) -> int:
    """The response code, extended by an OPT record's high bits (tcpdump's pre-scan)."""
    rcode = flags & 0xF
    qd, an, ns, ar = counts
    cp: int | None = 12
    for _ in range(qd):
        cp = _nskip(data, cp)
        if cp is None:
            return rcode
        cp += 4
        if cp >= len(data):
            return rcode
    for _ in range(an + ns):
        cp = _nskip(data, cp)
        if cp is None:
            return rcode
        cp += 8
        if cp + 2 > len(data):
            return rcode
        cp += 2 + u16(data, cp)
        if cp >= len(data):
            return rcode
    for _ in range(ar):
        cp = _nskip(data, cp)
        if cp is None or cp + 2 > len(data):
            return rcode
        kind = u16(data, cp)
        cp += 4
        if cp + 1 > len(data):
            return rcode
        if kind == T_OPT:
            return rcode | data[cp] << 4
        cp += 4
        if cp + 2 > len(data):
            return rcode
        cp += 2 + u16(data, cp)
        if cp >= len(data):
            return rcode
    return rcode


def dns_print(out: Out, data: memoryview, length: int, *, tcp: bool, mdns: bool) -> None:
    """The DNS message in ``data`` (a TCP segment's payload carries a length prefix)."""
    out.proto = "domain"
    if tcp:
        if length < 2:
            out.add(f" [DNS over TCP: length {length} < 2] (invalid)")
            return
        length -= 2
        need(data, 2, "domain")
        if u16(data, 0) != length:
            out.add(f" [prefix length({u16(data, 0)}) != length({length})] (invalid)")
            return
        data = data[2:]
        out.add(" ")
    if length < 12:
        out.add(f"domain [length {length} < 12] (invalid)")
        return
    need(data, 12, "domain")
    ident, flags = u16(data, 0), u16(data, 2)
    counts = qd, an, ns, ar = u16(data, 4), u16(data, 6), u16(data, 8), u16(data, 10)
    opcode = (flags >> 11) & 0xF
    try:
        if flags & 0x8000:
            rcode = _rcode(data, flags, counts)
            text = RCODES[rcode] if rcode < len(RCODES) else f" Resp{rcode & 0xFFF}"
            out.add(f"{ident}{OPS[opcode]}{text}")
            out.add(("*" if flags & 0x0400 else "") + ("" if flags & 0x0080 else "-"))
            out.add(("|" if flags & 0x0200 else "") + ("$" if flags & 0x0020 else ""))
            if qd != 1:
                out.add(f" [{qd}q]")
            cp: int | None = 12
            for i in range(qd):
                if i:
                    out.add(",")
                cp = _nskip(data, cp)
                if cp is None:
                    raise _Bad
                cp += 4
            out.add(f" {an}/{ns}/{ar}")
            if an:
                cp = _answer(out, data, cp, mdns)
                an -= 1
                while cp < len(data) and an:
                    out.add(",")
                    cp = _answer(out, data, cp, mdns)
                    an -= 1
            if an:
                raise _Bad
        else:
            out.add(f"{ident}{OPS[opcode]}" + ("+" if flags & 0x0100 else ""))
            out.add("%" if flags & 0x0010 else "")
            if flags & 0x6CF:
                out.add(f" [b2&3=0x{flags:x}]")
            if opcode == 1:
                out.add(f" [{qd}q]" if qd else "")
                out.add(f" [{an}a]" if an != 1 else "")
            else:
                out.add(f" [{an}a]" if an else "")
                out.add(f" [{qd}q]" if qd != 1 else "")
            out.add(f" [{ns}n]" if ns else "")
            out.add(f" [{ar}au]" if ar else "")
            cp = 12
            if qd:
                cp = _question(out, data, cp, mdns)
                qd -= 1
                while cp < len(data) and qd:
                    cp = _question(out, data, cp, mdns)
                    qd -= 1
            if qd:
                raise _Bad
    except _Bad:
        raise Truncated("domain") from None
    out.add(f" ({length})")
