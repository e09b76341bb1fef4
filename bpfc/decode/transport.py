"""TCP and UDP as tcpdump prints them: ports, flags, relative sequence numbers, options.

tcpdump prints TCP sequence numbers relative to the first ones it saw on a connection
(without ``-S``): the first segment with ACK set (or any SYN) of a conversation records
the initial numbers, later segments print their difference, in either direction.  A
:class:`~bpfc.decode.common.Out` carries that per-run table (``tcp_state``), so the
same packets print the same lines as tcpdump only when printed in order from the start.

Payloads go to the application printers bpfc copies (DNS and mDNS, HTTP's first line,
NTP), in tcpdump's order of port tests.  On the other ports tcpdump decodes (SNMP, DHCP,
SSH, BGP...) UDP prints the generic ``UDP, length N`` and TCP stops after ``length N``;
both lines are marked inexact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from bpfc.decode.common import Out, Truncated, need, u16, u32
from bpfc.decode.dns import dns_print
from bpfc.decode.text import http_print, ssh_print, telnet_print, txtproto_print

#: UDP ports whose payload tcpdump 4.99.3 (as Debian builds it, without SMB) hands to an
#: application printer: found by sweeping every port with tcpdump; 443 (QUIC) and the
#: AppleTalk-in-UDP ports depend on the payload
UDP_APP_PORTS = frozenset(
    (53, 67, 68, 69, 88, 123, 161, 162, 319, 320, 443, 496, 500, 514, 520, 521, 525, 546)
    + (547, 646, 654, 698, 701, 750, 921, 1589, 1645, 1646, 1700, 1701, 1812, 1813, 1985)
    + (2049, 2103, 2104, 3456, 3503, 3784, 3785, 3799, 4342, 4500, 4567, 4784, 4789, 4790)
    + (5060, 5353, 5359, 6081, 6343, 6635, 6696, 6697, 6784, 7500, 8231, 8472, 8500, 12222)
    + (12223, 17754, 30490, 49152)
    + tuple(range(7000, 7010))
)
TCP_FLAGS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "."), (0x20, "U"))
TCP_FLAGS += ((0x40, "E"), (0x80, "W"))
TCP_OPTION_NAMES = {
    0: "eol",
    1: "nop",
    2: "mss",
    3: "wscale",
    4: "sackOK",
    5: "sack",
    6: "echo",
    7: "echoreply",
    8: "TS",
    11: "cc",
    12: "ccnew",
    13: "",
    19: "md5",
    20: "scps",
    28: "uto",
    29: "tcp-ao",
    30: "mptcp",
    34: "tfo",
    254: "exp",
}
M32 = 0xFFFFFFFF


def _addresses(
    out: Out, net: tuple[int, str, str, int], sport: int, dport: int, proto: int
) -> None:
    version, src, dst, first = net
    if first == proto:
        out.add(f"{src}.{sport} > {dst}.{dport}: ")
    else:
        out.add(f"{sport} > {dport}: ")


def tcp_print(out: Out, data: memoryview, length: int, net: tuple[int, str, str, int]) -> None:
    out.proto = "tcp"
    version, src, dst, first = net
    if len(data) < 4:
        out.add(f"{src} > {dst}:")
        raise Truncated("tcp")
    sport, dport = u16(data, 0), u16(data, 2)
    _addresses(out, net, sport, dport, 6)
    need(data, 20, "tcp")
    hlen = (data[12] >> 4) * 4
    if hlen < 20:
        out.add(f" tcp {length - hlen} [bad hdr length {hlen} - too short, < 20]")
        return
    seq, ack = u32(data, 4), u32(data, 8)
    flags = data[13]
    win, urp = u16(data, 14), u16(data, 18)
    names = "".join(name for bit, name in TCP_FLAGS if flags & bit)
    out.add(f"Flags [{names or 'none'}]")
    rev = False
    thseq = thack = 0
    if flags & 0x10:
        rev = sport > dport or (sport == dport and _raw_gt(src, dst))
        if rev:
            key = (version, dst, src, dport, sport)
        else:
            key = (version, src, dst, sport, dport)
        state = out.tcp_state
        known = state.get(key)
        if known is None or flags & 0x02:
            known = ((ack - 1) & M32, seq) if rev else (seq, (ack - 1) & M32)
            state[key] = known
        else:
            if rev:
                seq, ack = (seq - known[1]) & M32, (ack - known[0]) & M32
            else:
                seq, ack = (seq - known[0]) & M32, (ack - known[1]) & M32
        thseq, thack = known
    if hlen > length:
        out.add(f" [bad hdr length {hlen} - too long, > {length}]")
        return
    length -= hlen
    if length > 0 or flags & 0x07:
        out.add(f", seq {seq}")
        if length > 0:
            out.add(f":{(seq + length) & M32}")
    if flags & 0x10:
        out.add(f", ack {ack}")
    out.add(f", win {win}")
    if flags & 0x20:
        out.add(f", urg {urp}")
    if hlen > 20:
        complete = len(data) >= hlen + length
        if not _options(out, data, hlen, rev, (thseq, thack), complete):
            return
    out.add(f", length {length}")
    if length > 0:
        if len(data) < hlen:
            out.add(f" [remaining caplen({len(data)}) < header length({hlen})]")
            raise Truncated("tcp")
        _tcp_payload(out, data[hlen:], length, sport, dport)


#: TCP ports whose payload tcpdump 4.99.3 decodes (the same sweep as for UDP), in
#: tcpdump's order of tests, with bpfc's printer (None: not copied)
TCP_PRINTERS: tuple[tuple[tuple[int, ...], Callable[[Out, memoryview, int], None] | None], ...]
TCP_PRINTERS = (
    ((23,), telnet_print),
    ((25,), lambda out, data, length: txtproto_print(out, data, length, "smtp")),
    ((43,), lambda out, data, length: txtproto_print(out, data, length, "whois")),
    ((179, 1723, 6379), None),
    ((22,), ssh_print),
    ((10288, 6633, 6653), None),
    ((21,), lambda out, data, length: txtproto_print(out, data, length, "ftp")),
    ((80, 8080), http_print),
    ((554, 8554), None),
    ((53,), lambda out, data, length: dns_print(out, data, length, tcp=True, mdns=False)),
    ((639, 323, 646, 2049), None),
)


def _tcp_payload(out: Out, payload: memoryview, length: int, sport: int, dport: int) -> None:
    """The first application printer whose port either end uses, as tcpdump picks it."""
    for ports, printer in TCP_PRINTERS:
        if sport in ports or dport in ports:
            if printer is None:
                out.exact = False
            else:
                printer(out, payload, length)
            return


def _raw_gt(src: str, dst: str) -> bool:
    """tcpdump orders equal-port conversations by comparing the raw address bytes."""
    import ipaddress

    return ipaddress.ip_address(src).packed > ipaddress.ip_address(dst).packed


def _options(
    out: Out, data: memoryview, hlen: int, rev: bool, initial: tuple[int, int], complete: bool
) -> bool:
    """Print ``, options [...]``; False when tcpdump stops the line there (bad option)."""
    out.add(", options [")
    left = hlen - 20
    cp = 20
    sep = ""
    while left > 0:
        out.add(sep)
        if len(data) <= cp:
            raise Truncated("tcp")
        opt = data[cp]
        cp += 1
        if opt in (0, 1):
            size = 1
        else:
            if len(data) <= cp:
                raise Truncated("tcp")
            size = data[cp]
            cp += 1
            if size < 2 or size > left:
                return _bad_opt(out, sep)
            left -= 1
        left -= 1
        out.add(TCP_OPTION_NAMES.get(opt, f"unknown-{opt}"))
        try:
            span = _Span(data, cp, left, sep, complete)
            datalen = _option(out, span, opt, size, initial[0] if rev else initial[1])
        except _BadOpt:
            return _bad_opt(out, sep)
        cp += datalen
        left -= datalen
        datalen += 1 if opt in (0, 1) else 2
        if datalen != size:
            out.add(f"[len {size}]")
        sep = ","
        if opt == 0:
            break
    out.add("]")
    return True


class _Span(NamedTuple):
    """One option's data: where it starts, how much header is left, the separator."""

    data: memoryview
    cp: int
    left: int
    sep: str
    #: the whole segment was captured (what an MD5 signature check would need)
    complete: bool

    def check(self, n: int) -> None:
        """tcpdump's LENCHECK: ``n`` bytes within the header, and captured."""
        if n > self.left:
            raise _BadOpt
        if len(self.data) < self.cp + n:
            _opt_trunc(self.sep)


