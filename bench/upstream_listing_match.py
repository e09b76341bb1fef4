"""Progress meter: how many upstream accept cases bpfc compiles, and how many of its
unoptimized listings equal libpcap master's ``expected_unopt`` exactly, per DLT.

    python bench/upstream_listing_match.py [--dlt EN10MB] [--show 5] [--corpus DIR]

Identical unoptimized code means identical verdicts, so this is the cheapest strong
check of the code generator.  Prints a table (DLT, cases, compiled, matched).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_cases(corpus: Path, dlt: str | None = None) -> list[dict]:
    cases = []
    with open(corpus / "libpcap-filtertests.jsonl", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] != "accept" or case.get("special"):
                continue
            # other operating systems' variants, and savefile-mode code (not modelled)
            if case.get("locally_skipped_by_libpcap_testsuite_on_linux"):
                continue
            if case.get("generate_offline_filter"):
                continue
            if dlt is not None and case["dlt"] != dlt:
                continue
            cases.append(case)
    return cases


def unopt_listing(case: dict, resolver: object = None) -> list[str]:
    """bpfc's unoptimized ``-d`` listing for an upstream accept case."""
    from bpfc.compiler import build_cfg
    from bpfc.emit import linearize
    from bpfc.isa.dump import dump

    root, _ = build_cfg(
        case["expr"],
        case["dlt"],
        int(case.get("snaplen") or 262144),
        case.get("netmask"),
        linux=bool(case.get("linuxext")),
        resolver=resolver,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dump(linearize(root), "d").rstrip("\n").split("\n")


class FixtureResolver:
    """The test suite's hosts/ethers/networks lines (case-insensitive), no DNS."""

    def __init__(self, fixtures: dict) -> None:
        self.hosts: dict[str, list[str]] = collections.defaultdict(list)
        self.ethers: dict[str, bytes] = {}
        self.networks: dict[str, str] = {}
        for line in fixtures.get("hosts", []):
            addr, *names = line.split()
            for name in names:
                self.hosts[name.lower()].append(addr)
        for line in fixtures.get("ethers", []):
            mac, name = line.split()[:2]
            self.ethers.setdefault(name.lower(), bytes(int(x, 16) for x in mac.split(":")))
        for line in fixtures.get("networks", []):
            name, addr = line.split()[:2]
            self.networks[name.lower()] = addr

    def host(self, name: str) -> list[str]:
        return list(self.hosts.get(name.lower(), []))

    def ether(self, name: str) -> bytes | None:
        return self.ethers.get(name.lower())

    def network(self, name: str) -> str | None:
        return self.networks.get(name.lower())


def fixture_resolver(corpus: Path) -> object:
    """A resolver over the upstream test suite's name-service fixture lines."""
    aux = json.loads((corpus / "libpcap-filtertests-aux.json").read_text(encoding="utf-8"))
    return FixtureResolver(aux["name_service_fixtures"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpus = os.environ.get("BPFC_UPSTREAM", ROOT.parent / "shared" / "corpus-upstream")
    parser.add_argument("--corpus", type=Path, default=Path(default_corpus))
    parser.add_argument("--dlt", default=None)
    parser.add_argument("--show", type=int, default=0, help="print N mismatches per DLT")
    parser.add_argument("--errors", type=int, default=0, help="print N compile errors per DLT")
    args = parser.parse_args(argv)
    resolver = fixture_resolver(args.corpus)
    totals: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    shown: collections.Counter[str] = collections.Counter()
    errs: collections.Counter[str] = collections.Counter()
    for case in load_cases(args.corpus, args.dlt):
        row = totals[case["dlt"]]
        row[0] += 1
        try:
            got = unopt_listing(case, resolver)
        except Exception as err:  # noqa: BLE001 - counted, optionally shown
            if errs[case["dlt"]] < args.errors:
                errs[case["dlt"]] += 1
                print(f"ERR {case['dlt']} {case['expr']!r}: {type(err).__name__}: {err}")
            continue
        row[1] += 1
        if got == case["expected_unopt"]:
            row[2] += 1
        elif shown[case["dlt"]] < args.show:
            shown[case["dlt"]] += 1
            print(f"--- {case['dlt']} {case['expr']!r}")
            width = max(len(case["expected_unopt"]), len(got))
            exp = case["expected_unopt"] + [""] * (width - len(case["expected_unopt"]))
            for a, b in zip(exp, got + [""] * (width - len(got)), strict=True):
                print(("   " if a == b else " ! ") + f"{a:<50} | {b}")
    print(f"{'DLT':<26} {'cases':>6} {'compiled':>9} {'matched':>8}")
    grand = [0, 0, 0]
    for dlt, (n, c, m) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        print(f"{dlt:<26} {n:>6} {c:>9} {m:>8}")
        grand = [grand[0] + n, grand[1] + c, grand[2] + m]
    print(f"{'TOTAL':<26} {grand[0]:>6} {grand[1]:>9} {grand[2]:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
