"""What every capture source shares: the packet record, the error type, page hygiene.

A :class:`Packet` is what readers, the zero-copy buffer pair and live capture all hand
out: the timestamp in nanoseconds, captured and wire lengths, the link type, the
interface number and the bytes as a ``memoryview`` into the source (file mapping,
shared buffer or ring).  Nothing is copied; a packet's view stays valid as long as
its source is open.

:class:`CaptureError` names the file and the byte offset where a capture stops making
sense.  Readers raise it only after every complete packet before that offset has been
handed out, so a filter still writes everything that was readable.
"""

from __future__ import annotations

import mmap
from typing import NamedTuple

from bpfc.errors import BpfcError
from bpfc.linktypes.dltmap import linktype_to_dlt

PAGE = mmap.PAGESIZE

#: libpcap's largest snapshot for most link types, and the exceptions (max_snaplen_for_dlt)
MAX_SNAPLEN = 262144
MAX_SNAPLEN_FOR_DLT = {231: 128 * 1024 * 1024, 279: 8 * 1024 * 1024, 249: 1024 * 1024}
INT_MAX = 0x7FFFFFFF


def header_dlt(linktype: int) -> int:
    """The DLT a file's LINKTYPE_ value opens as (see :mod:`bpfc.linktypes.dltmap`)."""
    return linktype_to_dlt(linktype)


def max_snaplen(dlt: int) -> int:
    """The largest captured length a record of ``dlt`` may have (longer is an error)."""
    return MAX_SNAPLEN_FOR_DLT.get(dlt, MAX_SNAPLEN)


def compile_snapshot(dlt: int, snaplen: int) -> int:
    """The snapshot length libpcap enforces while reading a file and ``pcap_compile`` uses
    for it (its ``ret`` value): the header's, unless 0 or past INT_MAX, then the link type's
    maximum."""
    if snaplen == 0 or snaplen > INT_MAX:
        return max_snaplen(dlt)
    return snaplen


def struct_byte_order(order: str) -> str:
    """``"little"``/``"big"`` for a :mod:`struct` prefix (``"<"``/``">"``)."""
    return "little" if order == "<" else "big"


class Packet(NamedTuple):
    """One captured packet; ``data`` is a view into its source, never a copy."""

    ts_ns: int
    caplen: int
    wirelen: int
    linktype: int
    interface: int
    data: memoryview


class CaptureError(BpfcError, ValueError):
    """A capture file (or buffer) that cannot be read further.

    ``path`` is the file (or ``None``), ``offset`` the byte offset of the offending
    header or record (or ``None`` when the whole file is at fault).
    """

    def __init__(self, message: str, path: str | None = None, offset: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}: "
        if offset is not None:
            message = f"{message} at byte offset {offset}"
        super().__init__(where + message)
        self.message = message
        self.path = path
        self.offset = offset


def map_file(path: str) -> tuple[mmap.mmap | None, memoryview]:
    """Map ``path`` read-only; an empty file gives ``(None, empty view)``."""
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            return None, memoryview(b"")
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return mapping, memoryview(mapping)


def release_pages(mapping: mmap.mmap | None, start: int, end: int) -> None:
    """Drop the pages of ``[start, end)`` from our resident set (they stay in the page cache).

    Views already handed out stay valid: touching them faults the page back in.  This is
    what keeps the peak RSS of a filter run flat however large the file is.
    """
    if mapping is None or not hasattr(mapping, "madvise"):
        return
    lo = start - start % PAGE
    hi = end - end % PAGE
    if hi > lo:
        try:
            mapping.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
        except (OSError, ValueError, AttributeError):  # pragma: no cover - platform dependent
            pass


def close_mapping(mapping: mmap.mmap | None) -> None:
    """Close a mapping unless views into it are still alive (then the GC closes it)."""
    if mapping is None:
        return
    try:
        mapping.close()
    except BufferError:
        pass
