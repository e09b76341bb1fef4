"""Program size, expression by expression: bpfc's compiler against libpcap's optimizer.

    python bench/size_vs_libpcap.py [--corpus-only | --upstream-only] [--list N]

Two sets, each compiled by bpfc from the expression text (parse, codegen, optimizer),
not from libpcap's listing:

* the project's golden corpus (corpus/): bpfc's recorded listing against libpcap
  1.10.3's optimized listing recorded beside it;
* libpcap master's accept cases (../shared/corpus-upstream/): bpfc against master's
  optimized listing (the suite's hosts/ethers/networks fixtures serve the names).

For each set: total instructions and the ratio, and every expression where bpfc's
program is larger, split in two.  libpcap's optimizer sometimes drops a load that can
fail, so its optimized program accepts short packets its own unoptimized program
rejects; bpfc keeps the meaning of the unoptimized program (docs/optimizer.md), and
such a case cannot be matched in size without changing a verdict.  The script looks
for a packet proving it (targeted packets, steered packets and all their truncations,
run through libpcap's two programs with bpfc's interpreter) and lists the case as
"libpcap changes a verdict" with that packet; the others are bpfc's real losses.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UPSTREAM = ROOT.parent / "shared" / "corpus-upstream"


def witness(expr: str, dlt: str, opt: Sequence, unopt: Sequence, names=None) -> str | None:
    """A packet (hex, with its capture length) on which libpcap's two programs differ."""
    from bpfc.opt.verify import sample
    from bpfc.packetgen import LINKTYPES, noise_packets, targeted_packets
    from bpfc.packetgen.explore import explore
    from bpfc.vm import make_filter

    if dlt in LINKTYPES:
        try:
            seeds = targeted_packets(expr, dlt, random_count=20, truncated=4, names=names)
        except Exception:  # noqa: BLE001 - a generator gap only means fewer packets
            seeds = []
    else:
        import random

        seeds = noise_packets(dlt, random.Random(expr), 30)
    packets = [(bytes(p.data), p.wirelen) for p in seeds + explore([opt, unopt], seeds, limit=200)]
    # and random bytes at the offsets the programs load (bit patterns the targeted set
    # does not plant, such as high bits a mask removes)
    packets += [(data, len(data)) for data in sample(list(opt) + list(unopt), count=200)]
    f_opt, f_unopt = make_filter(opt), make_filter(unopt)
    for data, wirelen in packets:
        for cut in range(len(data), -1, -1):
            part = data[:cut]
            if f_opt(part, wirelen) != f_unopt(part, wirelen):
                return f"{cut}/{wirelen} bytes: {part.hex()}"
    return None


def report(title: str, rows: list, names, n: int) -> None:
    """``rows``: (id, expr, dlt, ours, theirs, libpcap opt, libpcap unopt, bpfc unopt or None).

    A larger case is "libpcap changes a verdict" when libpcap's own two programs differ on
    a packet, "another meaning" when bpfc's unoptimized program differs from libpcap's
    (the corpus was recorded with 1.10.3; bpfc follows master where master changed the
    code), and bpfc's loss otherwise."""
    ours = sum(r[3] for r in rows)
    theirs = sum(r[4] for r in rows)
    forced, lost, changed = [], [], []
    for rid, expr, dlt, mine, lib, opt, unopt, ours_unopt in rows:
        if mine <= lib:
            continue
        proof = witness(expr, dlt, opt, unopt, names)
        if proof:
            forced.append((mine - lib, dlt, expr, rid, proof))
            continue
        proof = witness(expr, dlt, ours_unopt, unopt, names) if ours_unopt else None
        (changed if proof else lost).append((mine - lib, dlt, expr, rid, proof))
    print(f"## {title}: {len(rows)} expressions\n")
    print("| libpcap optimized | bpfc | bpfc / libpcap | larger: libpcap changes a verdict |"
          " larger: another meaning | larger: bpfc's loss |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {theirs} | {ours} | {ours / theirs:.3f} | {len(forced)} (+{sum(f[0] for f in forced)})"
        f" | {len(changed)} (+{sum(f[0] for f in changed)})"
        f" | {len(lost)} (+{sum(f[0] for f in lost)}) |\n"
    )
    if lost:
        print("bpfc larger, libpcap's optimizer keeps the meaning (bpfc's real losses):")
        for d, dlt, expr, rid, _ in sorted(lost, key=lambda r: (-r[0], r[3]))[:n]:
            print(f"- +{d} {dlt} `{expr}` ({rid})")
        print()
    if changed:
        print("bpfc larger, its meaning not this libpcap's (master changed it; packet shown):")
        for d, dlt, expr, rid, proof in sorted(changed, key=lambda r: (-r[0], r[3]))[:n]:
            print(f"- +{d} {dlt} `{expr}` ({rid}): {proof[:100]}")
        print()
    if forced:
        print("bpfc larger, libpcap's optimized program changes a verdict (packet shown):")
        for d, dlt, expr, rid, proof in sorted(forced, key=lambda r: (-r[0], r[3]))[:n]:
            print(f"- +{d} {dlt} `{expr}` ({rid}): {proof[:100]}")
        print()


