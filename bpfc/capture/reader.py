"""Open any capture file: sniff the format from its first bytes and return the right reader.

Both readers share one surface: ``path``, ``format`` (``"pcap"``/``"pcapng"``),
``linktype`` (the first interface's), ``linktypes`` (interface -> link type),
``snaplen``, ``nsec``, ``buffer`` (the mapping), what ``pcap_compile`` would be given for
the file (``dlt``: the first interface's link type as a DLT, ``compile_snaplen``,
``byte_order``: the header's, ``"little"``/``"big"``), iteration yielding
:class:`~bpfc.capture.common.Packet`, ``chunks(size)`` for the batch engine (numpy), and
``close()`` / context management.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bpfc.capture.common import CaptureError
from bpfc.capture.pcap import PcapReader, sniff_pcap
from bpfc.capture.pcapng import PcapngReader, sniff_pcapng

Reader = PcapReader | PcapngReader


def open_capture(path: str | Path) -> Reader:
    """Map ``path`` and return a pcap or pcapng reader for it.

    ``-`` reads standard input (a pipe cannot be mapped, so it is read into memory first).
    Raises :class:`CaptureError` (naming the file) for an empty file, an unknown magic
    number or a bad file/section header, and ``OSError`` when the file cannot be opened.
    """
    name = str(path)
    data = None
    if name == "-":
        data = sys.stdin.buffer.read()
        head = data[:4]
    else:
        with open(name, "rb") as handle:
            head = handle.read(4)
    if not head:
        raise CaptureError("empty file, not a capture", name)
    if sniff_pcapng(head):
        return PcapngReader(name, data)
    if sniff_pcap(head) is not None:
        return PcapReader(name, data)
    raise CaptureError(
        f"unknown file format (magic 0x{head.hex()}): not a pcap or pcapng file", name, 0
    )


def read_packets(path: str | Path) -> list[tuple[int, int, int, int, int, bytes]]:
    """All packets of a file as plain tuples with copied bytes (for tests and small files)."""
    with open_capture(path) as reader:
        return [
            (p.ts_ns, p.caplen, p.wirelen, p.linktype, p.interface, bytes(p.data)) for p in reader
        ]
