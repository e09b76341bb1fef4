"""Regenerate the corpus's expected data from a libpcap (never run in CI).

For every case of the topic files: compile with libpcap (optimized and not), build a
packet set with :mod:`bpfc.packetgen` steered by libpcap's programs, keep the packets
that drive each program down distinct paths (both verdicts first), pool them per topic
and link type into one capture file, and record libpcap's return value for every
packet of the pool.  The oracle is any libpcap build, by path (libpcap master, which bpfc
follows, by default in ``tools/regenerate_corpus.py``).  Cases the oracle cannot compile
are excluded, with the reason, in ``excluded.jsonl``; so are, when the oracle is a 1.10
release, the cases on which 1.10.3 is known to disagree with master.

Programs libpcap's in-process ``bpf_filter`` might not survive (``protochain``'s loop
jumps backwards) run in a child process with a time limit
(:meth:`bpfc.libpcap.Libpcap.bpf_filter_isolated`); a crash or a time-out excludes the case.

bpfc's own golden listings are not touched here (see :mod:`bpfc.corpus.golden`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import select
import subprocess
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bpfc.corpus.schema import Case, encode_verdicts, write_jsonl
from bpfc.corpus.topics import Source, load_topics

if TYPE_CHECKING:
    from bpfc.libpcap import Libpcap

#: expressions per case kept from its packet set, at most
PER_CASE = 8
#: packets steered toward each case's comparisons by packetgen.explore
STEERED = 40
NETMASK_UNKNOWN = 0xFFFFFFFF

#: (link type pattern, expression pattern, reason): libpcap 1.10.3 bugs fixed in master
#: (from corpus-upstream/README-libpcap.md); bpfc follows master, so with a 1.10 oracle
#: these would only record 1.10.3's bug (with master as the oracle they are recorded).
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


#: seconds an isolated ``bpf_filter`` may take on one packet before it counts as hung
PACKET_TIMEOUT = 5.0


def known_bug(src: Source, version: str = "1.10.3") -> str | None:
    """Why ``src`` is left out as a known 1.10 bug, when the oracle's ``version`` is 1.10."""
    if not version.startswith("1.10."):
        return None
    for lt_pat, expr_pat, reason in KNOWN_1_10_3_BUGS:
        if re.fullmatch(lt_pat, src.linktype) and re.search(expr_pat, src.expr):
            return reason
    return None


def _netmask(text: str | None) -> int:
    if text is None:
        return NETMASK_UNKNOWN
    a, b, c, d = (int(p) for p in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _listing(lib: Libpcap, insns: Sequence[Sequence[int]]) -> list[str]:
    from bpfc.corpus.schema import compact

    return compact(lib.bpf_image(insn, n) for n, insn in enumerate(insns))


_STREAM_CHILD = """
import json, sys
from bpfc import libpcap
lib = libpcap.library(sys.argv[1] or None)._load()
arr = libpcap._to_array(json.loads(sys.stdin.readline()))
for line in sys.stdin:
    hexdata, wirelen = line.split()
    data = bytes.fromhex(hexdata.strip("-"))
    print(int(lib.bpf_filter(arr, data, int(wirelen), len(data))), flush=True)
"""


class IsolatedFilter:
    """libpcap's ``bpf_filter`` over one program in a child process, one packet at a time
    with a time limit each: a packet on which the program never returns (``protochain``'s
    loop, on headers that lead it back to where it was) or crashes the child gets None,
    and the next packet goes to a fresh child.  For programs the in-process call cannot
    be trusted with (:meth:`bpfc.libpcap.Libpcap.unsafe_reason`)."""

    def __init__(self, lib: Libpcap, insns: Sequence[Sequence[int]], timeout: float) -> None:
        self.lib, self.insns, self.timeout = lib, [list(map(int, i)) for i in insns], timeout
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _STREAM_CHILD, self.lib.path or ""],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(self.insns) + "\n")
        return self.proc

    def _stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()

    def __call__(self, pkts: Sequence[Any]) -> list[int | None]:
        out: list[int | None] = []
        try:
            for pkt in pkts:
                proc = self._start()
                assert proc.stdin is not None and proc.stdout is not None
                try:
                    proc.stdin.write(f"{bytes(pkt.data).hex() or '-'} {pkt.wirelen}\n")
                    proc.stdin.flush()
                except OSError:
                    self._stop()
                    out.append(None)
                    continue
                ready, _, _ = select.select([proc.stdout], [], [], self.timeout)
                line = proc.stdout.readline() if ready else ""
                if not line:  # hung, or died
                    self._stop()
                    out.append(None)
                    continue
                out.append(int(line))
        finally:
            self._stop()
        return out


