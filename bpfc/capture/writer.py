"""Write filtered packets as pcap (default, like ``tcpdump -w``) or pcapng.

:class:`CaptureWriter` hides which format is being written.  A pcap file holds one link
type, so a pcap output refuses a packet of a second link type (ask for pcapng then);
pcapng declares one interface per (link type, source interface).  When the input is a
pcap file in this machine's byte order and the same timestamp precision, runs of whole
records are copied from the input mapping verbatim (:meth:`CaptureWriter.write_raw`):
that is the fast path of ``bpfc filter`` and keeps the output byte-identical.

The bytes go through :class:`~bpfc.capture.output.SafeOutput`: a temporary file beside
the target, renamed over it by :meth:`CaptureWriter.close` (the run is complete, or it
stopped at a damaged input record and keeps every packet before it) and removed by
:meth:`CaptureWriter.abort` (anything else went wrong: an existing target stays as it
was).  Every file written is one tcpdump reads: a pcap file always has its header, a
pcapng file its section header and the interfaces of the input, even with no packet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bpfc.capture.common import CaptureError, Packet
from bpfc.capture.output import SafeOutput, write_error
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
        self.linktype: int | None = None
        self._sink = SafeOutput(path)
        self.out = self._sink.file
        self._pcap: PcapWriter | None = None
        self._ng: PcapngWriter | None = None
        if pcapng:
            self._ng = self._guard(lambda: PcapngWriter(self.out))

    @property
    def count(self) -> int:
        sink = self._ng or self._pcap
        return sink.count if sink is not None else 0

    def _guard(self, action: Any) -> Any:
        """Run one write; an ``OSError`` (full disk, closed pipe...) becomes one line naming
        the file, and the output is dropped so that an existing target stays as it was."""
        try:
            return action()
        except BrokenPipeError:
            self.abort()
            raise
        except OSError as err:
            self.abort()
            raise write_error(self.path, err) from None

    def start(
        self,
        linktype: int,
        field: int | None = None,
        interfaces: Mapping[int, int] | None = None,
    ) -> None:
        """Write the file header for ``linktype`` (pcap) or declare the input's interfaces.

        ``field`` is the input's whole link-type field, FCS bits included, which tcpdump
        copies into its output header.  ``interfaces`` (interface number -> link type, as
        a pcapng reader knows them) are declared in a pcapng output at once, so that a
        file with no matching packet still says what it would have held.
        """
        if self.linktype is None:
            self.linktype = linktype
        if self._ng is not None:
            ng = self._ng
            for iface, lt in sorted((interfaces or {0: linktype}).items()):
                self._guard(lambda lt=lt, iface=iface: ng.interface(lt, iface, self.snaplen))
        elif self._pcap is None:
            self._pcap = self._guard(
                lambda: PcapWriter(self.out, linktype, self.snaplen, nsec=self.nsec, field=field)
            )

    def declare(self, interfaces: Mapping[int, int]) -> None:
        """Declare in a pcapng output every input interface not declared yet (those a reader
        met after the first packet, with no packet matched): pcap needs nothing."""
        if self._ng is not None:
            ng = self._ng
            for iface, lt in sorted(interfaces.items()):
                self._guard(lambda lt=lt, iface=iface: ng.interface(lt, iface, self.snaplen))

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
            ng = self._ng
            if self.linktype is None:
                self.linktype = packet.linktype
            self._guard(lambda: ng.write_packet(packet))
            return
        self.start(packet.linktype)
        pcap = self._pcap
        assert pcap is not None
        if packet.linktype != pcap.linktype:
            raise CaptureError(
                f"a pcap file holds one link type: packet of link type {packet.linktype} after "
                f"{pcap.linktype} (write pcapng instead)",
                self.path,
            )
        self._guard(lambda: pcap.write(packet.ts_ns, packet.wirelen, packet.data))

    def write_raw(self, runs: list[Any], count: int, linktype: int) -> None:
        """Append ``count`` records, given as runs of bytes copied from a compatible input."""
        self.start(linktype)
        pcap = self._pcap
        assert pcap is not None
        self._guard(lambda: pcap.write_raw(runs, count))

    def close(self) -> None:
        """Finish the file and put it in place (the header alone when nothing matched)."""
        if self._sink.closed:
            return
        if self.linktype is None:  # no packet and no link type ever seen
            self.start(1)
        self._sink.commit()

    def abort(self) -> None:
        """Drop the output: the temporary file goes, an existing target is left untouched."""
        self._sink.abort()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
