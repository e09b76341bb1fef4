"""Damaged variants of real captures, from fixed seeds, for the reader robustness tests.

Each variant is one kind of damage a capture meets in the wild (or in a fuzzer): the file
cut at every class of position around a record boundary, a header byte flipped, a captured
length made huge, a pcapng block length made wrong, a record header byte-swapped.  The
positions come from walking the file's own structure, so every record-boundary class is
hit whatever the file; ``random.Random(seed)`` picks among them, so a run is repeatable.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

PCAP_HEADER = 24


class Variant(NamedTuple):
    """One damaged file: a short description (for test ids and reports) and its bytes."""

    name: str
    data: bytes


def _order(blob: bytes) -> str:
    """``<`` or ``>``: the byte order a pcap or pcapng file declares."""
    if blob[:4] == b"\x0a\x0d\x0d\x0a":
        return "<" if blob[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    little = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1")
    return "<" if blob[:4] in little else ">"


def is_pcapng(blob: bytes) -> bool:
    return blob[:4] == b"\x0a\x0d\x0d\x0a"


def units(blob: bytes) -> list[tuple[int, int]]:
    """``(start, header size)`` of every record (pcap) or block (pcapng), in file order.

    The walk stops at the first unit that does not fit, so a damaged base is fine too.
    """
    order = _order(blob)
    out: list[tuple[int, int]] = []
    if is_pcapng(blob):
        pos = 0
        while pos + 12 <= len(blob):
            (total,) = struct.unpack_from(order + "I", blob, pos + 4)
            if total < 12 or pos + total > len(blob):
                break
            out.append((pos, 8))
            pos += total
        return out
    pos = PCAP_HEADER
    while pos + 16 <= len(blob):
        (caplen,) = struct.unpack_from(order + "I", blob, pos + 8)
        if pos + 16 + caplen > len(blob):
            break
        out.append((pos, 16))
        pos += 16 + caplen
    return out


def _set32(blob: bytes, at: int, value: int, order: str) -> bytes:
    return blob[:at] + struct.pack(order + "I", value & 0xFFFFFFFF) + blob[at + 4 :]


def truncations(blob: bytes) -> Iterator[Variant]:
    """The file cut in every boundary class: inside the file header, at a record start,
    inside a record header, at the data start, inside the data, one byte short."""
    yield Variant("cut:header-mid", blob[: 12 if is_pcapng(blob) else 10])
    for index, (start, head) in enumerate(units(blob)):
        nxt = units_end(blob, index)
        for label, cut in (
            ("start", start),
            ("head+1", start + 1),
            ("head-mid", start + head // 2 + 1),
            ("data", start + head),
            ("data+1", start + head + 1),
            ("end-1", nxt - 1),
        ):
            if 0 < cut < len(blob):
                yield Variant(f"cut:{label}@{index}", blob[:cut])


def units_end(blob: bytes, index: int) -> int:
    found = units(blob)
    return found[index + 1][0] if index + 1 < len(found) else len(blob)


def flips(blob: bytes, rng: random.Random, count: int) -> Iterator[Variant]:
    """``count`` variants with one byte of a file, record or block header flipped."""
    spots = list(range(min(len(blob), 28 if is_pcapng(blob) else PCAP_HEADER)))
    for start, head in units(blob):
        spots.extend(range(start, min(start + head + 20, len(blob))))
    for _ in range(count):
        at = rng.choice(spots)
        mask = rng.choice((0x01, 0x80, 0xFF, 1 << rng.randrange(8)))
        data = bytearray(blob)
        data[at] ^= mask
        yield Variant(f"flip:{at}^{mask:#x}", bytes(data))


def huge_lengths(blob: bytes, rng: random.Random, count: int) -> Iterator[Variant]:
    """``count`` variants with one captured length (or block length) made large."""
    order = _order(blob)
    found = units(blob)
    values = (0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 262145, 262144, 65536, 0x01000000)
    for _ in range(count):
        if not found:
            return
        start, _ = rng.choice(found)
        value = rng.choice(values)
        if is_pcapng(blob):
            (btype,) = struct.unpack_from(order + "I", blob, start)
            field = start + 20 if btype == 6 and len(blob) >= start + 24 else start + 4
        else:
            field = start + rng.choice((8, 12))
        yield Variant(f"huge:{field}={value:#x}", _set32(blob, field, value, order))


def bad_block_lengths(blob: bytes, rng: random.Random, count: int) -> Iterator[Variant]:
    """pcapng only: ``count`` variants with a block's total length or trailer made wrong."""
    if not is_pcapng(blob):
        return
    order = _order(blob)
    found = units(blob)
    for _ in range(count):
        start, _ = rng.choice(found)
        (total,) = struct.unpack_from(order + "I", blob, start + 4)
        kind = rng.choice(("short", "odd", "plus4", "minus4", "trailer", "zero", "both"))
        if kind == "trailer":
            data = _set32(blob, start + total - 4, total + 4, order)
        elif kind == "both":
            data = _set32(blob, start + 4, total + 4, order)
            data = (
                _set32(data, start + total, total + 4, order)
                if start + total + 4 <= len(data)
                else data
            )
        else:
            value = {"short": 8, "odd": total + 1, "plus4": total + 4, "minus4": total - 4}.get(
                kind, 0
            )
            data = _set32(blob, start + 4, value, order)
        yield Variant(f"blocklen:{kind}@{start}", data)


def swapped_headers(blob: bytes, rng: random.Random, count: int) -> Iterator[Variant]:
    """``count`` variants with one record header (or the file header) byte-swapped."""
    found = units(blob)
    for _ in range(count):
        if not found or rng.random() < 0.2:
            width = 24 if not is_pcapng(blob) else 28
            start = 0
        else:
            start, width = rng.choice(found)
            width = 16 if not is_pcapng(blob) else 8
        data = bytearray(blob)
        for at in range(start, min(start + width, len(blob)) - 3, 4):
            data[at : at + 4] = data[at : at + 4][::-1]
        yield Variant(f"swap@{start}", bytes(data))


def variants(blob: bytes, seed: int, per_kind: int = 6) -> list[Variant]:
    """Every truncation class of ``blob`` plus ``per_kind`` seeded variants of each other kind
    (at most 48 truncations: a sample when the file has many records)."""
    rng = random.Random(seed)
    cuts = list(truncations(blob))
    if len(cuts) > 48:
        cuts = [cuts[0], *rng.sample(cuts[1:], 47)]
    out = cuts
    out += flips(blob, rng, per_kind)
    out += huge_lengths(blob, rng, per_kind)
    out += bad_block_lengths(blob, rng, per_kind)
    out += swapped_headers(blob, rng, per_kind)
    return out


def raw_fractions_in_range(path: Path) -> bool:
    """True when every record of tcpdump's output (native pcap, microseconds) has a
    fraction below one second."""
    blob = path.read_bytes()
    pos = 24
    while pos + 16 <= len(blob):
        _, frac, caplen, _ = struct.unpack_from("=IIII", blob, pos)
        if frac >= 1_000_000:
            return False
        pos += 16 + caplen
    return True
