"""Shared by the pflog, SunATM and SS7 code generation tests.

* :func:`corpus_cases`: upstream accept/reject records of some link types (or whose
  expression uses some keywords), applicable on Linux;
* :func:`listing`: bpfc's ``-d`` listing of an expression, as lines;
* :func:`verdict`: bpfc's return value for one packet (programs cached per expression);
* :func:`disagreements`: packets on which bpfc and the system libpcap (1.10.3) differ
  (extra packets, plus the differential harness's targeted and steered ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import bpfc
from bpfc.isa.dump import dump_d
from bpfc.packetgen import Packet
from support.differential import Rejected, bpfc_runner, check, default_packets, libpcap_compile
from support.upstream_cases import cases, resolver

SNAPLEN = 262144


def corpus_cases(
    upstream: Path, kind: str, dlts: Iterable[str] = (), words: Iterable[str] = ()
) -> list[dict]:
    """Applicable ``kind`` records on one of ``dlts`` or using one of the ``words``."""
    dlts, words = set(dlts), tuple(words)
    pattern = re.compile(r"\b(" + "|".join(words) + r")\b") if words else None
    return [
        rec
        for rec in cases(upstream, kind)
        if rec["dlt"] in dlts or (pattern is not None and pattern.search(rec["expr"]))
    ]


def listing(expr: str, dlt: str, upstream: Path | None = None, optimize: bool = False) -> list[str]:
    """bpfc's listing (``upstream``: resolve names with the suite's fixtures)."""
    names = resolver(upstream) if upstream is not None else None
    prog = bpfc.compile(expr, linktype=dlt, optimize=optimize, resolver=names)
    return dump_d([tuple(i) for i in prog]).splitlines()


@cache
def _runner(expr: str, dlt: str, optimize: bool):  # noqa: ANN202 - a filter function
    prog = bpfc.compile(expr, linktype=dlt, optimize=optimize)
    return bpfc_runner([tuple(i) for i in prog])


def verdict(expr: str, dlt: str, data: bytes, optimize: bool = False) -> int:
    """What bpfc's program returns for ``data`` (captured whole)."""
    return _runner(expr, dlt, optimize)(data, len(data))


def disagreements(
    expr: str, dlt: str, extra: Iterable[bytes] = (), optimize: tuple[bool, ...] = (False, True)
) -> list[str]:
    """bpfc vs the system libpcap on ``extra`` packets plus the harness's targeted and
    steered ones; each disagreement as text."""
    refs = []
    for opt in optimize:
        try:
            refs.append(libpcap_compile(expr, dlt, SNAPLEN, opt, None))
        except Rejected:  # check() compares the refusals themselves
            pass
    packets = [Packet(data, len(data), "extra") for data in extra]
    try:
        packets += default_packets(expr, dlt, refs)
    except ValueError:  # no packetgen framing for this link type: the extra packets only
        pass
    return [str(p) for p in check(expr, dlt, packets=packets, optimize=optimize)]