def _judge(lib: Libpcap, insns: list) -> Callable[[Sequence[Any]], list[int | None]]:
    """``judge(packets) -> return values`` with libpcap's bpf_filter: in-process where
    that is safe, else in a child process (:class:`IsolatedFilter`: None for a packet on
    which the program hangs or crashes)."""
    if lib.unsafe_reason(insns) is None:
        run = lib.make_bpf_filter(insns)
        return lambda pkts: [run(p.data, p.wirelen) for p in pkts]
    return IsolatedFilter(lib, insns, PACKET_TIMEOUT)


def _select(lib: Libpcap, src: Source, opt: list, unopt: list) -> list[Any]:
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
    for pkt, value in zip(candidates, _judge(lib, opt)(candidates), strict=True):
        if value is None:  # libpcap's program never returns on it: no verdict to record
            continue
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


def regenerate(
    root: Path,
    only: str | None = None,
    log: Callable[[str], None] = print,
    libpcap_path: str | None = None,
) -> dict:
    """Rewrite expected/, packets/, excluded.jsonl and meta.json of the corpus in ``root``
    with the libpcap at ``libpcap_path`` as the oracle (None: the system's)."""
    from bpfc import libpcap
    from bpfc.capture.pcap import PcapWriter
    from bpfc.linktypes import lookup

    lib = libpcap.library(libpcap_path)
    short = version_short(lib.version())
    sources = [s for s in load_topics(root / "topics") if only is None or s.topic == only]
    excluded: list[dict[str, Any]] = []
    kept: list[tuple[Source, list, list]] = []
    groups: dict[str, list[Any]] = {}
    for src in sources:
        reason = known_bug(src, short)
        if reason is None:
            try:
                mask = _netmask(src.netmask)
                unopt = lib.compile(src.expr, src.linktype, src.snaplen, False, mask)
                opt = lib.compile(src.expr, src.linktype, src.snaplen, True, mask)
            except libpcap.LibpcapError as err:
                reason = f"libpcap {short} rejects it: {err}"
        if reason is not None:
            excluded.append({"id": src.id, "expr": src.expr, "linktype": src.linktype,
                             "reason": reason})  # fmt: skip
            continue
        group = groups.setdefault(f"{src.topic}-{src.linktype}", [])
        have = {(p.data, p.wirelen) for p in group}
        for pkt in _select(lib, src, opt, unopt):
            if (pkt.data, pkt.wirelen) not in have:
                group.append(pkt)
                have.add((pkt.data, pkt.wirelen))
        kept.append((src, opt, unopt))
    dropped = _drop_hanging(lib, kept, groups, log)
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for src, opt, unopt in kept:
        group_name = f"{src.topic}-{src.linktype}"
        pkts = groups[group_name]
        got_opt, got_unopt = _judge(lib, opt)(pkts), _judge(lib, unopt)(pkts)
        if None in got_opt or None in got_unopt:  # hung now, though not when pruning
            why = f"libpcap {short}'s program hangs on a packet of its set"
            excluded.append({"id": src.id, "expr": src.expr, "linktype": src.linktype,
                             "reason": why})  # fmt: skip
            continue
        verdicts, returns = encode_verdicts(got_opt, src.snaplen)
        case = Case(src.id, src.expr, src.linktype, group_name, verdicts, tuple(_listing(lib, opt)),
                    tuple(_listing(lib, unopt)), snaplen=src.snaplen, netmask=src.netmask,
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
        "libpcap": lib.version(),
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": "python tools/regenerate_corpus.py",
        "cases": sum(len(r) for r in by_topic.values()),
        "excluded": len(excluded),
        "packets": sum(len(p) for p in groups.values()),
        "packets_dropped_hanging": dropped,
        "linktypes": sorted({s.linktype for s, _, _ in kept}),
    }
    (root / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    log(f"{meta['cases']} cases, {meta['excluded']} excluded, {meta['packets']} packets")
    return meta


def _drop_hanging(
    lib: Libpcap,
    kept: list[tuple[Source, list, list]],
    groups: dict[str, list[Any]],
    log: Callable[[str], None],
) -> int:
    """Remove from each pool the packets on which a case's libpcap program never returns
    (they have no verdict to record, for any case of the pool); return how many."""
    dropped = 0
    for src, opt, unopt in kept:
        if lib.unsafe_reason(opt) is None and lib.unsafe_reason(unopt) is None:
            continue
        name = f"{src.topic}-{src.linktype}"
        pkts = groups[name]
        values = zip(_judge(lib, opt)(pkts), _judge(lib, unopt)(pkts), strict=True)
        keep = [
            p for p, (o, u) in zip(pkts, values, strict=True) if o is not None and u is not None
        ]
        if len(keep) != len(pkts):
            log(
                f"  {src.id}: libpcap's program hangs on {len(pkts) - len(keep)} "
                f"packet(s) of {name}: dropped"
            )
            dropped += len(pkts) - len(keep)
            groups[name] = keep
    return dropped


def version_short(text: str) -> str:
    """``'1.10.3'`` from ``pcap_lib_version()``'s sentence."""
    match = re.search(r"\d+\.\d+\.\d+\S*", text)
    return match.group(0) if match else text
