"""Write filtered packets as pcap (default, like ``tcpdump -w``) or pcapng.

:class:`CaptureWriter` hides which format is being written.  A pcap file holds one link
type, so a pcap output refuses a packet of a second link type (ask for pcapng then);
pcapng declares one interface per (link type, source interface).  When the input is a
pcap file in this machine's byte order and the same timestamp precision, runs of whole
records are copied from the input mapping verbatim (:meth:`CaptureWriter.write_raw`):
that is the fast path of ``bpfc filter`` and keeps the output byte-identical.
"""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

from bpfc.capture.common import CaptureError, Packet
from bpfc.capture.pcap import PcapWriter
from bpfc.capture.pcapng import PcapngWriter


class CaptureWriter:
    """One output file: ``start`` it with the first link type, then write packets or runs."""

    def __init__(
        self, path: str, *, pcapng: bool = False, snaplen: int = 262144, nsec: bool = False
    ) -> None:
        self.path = path
        self.pcapng = pcapng
        self.snaplen = snaplen
        self.nsec = nsec
        self._own = path != "-"
        self.out: BinaryIO = open(path, "wb") if self._own else sys.stdout.buffer  # noqa: SIM115
        self._pcap: PcapWriter | None = None
        self._ng: PcapngWriter | None = PcapngWriter(self.out) if pcapng else None

    @property
    def count(self) -> int:
        sink = self._ng or self._pcap
        return sink.count if sink is not None else 0

    def start(self, linktype: int, field: int | None = None) -> None:
        """Write the pcap file header for ``linktype`` (pcapng needs nothing up front).

        ``field`` is the input's whole link-type field, FCS bits included, which tcpdump
        copies into its output header.
        """
        if not self.pcapng and self._pcap is None:
            self._pcap = PcapWriter(self.out, linktype, self.snaplen, nsec=self.nsec, field=field)

    def raw_compatible(self, reader: Any) -> bool:
        """True when ``reader``'s records can be copied into this output byte for byte."""
        return (
            not self.pcapng
            and getattr(reader, "format", "") == "pcap"
            and reader.plain
            and reader.native
            and reader.nsec == self.nsec
            and (self._pcap is None or self._pcap.linktype == reader.linktype)
        )

    def write(self, packet: Packet) -> None:
        if self._ng is not None:
            self._ng.write_packet(packet)
            return
        self.start(packet.linktype)
        assert self._pcap is not None
        if packet.linktype != self._pcap.linktype:
            raise CaptureError(
                f"a pcap file holds one link type: packet of link type {packet.linktype} after "
                f"{self._pcap.linktype} (write pcapng instead)",
                self.path,
            )
        self._pcap.write(packet.ts_ns, packet.wirelen, packet.data)

    def write_raw(self, runs: list[Any], count: int, linktype: int) -> None:
        """Append ``count`` records, given as runs of bytes copied from a compatible input."""
        self.start(linktype)
        assert self._pcap is not None
        self._pcap.write_raw(runs, count)

    def close(self) -> None:
        if not self.pcapng and self._pcap is None:  # no packet and no link type ever seen
            self.start(1)
        self.out.flush()
        if self._own:
            self.out.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
