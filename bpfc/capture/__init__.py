"""Capture files, zero-copy buffers, live capture and the batch filter engine.

Packets are never copied on their way to a filter: files are mapped and read in place
(:mod:`~bpfc.capture.pcap`, :mod:`~bpfc.capture.pcapng`), the FreeBSD-style buffer pair
(:mod:`~bpfc.capture.zbuf`) hands whole buffers between producer and consumer, and live
capture (:mod:`~bpfc.capture.live`) reads a TPACKET_V3 ring where the kernel wrote it.
:mod:`~bpfc.capture.batch` runs one program over a whole chunk of packets with numpy.
"""

from __future__ import annotations

from bpfc.capture.common import CaptureError, Packet
from bpfc.capture.reader import open_capture, read_packets
from bpfc.capture.writer import CaptureWriter

__all__ = ["CaptureError", "CaptureWriter", "Packet", "open_capture", "read_packets"]