def _option(out: Out, span: _Span, opt: int, size: int, base: int) -> int:
    """Print one option's value; return the data length tcpdump accounts for."""
    data, cp = span.data, span.cp
    if opt in (0, 1, 4):
        return 0
    if opt == 2:
        span.check(2)
        out.add(f" {u16(data, cp)}")
        return 2
    if opt == 3:
        span.check(1)
        out.add(f" {data[cp]}")
        return 1
    if opt == 5:
        datalen = size - 2
        if datalen % 8:
            out.add(" invalid sack")
            return datalen
        out.add(f" {datalen // 8} ")
        for i in range(0, datalen, 8):
            span.check(i + 4)
            start = u32(data, cp + i)
            span.check(i + 8)
            end = u32(data, cp + i + 4)
            out.add(f"{{{(start - base) & M32}:{(end - base) & M32}}}")
        return datalen
    if opt in (6, 7, 11, 12, 13):
        span.check(4)
        out.add(f" {u32(data, cp)}")
        return 4
    if opt == 8:
        span.check(8)
        out.add(f" val {u32(data, cp)} ecr {u32(data, cp + 4)}")
        return 8
    if opt == 19:  # tcpdump built with libcrypto (as Debian's is) says why it cannot check
        span.check(16)
        why = "shared secret not supplied with -M" if span.complete else "snaplen too short"
        out.add(f" {why}, can't check - " + bytes(data[cp : cp + 16]).hex())
        return 16
    if opt == 28:
        span.check(2)
        value = u16(data, cp)
        minutes = (value >> 1) * 60 if value & 1 else value >> 1
        out.add(f" 0x{value:x} {minutes}")
        return 2
    datalen = size - 2
    if opt in (20, 29, 30, 34, 254):  # scps, tcp-ao, mptcp, tfo, exp: not copied
        span.check(datalen)
        out.exact = False
        return datalen
    if datalen:
        out.add(" 0x")
    for i in range(datalen):
        span.check(i + 1)
        out.add(f"{data[cp + i]:02x}")
    return datalen


