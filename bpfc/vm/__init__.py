"""Run classic BPF programs over packets, fast, with libpcap's ``bpf_filter`` semantics.

:func:`make_filter` validates a program once, translates it into a Python
function (:mod:`bpfc.vm.translate`), compiles that with ``compile()`` and caches the
result by program; calling it costs one Python call plus the straight-line code
of the path taken.  :func:`make_batch_filter` and :func:`make_batch_counter` put
the per-packet loop inside the generated code, for throughput, and
:func:`make_offset_filter` does too over packets that lie in one buffer (a mapped
capture file) at given offsets, without making a view per packet.  The semantics
(documented in :mod:`bpfc.vm.interp`, whose one-instruction-at-a-time
:func:`~bpfc.vm.interp.interpret` is the reference) are libpcap's; ``linux=True``
adds the Linux socket-filter loads with metadata keywords from
:data:`~bpfc.vm.ancillary.META_DEFAULTS`.

Packets may be ``bytes``, ``bytearray``, ``mmap`` or a byte ``memoryview``; they
are indexed in place, never copied.

>>> ipv4 = make_filter([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 1), (0x06, 0, 0, 0)])
>>> ipv4(bytes(12) + b"\\x08\\x00"), ipv4(bytes(12) + b"\\x86\\xdd"), ipv4(b"")
(1, 0, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from bpfc.isa.validation import validate
from bpfc.vm import translate
from bpfc.vm.ancillary import META_DEFAULTS, check_meta, reject_meta
from bpfc.vm.interp import interpret

__all__ = [
    "META_DEFAULTS",
    "interpret",
    "make_batch_counter",
    "make_batch_filter",
    "make_filter",
    "make_offset_filter",
    "run",
    "source",
]

Packet = Any
"""bytes, bytearray, mmap or a memoryview of unsigned bytes."""

_Prog = tuple[tuple[int, int, int, int], ...]


def _freeze(insns: Iterable[Sequence[int]]) -> _Prog:
    """The program as a hashable tuple; anything malformed becomes a ValidationError."""
    items = list(insns)
    try:
        prog = tuple((c, jt, jf, k) for c, jt, jf, k in items)
    except (TypeError, ValueError):
        prog = ()
    if len(prog) != len(items) or not all(isinstance(f, int) for i in prog for f in i):
        validate(items)  # raises the ValidationError that names the instruction
    return tuple((int(c), int(jt), int(jf), int(k)) for c, jt, jf, k in prog)


@lru_cache(maxsize=512)
def _build(prog: _Prog, linux: bool, mode: str, header: int = 0) -> Callable[..., Any]:
    validate(prog)  # inside the cache: a program is checked once, like it is translated once
    size = translate.expansion_size(prog)
    if size is None or size > translate.LINE_BUDGET:
        return _fallback(prog, linux, mode, header)
    text = translate.source(prog, linux=linux, mode=mode, header=header)
    namespace = translate.namespace()
    exec(compile(text, f"<bpf {mode} filter, {len(prog)} insns>", "exec"), namespace)
    function = namespace["_bpf"]
    function.__doc__ = f"cBPF program of {len(prog)} instructions, translated to Python."
    function.__bpf_source__ = text  # type: ignore[attr-defined]
    return function  # type: ignore[no-any-return]


def _fallback(prog: _Prog, linux: bool, mode: str, header: int = 0) -> Callable[..., Any]:
    """Programs with backward jumps or too large to expand run in the interpreter."""

    def single(p: Packet, wirelen: int | None = None, **meta: Any) -> int:
        if meta:
            check_meta(meta) if linux else reject_meta(meta)
        return interpret(prog, p, wirelen, linux, meta)

    def batch(items: Iterable[tuple[Packet, int | None]], **meta: Any) -> list[int]:
        return [single(p, w, **meta) for p, w in items]

    def count(items: Iterable[tuple[Packet, int | None]], **meta: Any) -> int:
        return sum(1 for p, w in items if single(p, w, **meta))

    def offset(
        buf: Packet,
        offsets: Iterable[int],
        caplens: Iterable[int],
        wirelens: Iterable[int] | None = None,
    ) -> list[int]:
        caps = [n - header for n in caplens]
        wls = caps if wirelens is None else wirelens
        view = memoryview(buf).cast("B")
        return [
            interpret(prog, view[o + header : o + header + n], w, False, {})
            for o, n, w in zip(offsets, caps, wls)  # noqa: B905 - the shortest ends the run
        ]

    return {"single": single, "batch": batch, "count": count, "offset": offset}[mode]


def make_filter(insns: Iterable[Sequence[int]], *, linux: bool = False) -> Callable[..., int]:
    """Validate ``insns`` (libpcap rules) and return ``fn(packet, wirelen=None, **meta) -> int``.

    ``wirelen`` is what ``len`` loads (default: the packet's length); ``meta`` is
    accepted only with ``linux=True`` (names in ``META_DEFAULTS``).
    """
    prog = _freeze(insns)
    return _build(prog, linux, "single")


def make_batch_filter(
    insns: Iterable[Sequence[int]], *, linux: bool = False
) -> Callable[..., list[int]]:
    """``fn(iterable of (packet, wirelen), **meta) -> list[int]``, looping in generated code."""
    prog = _freeze(insns)
    return _build(prog, linux, "batch")


def make_batch_counter(
    insns: Iterable[Sequence[int]], *, linux: bool = False
) -> Callable[..., int]:
    """``fn(iterable of (packet, wirelen), **meta) -> int``: how many packets it accepts."""
    prog = _freeze(insns)
    return _build(prog, linux, "count")


def make_offset_filter(
    insns: Iterable[Sequence[int]], *, header: int = 0
) -> Callable[..., list[int]]:
    """``fn(buffer, offsets, caplens, wirelens=None) -> list[int]``: one verdict per packet.

    Packet ``i`` is ``buffer[offsets[i] : offsets[i] + caplens[i]]``, read in place (no
    view is made per packet); loads past ``caplens[i]`` reject, as they would on the
    packet alone, even where the buffer goes on.  ``len`` loads ``wirelens[i]`` (default:
    the captured length).  libpcap semantics only: Linux loads need a packet object.

    With ``header=h`` each packet is preceded by ``h`` bytes that its offset and length
    both count (a capture record: offsets of records, lengths with their headers), which
    saves the caller a pass over the lists.
    """
    if header < 0:
        raise ValueError(f"header length {header} is negative")
    prog = _freeze(insns)
    return _build(prog, False, "offset", header)


def run(
    insns: Iterable[Sequence[int]],
    packet: Packet,
    wirelen: int | None = None,
    *,
    linux: bool = False,
    **meta: Any,
) -> int:
    """Run ``insns`` once over ``packet``; the translation is cached for the next call."""
    return make_filter(insns, linux=linux)(packet, wirelen, **meta)


def source(insns: Iterable[Sequence[int]], *, linux: bool = False, mode: str = "single") -> str:
    """The Python source the translator writes for ``insns`` (for reading and debugging)."""
    prog = _freeze(insns)
    validate(prog)
    return translate.source(prog, linux=linux, mode=mode)
