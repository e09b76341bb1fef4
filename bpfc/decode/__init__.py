"""One line per packet, the way ``tcpdump -n -r FILE`` prints it.

:class:`Summarizer` turns a :class:`~bpfc.capture.common.Packet` into tcpdump's default
one-line decode: local time ``HH:MM:SS.ffffff``, then the protocol stack (Ethernet,
Linux cooked v1/v2, BSD/OpenBSD loopback and raw IP link layers; VLAN tags and MPLS;
ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6, IGMP, VRRP, GRE; DNS, BOOTP, NTP and the first
lines of HTTP, SMTP, FTP, WHOIS and SSH).  Addresses and ports are numeric (``-n``):
bpfc never looks names up.  One summarizer per capture run: TCP's relative sequence
numbers depend on the packets seen before.

The modules follow the layers: :mod:`~bpfc.decode.link` (link layers, ARP),
:mod:`~bpfc.decode.ip` (IPv4, IPv6), :mod:`~bpfc.decode.icmp` (ICMP, ICMPv6, IGMP,
VRRP), :mod:`~bpfc.decode.tunnel` (GRE, MPLS), :mod:`~bpfc.decode.transport` (TCP,
UDP, BOOTP, NTP), :mod:`~bpfc.decode.dns` and :mod:`~bpfc.decode.text` (HTTP and the
other text protocols).

Beyond that set the line is a short generic form (see ``docs/capture.md``), and
:attr:`Line.exact` is False: the tests compare exact lines with tcpdump's.
"""

from __future__ import annotations

import functools
import struct
import time
from typing import NamedTuple

from bpfc.capture.common import Packet
from bpfc.decode.common import Out, Truncated
from bpfc.decode.link import PAYLOADS, PRINTERS

__all__ = ["Line", "Summarizer", "link_name", "timestamp"]


class Line(NamedTuple):
    """One printed line (without newline) and whether it claims to be tcpdump's."""

    text: str
    exact: bool


def timestamp(ts_ns: int) -> str:
    """``HH:MM:SS.ffffff`` in local time, microseconds truncated as libpcap does."""
    sec, frac = divmod(ts_ns, 1_000_000_000)
    return _clock(sec, time.tzname) + f".{frac // 1000:06d}"


@functools.lru_cache(maxsize=4)
def _clock(sec: int, _zone: tuple[str, str]) -> str:
    """One second's ``HH:MM:SS`` (cached: consecutive packets share their second; the
    zone is part of the key so that ``time.tzset()`` takes effect)."""
    return time.strftime("%H:%M:%S", time.localtime(sec))


def link_name(linktype: int) -> str:
    """The link type's name for the generic line (``LINKTYPE_N`` when unknown)."""
    from bpfc import linktypes
    from bpfc.linktypes.dltmap import linktype_to_dlt

    try:
        return linktypes.lookup(linktype_to_dlt(linktype)).name
    except ValueError:
        return f"LINKTYPE_{linktype}"


class Summarizer:
    """Prints packets of one capture run (holds the TCP conversation table)."""

    def __init__(self, *, strict: bool = False) -> None:
        self.tcp_state: dict = {}
        #: let a decoding bug raise instead of printing a ``[|proto]`` line (for tests)
        self.strict = strict

    def body(self, packet: Packet) -> Line:
        """The decode after the timestamp."""
        out = Out(self.tcp_state, PAYLOADS)
        printer = PRINTERS.get(packet.linktype)
        data = packet.data
        if packet.caplen < len(data):
            data = data[: packet.caplen]
        if printer is None:
            return Line(f"{link_name(packet.linktype)}, length {packet.wirelen}", False)
        try:
            printer(out, data, packet.wirelen)
        except Truncated as trunc:
            out.add(f" [|{trunc.proto}]{trunc.suffix}")
        except (struct.error, IndexError, ValueError):  # a length we did not check
            if self.strict:
                raise
            out.inexact(f" [|{out.proto or 'packet'}]")
        return Line(out.text(), out.exact)

    def line(self, packet: Packet) -> Line:
        """The whole line: timestamp, a space, the decode."""
        body = self.body(packet)
        return Line(f"{timestamp(packet.ts_ns)} {body.text}", body.exact)
