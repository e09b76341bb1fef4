"""Filter a capture file: the loop behind ``bpfc filter``, batch or per packet.

:func:`filter_capture` takes an open reader, a function giving the program for a link
type (pcapng files may mix link types, so programs are made on demand, one per link
type), and where matching packets go: a :class:`~bpfc.capture.writer.CaptureWriter`,
a callback, or nowhere (counting only).

Two engines:

* ``batch`` (numpy): the reader indexes chunks of records over its mapping, the batch
  engine judges a whole chunk per program, and when the output is a pcap file in the
  input's own format, runs of consecutive matching records are written straight from
  the mapping with one ``write`` each;
* ``packet``: each packet goes through a function :mod:`bpfc.vm` generates (for pcap
  files :func:`~bpfc.vm.make_offset_filter`'s, which reads packets in place in the
  mapping); used when numpy is missing or a program jumps backward, and by ``auto`` for
  a small pcap file while numpy is not imported yet: see :data:`PER_PACKET_BELOW`.

A corrupt input ends the loop with every complete packet before it already judged and
written; the error is returned in the stats for the caller to report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bpfc.capture.common import CaptureError, Packet
from bpfc.capture.writer import CaptureWriter
from bpfc.isa.opcodes import LD_LEN, LDX_LEN

Program = Sequence[Sequence[int]]
ProgramFor = Callable[[int], Program]
Emit = Callable[[int, Packet], None]
Progress = Callable[[int, int, int], None]
"""``progress(byte position or -1, file size, packets read)``."""

CHUNK = 1 << 16

PER_PACKET_BELOW = 8 << 20
"""``auto`` runs a pcap file smaller than this per packet while numpy is not yet imported:
importing numpy costs more CPU time (about 80 ms) than the batch engine saves on fewer
than a few hundred thousand packets (about 0.3 us each), and 8 MiB holds at most ~110,000
minimum-size Ethernet records."""


@dataclass
class FilterStats:
    """What one run did; ``error`` is the capture error that ended it early, if any."""

    read: int = 0
    matched: int = 0
    engine: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    error: CaptureError | None = None


def choose_engine(requested: str, programs: list[Program]) -> str:
    """``batch`` when numpy is present and every program only jumps forward, else ``packet``."""
    from bpfc.capture.batch import batchable, numpy_available

    if requested not in ("auto", "batch", "packet"):
        raise ValueError(f"unknown engine {requested!r} (auto, batch or packet)")
    if requested == "packet":
        return "packet"
    ok = numpy_available() and all(batchable(p) for p in programs)
    if requested == "batch" and not ok:
        raise ValueError("the batch engine needs numpy and programs without backward jumps")
    return "batch" if ok else "packet"


def filter_capture(
    reader: Any,
    program_for: ProgramFor,
    *,
    writer: CaptureWriter | None = None,
    emit: Emit | None = None,
    limit: int | None = None,
    engine: str = "auto",
    progress: Progress | None = None,
) -> FilterStats:
    """Run the programs over every packet of ``reader``; see the module docstring.

    Every program is validated (libpcap's rules) before it runs, whichever the engine.
    """
    program_for = _validated(program_for)
    first = program_for(reader.linktype) if reader.linktype is not None else None
    if engine == "auto" and _small_pcap(reader):
        engine = "packet"
    stats = FilterStats(engine=choose_engine(engine, [first] if first else []))
    if writer is not None and reader.linktype is not None:
        writer.start(reader.linktype, getattr(reader, "linktype_field", None), reader.linktypes)
    started, cpu_started = time.perf_counter(), time.process_time()
    run = _batch if stats.engine == "batch" else _per_packet
    try:
        run(reader, program_for, writer, emit, limit, progress, stats)
    except CaptureError as err:
        stats.error = err
    if writer is not None:
        writer.declare(reader.linktypes)
    stats.seconds = time.perf_counter() - started
    stats.cpu_seconds = time.process_time() - cpu_started
    return stats


def _small_pcap(reader: Any) -> bool:
    """True for a pcap file under :data:`PER_PACKET_BELOW` while numpy is not imported."""
    import sys

    return (
        getattr(reader, "format", None) == "pcap"
        and len(reader.buffer) < PER_PACKET_BELOW
        and "numpy" not in sys.modules
    )


def _validated(program_for: ProgramFor) -> ProgramFor:
    from bpfc.isa.validation import validate

    cache: dict[int, Program] = {}

    def checked(linktype: int) -> Program:
        if linktype not in cache:
            prog = program_for(linktype)
            validate(prog)
            cache[linktype] = prog
        return cache[linktype]

    return checked


def _per_packet(
    reader: Any,
    program_for: ProgramFor,
    writer: CaptureWriter | None,
    emit: Emit | None,
    limit: int | None,
    progress: Progress | None,
    stats: FilterStats,
) -> None:
    from bpfc.vm import make_filter

    if reader.format == "pcap" and reader.plain and limit is None:
        _pcap_generated_loop(reader, program_for(reader.linktype), writer, emit, progress, stats)
        return
    filters: dict[int, Callable[..., int]] = {}
    total = len(reader.buffer)
    read = matched = 0
    try:
        for packet in reader:
            read += 1
            accept = filters.get(packet.linktype)
            if accept is None:
                accept = filters[packet.linktype] = make_filter(program_for(packet.linktype))
            if accept(packet.data, packet.wirelen):
                matched += 1
                if writer is not None:
                    writer.write(packet)
                if emit is not None:
                    emit(read, packet)
                if limit is not None and matched >= limit:
                    break
            if progress is not None and not read & 0xFFFF:
                progress(-1, total, read)
    finally:
        stats.read, stats.matched = read, matched


def _pcap_generated_loop(
    reader: Any,
    prog: Program,
    writer: CaptureWriter | None,
    emit: Emit | None,
    progress: Progress | None,
    stats: FilterStats,
) -> None:
    """Per-packet verdicts with the packet loop inside :mod:`bpfc.vm`'s generated code.

    A chunk's record offsets come from the reader's walk of the length chain (the batch
    path's); :func:`bpfc.vm.make_offset_filter`'s function reads each packet in place in
    the mapping at its offset, bounded by its captured length (cut to the snapshot), so
    no view is made per packet and no Python code runs per packet outside the generated
    loop; wire lengths are read only when the program loads ``len``.  Matching whole
    records go out as runs.
    """
    from itertools import compress, repeat
    from operator import add, itemgetter, sub

    from bpfc.vm import make_offset_filter

    verdicts = make_offset_filter(prog, header=16)  # offsets and lengths of whole records
    uses_len = any(insn[0] in (LD_LEN, LDX_LEN) for insn in prog)
    word_at = reader._caplen.unpack_from  # a 32-bit header field in the file's byte order
    raw = writer is not None and writer.raw_compatible(reader)
    mv = reader.buffer
    buf = _record_source(reader)  # the mapping itself when there is one: indexed a bit faster
    total = len(mv)
    snapshot = reader.snapshot
    for offsets, after in reader.record_runs(CHUNK):
        ends = offsets[1:]
        ends.append(after)
        lengths = list(map(sub, ends, offsets))
        whole = max(lengths) - 16 <= snapshot
        if not whole:  # some records are longer than the snapshot: cut them to it
            lengths = [min(n, 16 + snapshot) for n in lengths]
        wirelens: Any = None
        if uses_len:
            wirelens = map(itemgetter(0), map(word_at, repeat(mv), map(add, offsets, repeat(12))))
        results = verdicts(buf, offsets, lengths, wirelens)
        hits = list(compress(range(len(results)), results))
        if writer is None and emit is None:
            pass  # counting only
        elif hits and writer is not None and raw and whole and emit is None:
            runs = _runs(buf, offsets, ends, hits)
            writer.write_raw(runs, len(hits), reader.linktype)
        else:
            for i in hits:
                pos = offsets[i]
                packet, stop = reader.packet_at(pos)
                if writer is not None:
                    if raw and stop == pos + 16 + packet.caplen:  # not cut: copy the record
                        writer.write_raw([mv[pos:stop]], 1, reader.linktype)
                    else:
                        writer.write(packet)
                if emit is not None:
                    emit(stats.read + i + 1, packet)
        stats.read += len(results)
        stats.matched += len(hits)
        if progress is not None:
            progress(-1, total, stats.read)


def _record_source(reader: Any) -> Any:
    """What whole records are sliced from for writing: the file mapping itself when there
    is one (slicing an ``mmap`` copies the bytes, which the write would do anyway, and
    costs about half as much as making a ``memoryview``), else the reader's view."""
    import mmap

    mapping = getattr(reader, "_map", None)
    return mapping if isinstance(mapping, mmap.mmap) else reader.buffer


def _runs(mv: Any, offsets: list[int], ends: list[int], hits: list[int]) -> list[Any]:
    """Views of the runs of consecutive matching records (``hits`` ascending, not empty)."""
    runs = []
    first = last = hits[0]
    for i in hits[1:]:
        if i != last + 1:
            runs.append(mv[offsets[first] : ends[last]])
            first = i
        last = i
    runs.append(mv[offsets[first] : ends[last]])
    return runs


def _batch(
    reader: Any,
    program_for: ProgramFor,
    writer: CaptureWriter | None,
    emit: Emit | None,
    limit: int | None,
    progress: Progress | None,
    stats: FilterStats,
) -> None:
    import numpy as np

    from bpfc.capture.batch import run_batch

    raw = writer is not None and writer.raw_compatible(reader)
    source = _record_source(reader)
    total = len(reader.buffer)
    for chunk in reader.chunks(CHUNK):
        n = len(chunk)
        verdict = _judge(np, run_batch, chunk, program_for)
        hits = np.flatnonzero(verdict)
        if limit is not None and stats.matched + hits.shape[0] >= limit:
            hits = hits[: limit - stats.matched]
            n = int(hits[-1]) + 1 if hits.shape[0] else n
            stats.read += n
            stats.matched += hits.shape[0]
            _output(chunk, hits, reader, writer, emit, raw, source, stats.read - n)
            return
        _output(chunk, hits, reader, writer, emit, raw, source, stats.read)
        stats.read += n
        stats.matched += int(hits.shape[0])
        if progress is not None:
            progress(int(chunk.rec_end[-1]), total, stats.read)


def _judge(np: Any, run_batch: Any, chunk: Any, program_for: ProgramFor) -> Any:
    """Boolean verdict per packet of ``chunk``, one batch run per link type present."""
    linktypes = set(chunk.linktypes.values())
    if len(linktypes) == 1:
        return _run(run_batch, program_for(linktypes.pop()), chunk, None) != 0
    verdict = np.zeros(len(chunk), dtype=bool)
    lt_of = np.zeros(max(chunk.linktypes) + 1, dtype=np.int64)
    for iface, linktype in chunk.linktypes.items():
        lt_of[iface] = linktype
    per_packet = lt_of[chunk.iface]
    for linktype in np.unique(per_packet).tolist():
        sel = np.flatnonzero(per_packet == linktype)
        verdict[sel] = _run(run_batch, program_for(int(linktype)), chunk, sel) != 0
    return verdict


def _run(run_batch: Any, prog: Program, chunk: Any, sel: Any) -> Any:
    """One program over the packets ``sel`` (None: all) of a chunk; per packet if need be."""
    from bpfc.capture.batch import batchable

    if batchable(prog):
        # the wire length is gathered from the headers only for programs that load it
        wirelen = chunk.wirelen if any(i[0] in (LD_LEN, LDX_LEN) for i in prog) else chunk.caplen
        if sel is None:
            return run_batch(prog, chunk.buf, chunk.data_off, chunk.caplen, wirelen)
        return run_batch(prog, chunk.buf, chunk.data_off[sel], chunk.caplen[sel], wirelen[sel])
    import numpy as np

    from bpfc.vm import make_filter

    accept = make_filter(prog)
    index = range(len(chunk)) if sel is None else sel.tolist()
    return np.array([accept(chunk.data(i), int(chunk.wirelen[i])) for i in index], np.uint32)


def _output(
    chunk: Any,
    hits: Any,
    reader: Any,
    writer: CaptureWriter | None,
    emit: Emit | None,
    raw: bool,
    source: Any,
    base: int,
) -> None:
    if not hits.shape[0]:
        return
    if emit is not None or (writer is not None and not raw):
        for i in hits.tolist():
            packet = _packet(chunk, i)
            if writer is not None:
                writer.write(packet)
            if emit is not None:
                emit(base + i + 1, packet)
        return
    if writer is None:
        return
    import numpy as np

    # whole records copied verbatim, one slice per run of consecutive matches, one writelines
    whole = (chunk.rec_end - chunk.rec_off) == 16 + chunk.caplen
    if not whole[hits].all():  # some records were cut to the snapshot: re-encode those
        for i in hits.tolist():
            if whole[i]:
                start, stop = int(chunk.rec_off[i]), int(chunk.rec_end[i])
                writer.write_raw([source[start:stop]], 1, reader.linktype)
            else:
                writer.write(_packet(chunk, i))
        return
    cuts = np.flatnonzero(np.diff(hits) != 1)
    starts = chunk.rec_off[hits[np.concatenate(([0], cuts + 1))]].tolist()
    stops = chunk.rec_end[hits[np.concatenate((cuts, [hits.shape[0] - 1]))]].tolist()
    runs = [source[a:b] for a, b in zip(starts, stops, strict=True)]
    writer.write_raw(runs, int(hits.shape[0]), reader.linktype)


def _packet(chunk: Any, i: int) -> Packet:
    iface = int(chunk.iface[i])
    return Packet(
        int(chunk.ts_ns[i]),
        int(chunk.caplen[i]),
        int(chunk.wirelen[i]),
        chunk.linktypes[iface],
        iface,
        chunk.data(i),
    )
