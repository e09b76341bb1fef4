"""A zero-copy buffer pair in the style of FreeBSD's ``bpf_zbuf`` (BIOCSETZBUF).

FreeBSD's zero-copy BPF (Watson, 2007) replaces ``read(2)`` copies with two buffers
shared between the kernel (producer) and the process (consumer).  Each buffer starts
with a header, ``struct bpf_zbuf_header { kernel_gen, kernel_len, user_gen, pad }``:

* the producer appends records to the *store* buffer;
* when the store is full (or a timeout passes, or the consumer asks for a rotation),
  and the other (*hold*) buffer has been given back, the producer hands the store over
  by writing ``kernel_len`` and then bumping ``kernel_gen``, and starts storing into
  the other buffer;
* a buffer belongs to the consumer exactly while ``kernel_gen != user_gen``; the
  consumer reads (here: filters) it in place and acknowledges it by copying
  ``kernel_gen`` into ``user_gen``;
* the producer never writes into a buffer the consumer still owns: when the store is
  full and the hold buffer is unacknowledged, the packet is dropped and counted.

Here the memory is any writable buffer of ``2 * size`` bytes: a ``bytearray`` between
threads, or a shared ``mmap`` between processes (the consumer reads only the headers, so
producer and consumer keep no other shared state).  Records are a 24-byte header
(timestamp ns, caplen, wirelen, link type, header length, interface) followed by the
bytes, each record aligned to 8 bytes like ``BPF_WORDALIGN``.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bpfc.capture.common import CaptureError, Packet

HEADER = struct.Struct("=III20x")
"""``bpf_zbuf_header``: kernel_gen, kernel_len, user_gen, padding to 32 bytes."""
RECORD = struct.Struct("=QIIHHI")
"""Record header: ts_ns, caplen, wirelen, linktype, hdrlen, interface (24 bytes)."""
ALIGN = 8
M32 = 0xFFFFFFFF


def _align(n: int) -> int:
    return (n + ALIGN - 1) & ~(ALIGN - 1)


class _Layout:
    """Where the two buffers and their header fields live in the shared memory."""

    def __init__(self, memory: Any, size: int) -> None:
        view = memoryview(memory).cast("B")
        if size < HEADER.size + RECORD.size + ALIGN or size % ALIGN:
            raise ValueError(f"buffer size {size} must be a multiple of {ALIGN} of at least 64")
        if len(view) < 2 * size:
            raise ValueError(f"shared memory of {len(view)} bytes is less than 2 x {size}")
        if view.readonly:
            raise ValueError("shared memory must be writable")
        self.memory = memory
        self.view = view
        self.size = size

    def base(self, index: int) -> int:
        return index * self.size

    def header(self, index: int) -> tuple[int, int, int]:
        return HEADER.unpack_from(self.view, self.base(index))  # type: ignore[return-value]

    def owned_by_consumer(self, index: int) -> bool:
        kernel_gen, _, user_gen = self.header(index)
        return kernel_gen != user_gen


class Producer:
    """The kernel's side: append records to the store buffer, rotate, count drops."""

    def __init__(self, memory: Any, size: int, *, timeout: float | None = None) -> None:
        self.layout = _Layout(memory, size)
        self.store = 0
        self.used = HEADER.size  # write cursor inside the store buffer
        self.pending = 0  # records in the store buffer
        self.timeout = timeout
        self.rotated_at = time.monotonic()
        self.packets = 0
        self.drops = 0
        self.rotations = 0

    def room(self, caplen: int) -> bool:
        """True when a record of ``caplen`` bytes can be appended now without a drop."""
        need = _align(RECORD.size + caplen)
        if self.used + need <= self.layout.size:
            return True
        return self.pending > 0 and not self.layout.owned_by_consumer(1 - self.store)

    def append(
        self,
        data: Any,
        ts_ns: int = 0,
        wirelen: int | None = None,
        linktype: int = 1,
        interface: int = 0,
    ) -> bool:
        """Store one packet; False (and a counted drop) when it cannot be stored now."""
        caplen = len(data)
        need = _align(RECORD.size + caplen)
        if need > self.layout.size - HEADER.size:
            self.drops += 1  # can never fit
            return False
        if self.used + need > self.layout.size and not self.rotate():
            self.drops += 1
            return False
        at = self.layout.base(self.store) + self.used
        view = self.layout.view
        RECORD.pack_into(
            view,
            at,
            ts_ns,
            caplen,
            caplen if wirelen is None else wirelen,
            linktype,
            RECORD.size,
            interface,
        )
        view[at + RECORD.size : at + RECORD.size + caplen] = data
        self.used += need
        self.pending += 1
        self.packets += 1
        return True

    def rotate(self) -> bool:
        """Hand the store buffer to the consumer if it holds records and the other is free.

        This is the rotation FreeBSD does when the store fills, on timeout, or on
        ``BIOCROTZBUF``: publish ``kernel_len``, then bump ``kernel_gen``.
        """
        other = 1 - self.store
        if not self.pending or self.layout.owned_by_consumer(other):
            return False
        base = self.layout.base(self.store)
        view = self.layout.view
        kernel_gen, _, user_gen = HEADER.unpack_from(view, base)
        struct.pack_into("=I", view, base + 4, self.used - HEADER.size)  # kernel_len first
        struct.pack_into("=I", view, base, (kernel_gen + 1) & M32)  # then the handover
        self.store, self.used, self.pending = other, HEADER.size, 0
        self.rotations += 1
        self.rotated_at = time.monotonic()
        return True

    def tick(self, now: float | None = None) -> bool:
        """Rotate when the timeout has passed since the last rotation (like bpf's timer)."""
        if self.timeout is None:
            return False
        now = time.monotonic() if now is None else now
        return now - self.rotated_at >= self.timeout and self.rotate()