def _bpfc_unopt(rec: dict) -> list | None:
    """bpfc's unoptimized program for a corpus case (its snaplen and netmask)."""
    import ipaddress

    import bpfc
    from bpfc.errors import BpfcError

    mask = rec.get("netmask")
    try:
        return list(
            bpfc.compile(
                rec["expr"], linktype=rec["linktype"], snaplen=rec.get("snaplen", 262144),
                netmask=None if mask is None else int(ipaddress.IPv4Address(mask)),
                optimize=False,
            )
        )  # fmt: skip
    except BpfcError:
        return None


def corpus_rows() -> list:
    from bpfc.isa.listing_reader import parse_listing

    golden = {}
    for path in glob.glob(str(ROOT / "corpus" / "golden" / "*.jsonl")):
        for line in open(path, encoding="utf-8"):
            rec = json.loads(line)
            golden[rec["id"]] = rec
    rows = []
    for path in sorted(glob.glob(str(ROOT / "corpus" / "expected" / "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            rec = json.loads(line)
            mine = golden.get(rec["id"], {}).get("opt")
            if mine is None or not rec.get("libpcap_opt"):
                continue
            if isinstance(mine, str):  # "=libpcap_opt": the same listing as libpcap's
                mine = rec[mine[1:]]
            opt = parse_listing("\n".join(rec["libpcap_opt"]))
            unopt = parse_listing("\n".join(rec["libpcap_unopt"]))
            row = (rec["id"], rec["expr"], rec["linktype"], len(mine), len(opt), opt, unopt)
            rows.append(row + (_bpfc_unopt(rec) if len(mine) > len(opt) else None,))
    return rows


def _applies_on_linux(rec: dict) -> bool:
    """False for the cases libpcap's own test suite skips on Linux (other OSes' constants,
    live-capture extensions, savefile byte orders); tests/support/upstream_cases.py says why."""
    if rec.get("locally_skipped_by_libpcap_testsuite_on_linux") or rec.get("linuxext"):
        return False
    if rec.get("generate_offline_filter"):
        return False
    for req in rec.get("requires") or []:
        if req.startswith("os_in:") and "linux" not in req[6:].split("|"):
            return False
        if req in ("os_not:linux", "big_endian_host", "protochain_disabled"):
            return False
    return True


def upstream_rows() -> tuple[list, object]:
    import bpfc
    from bpfc.errors import BpfcError
    from bpfc.isa.listing_reader import parse_listing
    from bpfc.names import StaticResolver
    from bpfc.packetgen import names_from_fixtures

    aux = json.loads((UPSTREAM / "libpcap-filtertests-aux.json").read_text())
    fx = aux["name_service_fixtures"]
    resolver = StaticResolver(fx["hosts"], fx["ethers"], fx["networks"])
    names = names_from_fixtures(fx["hosts"], fx["ethers"], fx["networks"])
    rows = []
    for line in open(UPSTREAM / "libpcap-filtertests.jsonl", encoding="utf-8"):
        rec = json.loads(line)
        if rec["kind"] != "accept" or rec.get("special") or not rec.get("expected_opt"):
            continue
        if not _applies_on_linux(rec):
            continue
        try:
            prog = bpfc.compile(
                rec["expr"], linktype=rec["dlt"], snaplen=rec.get("snaplen", 262144),
                netmask=rec.get("netmask"), resolver=resolver,
            )  # fmt: skip
            opt = parse_listing("\n".join(rec["expected_opt"]))
            unopt = parse_listing("\n".join(rec["expected_unopt"]))
        except BpfcError:
            continue  # protochain's backward jump, or an expression bpfc rejects on Linux
        ours_unopt = None
        if len(prog) > len(opt):
            ours_unopt = bpfc.compile(
                rec["expr"], linktype=rec["dlt"], snaplen=rec.get("snaplen", 262144),
                netmask=rec.get("netmask"), resolver=resolver, optimize=False,
            )  # fmt: skip
        rows.append(
            (rec["id"], rec["expr"], rec["dlt"], len(prog), len(opt), opt, unopt, ours_unopt)
        )
    return rows, names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-only", action="store_true")
    parser.add_argument("--upstream-only", action="store_true")
    parser.add_argument("--list", type=int, default=40, help="cases listed per kind")
    args = parser.parse_args()
    if not args.upstream_only:
        report("project corpus vs libpcap 1.10.3", corpus_rows(), None, args.list)
    if not args.corpus_only:
        if not UPSTREAM.exists():
            print(f"(upstream accept cases skipped: {UPSTREAM} is absent)")
        else:
            rows, names = upstream_rows()
            report("upstream accept cases vs libpcap master", rows, names, args.list)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