class _BadOpt(Exception):
    pass


def _bad_opt(out: Out, sep: str) -> bool:
    out.add("[bad opt]")
    if sep:
        out.add("]")
    return False


def _opt_trunc(sep: str) -> None:
    """tcpdump's bounds check on option data ends with ``>`` after the first option."""
    exc = Truncated("tcp")
    exc.suffix = ">" if sep else ""
    raise exc


def udp_print(
    out: Out,
    data: memoryview,
    length: int,
    net: tuple[int, str, str, int],
    fragmented: bool,
) -> None:
    out.proto = "udp"
    version, src, dst, first = net
    if len(data) < 4:
        if first == 17:
            out.add(f"{src} > {dst}: ")
        raise Truncated("udp")
    sport, dport = u16(data, 0), u16(data, 2)
    if length < 8:
        _addresses(out, net, sport, dport, 17)
        out.add(f"truncated-udp {length}")
        return
    if len(data) < 6:
        _addresses(out, net, sport, dport, 17)
        raise Truncated("udp")
    ulen = u16(data, 4)
    if ulen == 0 and length > 65535:
        ulen = length
    if ulen < 8:
        _addresses(out, net, sport, dport, 17)
        out.add(f"truncated-udplength {ulen}")
        return
    ulen -= 8
    length -= 8
    if ulen < length:
        length = ulen
    _addresses(out, net, sport, dport, 17)
    if len(data) < 8:
        raise Truncated("udp")
    if 53 in (sport, dport) and 2049 not in (sport, dport):
        dns_print(out, data[8:], length, tcp=False, mdns=False)
        return
    if {67, 68}.intersection((sport, dport)) and not UDP_BEFORE_BOOTP.intersection((sport, dport)):
        _bootp_print(out, data[8:], length)
        return
    other = dport if sport == 5353 else sport
    if 5353 in (sport, dport) and (other == 5353 or other not in UDP_APP_PORTS):
        dns_print(out, data[8:], length, tcp=False, mdns=True)
        return
    if 514 in (sport, dport) and not UDP_BEFORE_SYSLOG.intersection((sport, dport)):
        _syslog_print(out, data[8:], length)
        return
    if 123 in (sport, dport) and not UDP_BEFORE_NTP.intersection((sport, dport)):
        _ntp_print(out, data[8:], length)
        return
    if _app_port(sport, dport, data):
        out.exact = False
    if ulen > length and not fragmented:
        out.add(f"UDP, bad length {ulen} > {length}")
    else:
        out.add(f"UDP, length {ulen}")


