"""Regenerate the corpus's expected data from the system libpcap (never run in CI).

For every case of the topic files: compile with libpcap (optimized and not), build a
packet set with :mod:`bpfc.packetgen` steered by libpcap's programs, keep the packets
that drive each program down distinct paths (both verdicts first), pool them per topic
and link type into one capture file, and record libpcap's return value for every
packet of the pool.  Cases libpcap cannot compile, and cases on which libpcap 1.10.3 is known
to disagree with libpcap master are excluded, with the reason, in ``excluded.jsonl``.

bpfc's own golden listings are not touched here (see :mod:`bpfc.corpus.golden`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bpfc.corpus.schema import Case, encode_verdicts, write_jsonl
from bpfc.corpus.topics import Source, load_topics

#: expressions per case kept from its packet set, at most
PER_CASE = 8
#: packets steered toward each case's comparisons by packetgen.explore
STEERED = 40
NETMASK_UNKNOWN = 0xFFFFFFFF

#: (link type pattern, expression pattern, reason): libpcap 1.10.3 bugs fixed in master
#: (from corpus-upstream/README-libpcap.md); bpfc follows master, so these would only
#: record 1.10.3's bug.
KNOWN_1_10_3_BUGS: tuple[tuple[str, str, str], ...] = (
    (r"MTP2|MTP3|MTP2_WITH_PHDR|ERF", r"\b(h?(sio|dpc|opc|sls))\s*!=", "1.10.3 compiles != as =="),
    (r"SUNATM", r"\b(vpi|vci)\s*!=", "1.10.3 compiles != as =="),
    (r"ARCNET.*", r"\$[0-9a-fA-F]+", "1.10.3 parses ARCnet $XX addresses as 0xd0"),
    (r".*", r"\bip\s+multicast\b", "1.10.3 takes ip[16] >= 224 (class E too); master 224/4"),
    (r"ARCNET.*", r"^(?!link ).*", "1.10.3 reads RFC 1051 type codes with RFC 1201 offsets"),
    (r"C_HDLC", r"\bcsnp\b", "1.10.3 reads csnp at the wrong offset on C_HDLC"),
    (r"SLIP.*", r"\boutbound\b", "1.10.3 tests the wrong direction value on SLIP"),
    (r".*", r"0xffffffff\s*!=", "1.10.3's optimizer treats jset #0xffffffff as always true"),
    (r".*", r"\bbyte\s+\d+\s*[&|]", "1.10.3 drops the load of byte & and byte |"),
    (r".*", r"\bgateway\b", "1.10.3 lacks gateway on IPv6-enabled builds"),
)


def known_bug(src: Source) -> str | None:
    for lt_pat, expr_pat, reason in KNOWN_1_10_3_BUGS:
        if re.fullmatch(lt_pat, src.linktype) and re.search(expr_pat, src.expr):
            return reason
    return None


def _netmask(text: str | None) -> int:
    if text is None:
        return NETMASK_UNKNOWN
    a, b, c, d = (int(p) for p in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _listing(insns: Sequence[Sequence[int]]) -> list[str]:
    from bpfc import libpcap
    from bpfc.corpus.schema import compact

    return compact(libpcap.bpf_image(insn, n) for n, insn in enumerate(insns))


def _judge(insns: list) -> Callable[[Sequence[Any]], list[int]]:
    """``judge(packets) -> return values`` with libpcap's bpf_filter (in-process: callers
    have checked the program is safe there)."""
    from bpfc import libpcap

    run = libpcap.make_bpf_filter(insns)
    return lambda pkts: [run(p.data, p.wirelen) for p in pkts]


def _select(src: Source, opt: list, unopt: list) -> list[Any]:
    """Up to PER_CASE packets of ``src``'s packet set that take distinct paths."""
    from bpfc.packetgen import packet_set
    from bpfc.packetgen.explore import trace

    seed = zlib.crc32(src.id.encode())
    try:
        candidates = packet_set(src.expr, src.linktype, [opt, unopt], seed=seed, steered=STEERED)
    except Exception as err:  # noqa: BLE001 - the generator's gaps are reported, not fatal
        print(f"  packetgen failed on {src.id}: {err!r}", file=sys.stderr)
        return []
    by_verdict: dict[bool, list[Any]] = {True: [], False: []}
    seen: set[tuple] = set()
    for pkt, value in zip(candidates, _judge(opt)(candidates), strict=True):
        accepted = bool(value)
        key = (accepted, tuple(trace(opt, pkt.data, pkt.wirelen)))
        if key not in seen:
            seen.add(key)
            by_verdict[accepted].append(pkt)
    chosen: list[Any] = []
    accepts, rejects = by_verdict[True], by_verdict[False]
    while len(chosen) < PER_CASE and (accepts or rejects):  # alternate: both verdicts first
        for pool in (accepts, rejects):
            if pool and len(chosen) < PER_CASE:
                chosen.append(pool.pop(0))
    return chosen


