"""What every layer printer shares: the output being built, truncation, address text.

A printer appends text pieces to an :class:`Out` and hands the rest of the packet to the
next layer.  Two things end a line early, as in tcpdump:

* :class:`Truncated`: the capture stops inside a header.  The top level appends
  tcpdump's ``" [|proto]"`` marker, with the protocol being decoded at that moment.
* a printer that reaches something it does not model (an application protocol tcpdump
  decodes, an IPv6 extension header, an unusual ICMP type...) prints a short generic
  form and clears :attr:`Out.exact`: the line is still useful, but it is not claimed to
  be byte-for-byte what tcpdump prints.  The tests compare only exact lines.

Packets are read through the reader's ``memoryview`` with :func:`struct.unpack_from`
and small slices: nothing is copied except the bytes that become text.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping

U16 = struct.Struct(">H")
U32 = struct.Struct(">I")


class Truncated(Exception):
    """The captured bytes end inside a header: tcpdump prints ``" [|proto]"``."""

    def __init__(self, proto: str) -> None:
        super().__init__(proto)
        self.proto = proto
        #: printed after the marker (tcpdump's TCP option printer adds ``>``)
        self.suffix = ""


#: a layer printer: ``(out, data, length)``
Printer = Callable[["Out", memoryview, int], None]


class Out:
    """The text of one line under construction, and whether it is claimed tcpdump-exact.

    ``payloads`` maps an EtherType to the printer of a packet of that type: tunnels
    (GRE, MPLS) print what they carry through it, so that :mod:`bpfc.decode.tunnel`
    need not import the IP and link printers that import it (GRE carries IP, which
    carries GRE).  The caller builds the line with :data:`bpfc.decode.link.PAYLOADS`.
    """

    __slots__ = ("add", "exact", "parts", "payloads", "proto", "tcp_state")

    def __init__(self, tcp_state: dict, payloads: Mapping[int, Printer]) -> None:
        self.parts: list[str] = []
        #: append a piece of text (the list's own method: this is the hot path)
        self.add = self.parts.append
        self.exact = True
        self.proto = ""
        self.tcp_state = tcp_state
        self.payloads = payloads

    def inexact(self, text: str = "") -> None:
        """Print ``text`` as the generic form of something tcpdump decodes further."""
        self.exact = False
        if text:
            self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


def need(data: memoryview, end: int, proto: str) -> None:
    """Raise :class:`Truncated` for ``proto`` unless ``data`` holds ``end`` bytes."""
    if len(data) < end:
        raise Truncated(proto)


def u16(data: memoryview, offset: int) -> int:
    return data[offset] << 8 | data[offset + 1]


def u32(data: memoryview, offset: int) -> int:
    return U32.unpack_from(data, offset)[0]


def ip4(data: memoryview, offset: int) -> str:
    a, b, c, d = data[offset : offset + 4]
    return f"{a}.{b}.{c}.{d}"


def ip6(data: memoryview, offset: int) -> str:
    """IPv6 text as tcpdump's ``addrtostr6`` prints it: the longest run (two or more) of
    zero groups becomes ``::`` (the first of equal runs), and ``::a.b.c.d`` /
    ``::ffff:a.b.c.d`` keep their embedded IPv4 address dotted."""
    words = struct.unpack_from(">8H", data, offset)
    best_base, best_len, base = -1, 0, -1
    for i, word in enumerate(words):
        if word == 0:
            if base < 0:
                base = i
            if i - base + 1 > best_len:
                best_base, best_len = base, i - base + 1
        else:
            base = -1
    if best_len < 2:
        best_base = -1
    out: list[str] = []
    i = 0
    while i < 8:
        if i == best_base:
            out.append(":" if i == 0 else "")
            i += best_len
            if i == 8:
                out.append("")
            continue
        if i == 6 and best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
            out.append(ip4(data, offset + 12))
            break
        out.append(f"{words[i]:x}")
        i += 1
    return ":".join(out)


def mac(data: memoryview, offset: int, size: int = 6) -> str:
    return ":".join(f"{b:02x}" for b in data[offset : offset + size])