class Hold:
    """A buffer the consumer owns until :meth:`ack`: records are read where they lie."""

    def __init__(self, layout: _Layout, index: int, generation: int, length: int) -> None:
        self.layout = layout
        self.index = index
        self.generation = generation
        self.length = min(length, layout.size - HEADER.size)
        self.start = layout.base(index) + HEADER.size
        self.acked = False

    def records(self) -> Iterator[tuple[int, int, int, int, int, int]]:
        """``(ts_ns, caplen, wirelen, linktype, interface, data_offset)`` per record."""
        view = self.layout.view
        pos, end = self.start, self.start + self.length
        while pos + RECORD.size <= end:
            ts_ns, caplen, wirelen, linktype, hdrlen, iface = RECORD.unpack_from(view, pos)
            data = pos + hdrlen
            if hdrlen < RECORD.size or data + caplen > end:
                raise CaptureError("corrupt zero-copy record", None, pos - self.start)
            yield ts_ns, caplen, wirelen, linktype, iface, data
            pos += _align(hdrlen + caplen)

    def __iter__(self) -> Iterator[Packet]:
        view = self.layout.view
        for ts_ns, caplen, wirelen, linktype, iface, data in self.records():
            yield Packet(ts_ns, caplen, wirelen, linktype, iface, view[data : data + caplen])

    def chunk(self) -> Any:
        """The records as a :class:`~bpfc.capture.chunk.Chunk` over the shared memory."""
        from bpfc.capture.chunk import as_uint8, list_chunk

        rows = list(self.records())
        linktypes = {iface: lt for _, _, _, lt, iface, _ in rows}
        return list_chunk(
            as_uint8(self.layout.view),
            [r[5] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[0] for r in rows],
            [r[4] for r in rows],
            linktypes,
            [r[5] - RECORD.size for r in rows],
            [r[5] + r[1] for r in rows],
        )

    def ack(self) -> None:
        """Give the buffer back: ``user_gen = kernel_gen``."""
        if not self.acked:
            struct.pack_into(
                "=I", self.layout.view, self.layout.base(self.index) + 8, self.generation
            )
            self.acked = True

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ack()


class Consumer:
    """The process's side: find the buffer handed over, read it in place, acknowledge it."""

    def __init__(self, memory: Any, size: int) -> None:
        self.layout = _Layout(memory, size)

    def acquire(self) -> Hold | None:
        """The buffer the producer has handed over (at most one at a time), or None."""
        for index in (0, 1):
            kernel_gen, kernel_len, user_gen = self.layout.header(index)
            if kernel_gen != user_gen:
                return Hold(self.layout, index, kernel_gen, kernel_len)
        return None


def buffer_pair(
    size: int = 1 << 20, *, shared: bool = False, path: str | None = None
) -> tuple[Any, Producer, Consumer]:
    """Memory for two buffers of ``size`` bytes and a producer and consumer over it.

    ``shared=True`` uses an anonymous shared mapping, which a forked child shares;
    ``path`` maps that file (created or resized to ``2 * size`` bytes) shared, so that
    unrelated processes mapping the same file see the same pair.
    """
    import mmap

    if path is not None:
        with open(path, "a+b") as handle:
            if handle.seek(0, 2) != 2 * size:
                handle.truncate(2 * size)
            memory: Any = mmap.mmap(handle.fileno(), 2 * size, mmap.MAP_SHARED)
    elif shared:
        memory = mmap.mmap(-1, 2 * size)
    else:
        memory = bytearray(2 * size)
    return memory, Producer(memory, size), Consumer(memory, size)


def relay(
    packets: Iterable[Packet], handle: Callable[[Hold], None], size: int = 1 << 20
) -> Producer:
    """Carry ``packets`` (e.g. a capture file's) through a buffer pair to ``handle``.

    The producer appends each packet to the store buffer (the one copy, as the kernel makes
    it in FreeBSD); whenever it could only drop, the consumer side first takes the hold
    buffer, calls ``handle(hold)`` -- which reads it in place, e.g. ``hold.chunk()`` for the
    batch engine -- and acknowledges it.  Packets too large for a buffer are dropped and
    counted.  Returns the producer, whose counters say what happened.
    """
    _, producer, consumer = buffer_pair(size)

    def drain() -> bool:
        hold = consumer.acquire()
        if hold is None:
            return False
        with hold:
            handle(hold)
        return True

    for packet in packets:
        if not producer.room(packet.caplen):
            drain()
        producer.append(
            packet.data, packet.ts_ns, packet.wirelen, packet.linktype, packet.interface
        )
    while producer.pending:
        if not producer.rotate():
            drain()
    drain()
    return producer