def regenerate(root: Path, only: str | None = None, log: Callable[[str], None] = print) -> dict:
    """Rewrite expected/, packets/, excluded.jsonl and meta.json of the corpus in ``root``."""
    from bpfc import libpcap
    from bpfc.capture.pcap import PcapWriter
    from bpfc.linktypes import lookup

    sources = [s for s in load_topics(root / "topics") if only is None or s.topic == only]
    excluded: list[dict[str, Any]] = []
    kept: list[tuple[Source, list, list]] = []
    groups: dict[str, list[Any]] = {}
    for src in sources:
        reason = known_bug(src)
        if reason is None:
            try:
                mask = _netmask(src.netmask)
                unopt = libpcap.compile(src.expr, src.linktype, src.snaplen, False, mask)
                opt = libpcap.compile(src.expr, src.linktype, src.snaplen, True, mask)
            except libpcap.LibpcapError as err:
                reason = f"libpcap {version_short(libpcap.version())} rejects it: {err}"
        if reason is None:
            try:
                libpcap.make_bpf_filter(opt)
                libpcap.make_bpf_filter(unopt)
            except libpcap.LibpcapError as err:
                # protochain's loop jumps backwards: libpcap's bpf_filter follows it, but it
                # can run away on crafted headers, so no verdicts are recorded for it
                reason = f"libpcap's program is unsafe to run in-process ({err})"
        if reason is not None:
            excluded.append({"id": src.id, "expr": src.expr, "linktype": src.linktype,
                             "reason": reason})  # fmt: skip
            continue
        group = groups.setdefault(f"{src.topic}-{src.linktype}", [])
        have = {(p.data, p.wirelen) for p in group}
        for pkt in _select(src, opt, unopt):
            if (pkt.data, pkt.wirelen) not in have:
                group.append(pkt)
                have.add((pkt.data, pkt.wirelen))
        kept.append((src, opt, unopt))
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for src, opt, unopt in kept:
        group_name = f"{src.topic}-{src.linktype}"
        pkts = groups[group_name]
        got_opt, got_unopt = _judge(opt)(pkts), _judge(unopt)(pkts)
        verdicts, returns = encode_verdicts(got_opt, src.snaplen)
        case = Case(src.id, src.expr, src.linktype, group_name, verdicts, tuple(_listing(opt)),
                    tuple(_listing(unopt)), snaplen=src.snaplen, netmask=src.netmask,
                    accept=src.snaplen, returns=returns)  # fmt: skip
        if got_unopt != got_opt:  # the optimizer may drop or add a load past the end
            case = dataclasses.replace(case, returns_unopt=tuple(got_unopt))
        by_topic.setdefault(src.topic, []).append(case.to_json())
    for name, pkts in groups.items():
        row = lookup(name.split("-", 1)[1])
        path = root / "packets" / f"{name}.pcap"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            writer = PcapWriter(out, row.linktype if row.linktype is not None else row.dlt)
            for n, pkt in enumerate(pkts):
                writer.write(n * 1_000_000, pkt.wirelen, pkt.data)
    for topic, rows in by_topic.items():
        write_jsonl(root / "expected" / f"{topic}.jsonl", rows)
    if only is not None:
        log(f"{only}: {sum(len(r) for r in by_topic.values())} cases, {len(excluded)} excluded")
        return {}
    write_jsonl(root / "excluded.jsonl", excluded)
    meta = {
        "libpcap": libpcap.version(),
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": "python tools/regenerate_corpus.py",
        "cases": sum(len(r) for r in by_topic.values()),
        "excluded": len(excluded),
        "packets": sum(len(p) for p in groups.values()),
        "linktypes": sorted({s.linktype for s, _, _ in kept}),
    }
    (root / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    log(f"{meta['cases']} cases, {meta['excluded']} excluded, {meta['packets']} packets")
    return meta


def version_short(text: str) -> str:
    """``'1.10.3'`` from ``pcap_lib_version()``'s sentence."""
    match = re.search(r"\d+\.\d+\.\d+\S*", text)
    return match.group(0) if match else text
