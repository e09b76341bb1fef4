"""``pcap_compile`` with libpcap's arguments, for code written against libpcap.

Programs that call libpcap through ctypes or a binding (scapy, pcapy, pypcap) compile
with ``pcap_open_dead(dlt, snaplen)`` then ``pcap_compile(p, &fp, expr, optimize,
netmask)``: a DLT *number*, a host-order netmask where ``0xffffffff``
(``PCAP_NETMASK_UNKNOWN``) means "none", and an ``int`` optimize flag.  :func:`pcap_compile`
takes exactly those, so such code can switch to bpfc by changing one call; the result is a
:class:`~bpfc.program.Program`, whose :meth:`~bpfc.program.Program.bpf_program` is the
``struct bpf_program`` libpcap would have filled.

>>> prog = pcap_compile("udp port 53", 1, snaplen=65535)
>>> prog.bpf_program().bf_len == len(prog), prog[-1]
(True, Insn(code=6, jt=0, jf=0, k=65535))
"""

from __future__ import annotations

from typing import Any

from bpfc.argcheck import check_int
from bpfc.compiler import compile as _compile
from bpfc.program import Program

PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
"""libpcap's "no netmask" value: ``ip broadcast`` is then refused, as libpcap refuses it."""

DLT_RAW_ALT = 101
"""``LINKTYPE_RAW``: a capture file's number for raw IP, which libpcap maps to ``DLT_RAW``."""

DLT_RAW = 12
"""``DLT_RAW`` everywhere but OpenBSD (libpcap's ``linktype_to_dlt`` target for 101)."""


def pcap_compile(
    expr: str,
    dlt: int,
    optimize: Any = 1,
    netmask: int = PCAP_NETMASK_UNKNOWN,
    *,
    snaplen: int = 262144,
    linux: bool = False,
) -> Program:
    """``pcap_compile(pcap_open_dead(dlt, snaplen), &fp, expr, optimize, netmask)``.

    ``dlt`` is a DLT number (``LINKTYPE_RAW``, 101, is taken as ``DLT_RAW`` like libpcap's
    ``linktype_to_dlt``); ``optimize`` is true or false in C's sense (an ``int``);
    ``netmask`` is host-order, ``0xffffffff`` for unknown.  ``linux=True`` compiles as for
    a live Linux socket (``pcap_open_live``) instead.  Errors are
    :class:`bpfc.CompileError` (libpcap's ``pcap_geterr`` text as its message).
    """
    if isinstance(dlt, bool) or not isinstance(dlt, int):
        raise TypeError(f"dlt must be an int (a DLT number), not {type(dlt).__name__}")
    check_int("netmask", netmask, 0, 0xFFFFFFFF)
    if isinstance(optimize, bool):
        optimize = int(optimize)
    check_int("optimize", optimize, -(2**31), 2**31 - 1)
    return _compile(
        expr,
        linktype=DLT_RAW if dlt == DLT_RAW_ALT else dlt,
        snaplen=snaplen,
        optimize=bool(optimize),
        netmask=None if netmask == PCAP_NETMASK_UNKNOWN else netmask,
        linux=linux,
    )