#: ports tcpdump 4.99.3's UDP printer tries before BOOTP's (found by a sweep with tcpdump)
UDP_BEFORE_BOOTP = frozenset((69, 525, 2049, 5353))
#: ports tcpdump 4.99.3's UDP printer tries before NTP's (found by a sweep with tcpdump)
UDP_BEFORE_NTP = frozenset((53, 67, 68, 69, 161, 162, 500, 520, 525, 654, 2049, 4500, 5353))
UDP_BEFORE_NTP |= {7500, 8500}
NTP_MODES = (
    "unspecified",
    "symmetric active",
    "symmetric passive",
    "Client",
    "Server",
    "Broadcast",
    "Control Message",
    "Reserved",
)


def _bootp_print(out: Out, data: memoryview, length: int) -> None:
    """BOOTP/DHCP without ``-v``: the operation and, for a request, the client's MAC."""
    out.proto = "bootp"
    need(data, 1, "bootp")
    op = data[0]
    names = {1: "Request", 2: "Reply"}
    out.add(f"BOOTP/DHCP, {names.get(op, f'unknown (0x{op:02x})')}")
    need(data, 3, "bootp")
    if data[1] == 1 and data[2] == 6 and op == 1:
        need(data, 34, "bootp")
        out.add(" from " + ":".join(f"{b:02x}" for b in data[28:34]))
    out.add(f", length {length}")


SYSLOG_FACILITIES = "kernel user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp"
SYSLOG_FACILITIES += " security console cron " + " ".join(f"local{n}" for n in range(8))
SYSLOG_SEVERITIES = "emergency alert critical error warning notice info debug".split()
#: ports tcpdump 4.99.3's UDP printer tries before syslog's (found by a sweep)
UDP_BEFORE_SYSLOG = frozenset(
    (69, 88, 123, 161, 162, 496, 500, 520, 521, 525, 546, 547, 646, 654, 698, 701, 750)
    + (921, 1589, 1645, 1646, 1700, 1701, 1812, 1813, 1985, 2049, 2103, 2104, 3456, 3503)
    + (3784, 3785, 3799, 4500, 4567, 4784, 5060, 5353, 5359, 6343, 6696, 6697, 6784, 7500)
    + (8231, 8500, 12222, 12223, 49152)
    + tuple(range(7000, 7010))
)


def _syslog_print(out: Out, data: memoryview, length: int) -> None:
    """``SYSLOG facility.severity, length: N`` from the ``<PRI>`` prefix."""
    out.proto = "syslog"
    need(data, 1, "syslog")
    if data[0] != 0x3C:  # '<'
        out.add(" (invalid)")
        return
    pri, cp = 0, 1
    while cp <= 3:
        need(data, cp + 1, "syslog")
        if not 0x30 <= data[cp] <= 0x39:
            break
        pri = pri * 10 + data[cp] - 0x30
        cp += 1
    need(data, cp + 1, "syslog")
    if data[cp] != 0x3E:  # '>'
        out.add(" (invalid)")
        return
    names = SYSLOG_FACILITIES.split()
    facility = (pri & 0x3F8) >> 3
    name = names[facility] if facility < len(names) else f"unknown ({facility})"
    out.add(f"SYSLOG {name}.{SYSLOG_SEVERITIES[pri & 7]}, length: {length}")


def _ntp_print(out: Out, data: memoryview, length: int) -> None:
    """NTP without ``-v``: version, mode and length from the first byte."""
    out.proto = "ntp"
    need(data, 1, "ntp")
    out.add(f"NTPv{(data[0] >> 3) & 7}, {NTP_MODES[data[0] & 7]}, length {length}")


def _app_port(sport: int, dport: int, data: memoryview) -> bool:
    if sport in UDP_APP_PORTS or dport in UDP_APP_PORTS:
        return True
    # AppleTalk-in-UDP (kip): ports 200-300 with an LLAP DDP header
    if (200 <= sport <= 300 or 200 <= dport <= 300) and len(data) > 10 and data[10] == 2:
        return True
    return False
