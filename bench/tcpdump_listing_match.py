"""How many of bpfc's listings are byte-identical to tcpdump's, on libpcap 1.10.3 and master.

    python bench/tcpdump_listing_match.py [--upstream] [--show N] [EXPR ...]

For each expression (a built-in set of 64 everyday filters, or with ``--upstream`` the
Ethernet accept cases of libpcap master's test suite read from ``../shared``), runs

* ``bpfc -O -d --flavor 1.10 EXPR`` against the installed ``tcpdump -O -d`` (Debian's
  libpcap 1.10.3), and ``bpfc -O -d EXPR`` against the same tcpdump running on libpcap
  master (``LD_LIBRARY_PATH``, see ``tests/support/oracles.py``);
* the same for ``-dd`` (no spacing differences: only the code can differ);
* ``bpfc -d EXPR`` (optimized) against ``tcpdump -d EXPR`` on both libraries (bpfc has
  its own optimizer, so these are expected to differ; the count says how often).

and prints, per comparison, how many listings are identical, how many differ, and how
many expressions one side refused.  The README's claims about byte-identical output
quote this script.  bpfc runs in-process (its CLI's ``main``), tcpdump as a process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

EVERYDAY = [
    "tcp", "udp", "icmp", "arp", "ip", "ip6", "tcp port 80", "port 53", "udp port 53",
    "tcp port 443 or tcp port 80", "host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.2",
    "net 192.168.0.0/16", "src net 10.0.0.0/8", "host 10.0.0.1 and port 22",
    "not port 22", "tcp and not port 22", "icmp or arp", "ip and udp",
    "tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "tcp[13] = 2", "icmp[icmptype] = icmp-echo", "ip[8] < 5", "ip[2:2] > 576",
    "len > 1000", "less 64", "greater 1500", "ether broadcast", "ether multicast",
    "ip broadcast", "ip multicast", "ip6 multicast", "ether host 00:11:22:33:44:55",
    "ether src 00:11:22:33:44:55", "vlan", "vlan 100", "vlan and tcp", "mpls",
    "pppoes", "ip proto 47", "proto gre", "ip6 and tcp port 443", "icmp6",
    "portrange 1000-2000", "tcp portrange 6000-6010", "udp and dst port 67",
    "src port 1024 and dst port 80", "host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3",
    "(tcp or udp) and port 53", "not (arp or icmp)", "ip host 10.0.0.1 and not tcp",
    "ether proto 0x88cc", "ether[12:2] = 0x0800", "udp[8:4] = 0x12345678",
    "ip6 host ::1", "ip6 net fe80::/10", "tcp and ip6", "ip and tcp port 25",
    "dst port 8080 and tcp", "ip and (tcp[20] = 0x47)", "udp port 4789",
    "tcp dst portrange 1-1023",
]  # fmt: skip
"""64 filters of the kind people type."""


def bpfc(*argv: str) -> tuple[int, str]:
    from bpfc.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exit_:
            status = int(exit_.code or 0)
    return status, out.getvalue()


def tcpdump(env: dict[str, str] | None, *argv: str) -> tuple[int, str]:
    done = subprocess.run(
        ["tcpdump", *argv], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    return done.returncode, done.stdout


def upstream_exprs() -> list[str]:
    path = ROOT.parent / "shared" / "corpus-upstream" / "libpcap-filtertests.jsonl"
    exprs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["kind"] != "accept" or case.get("special") or case["dlt"] != "EN10MB":
                continue
            if case.get("netmask") or case.get("snaplen") or case.get("linuxext"):
                continue
            exprs.append(case["expr"])
    return sorted(set(exprs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", action="store_true", help="libpcap master's accept cases")
    parser.add_argument("--show", type=int, default=0, help="print N differing expressions")
    parser.add_argument("exprs", nargs="*")
    args = parser.parse_args()
    if shutil.which("tcpdump") is None:
        raise SystemExit("tcpdump is not installed")
    from support.oracles import master_soname_dir

    soname, why = master_soname_dir()
    master_env = {"LD_LIBRARY_PATH": str(soname)} if soname else None
    exprs = args.exprs or (upstream_exprs() if args.upstream else EVERYDAY)
    comparisons = [
        ("-O -d  vs 1.10.3 (--flavor 1.10)", ["-O", "-d", "--flavor", "1.10"], None, ["-O", "-d"]),
        ("-O -dd vs 1.10.3", ["-O", "-dd"], None, ["-O", "-dd"]),
        ("-d     vs 1.10.3 (optimized, --flavor 1.10)", ["-d", "--flavor", "1.10"], None, ["-d"]),
    ]  # fmt: skip
    if master_env is not None:
        comparisons += [
            ("-O -d  vs master", ["-O", "-d"], master_env, ["-O", "-d"]),
            ("-O -dd vs master", ["-O", "-dd"], master_env, ["-O", "-dd"]),
            ("-d     vs master (optimized)", ["-d"], master_env, ["-d"]),
            ("--optimizer libpcap -d   vs master", ["--optimizer", "libpcap", "-d"], master_env,
             ["-d"]),
            ("--optimizer libpcap -ddd vs master", ["--optimizer", "libpcap", "-ddd"],
             master_env, ["-ddd"]),
        ]  # fmt: skip
    else:
        print(f"libpcap master not available ({why}): comparing with 1.10.3 only")
    print(f"{len(exprs)} expressions ({'upstream' if args.upstream else 'everyday'} set)")
    head = (
        f"{'comparison':<42} {'identical':>9} {'differ':>7}"
        f" {'both refuse':>12} {'only bpfc':>10} {'only tcpdump':>13}"
    )
    print(head)
    print("-" * len(head))
    for label, ours, env, theirs in comparisons:
        counts: Counter[str] = Counter()
        shown = 0
        for expr in exprs:
            their_status, their_text = tcpdump(env, *theirs, "-y", "EN10MB", expr)
            our_status, our_text = bpfc(*ours, "-y", "EN10MB", expr)
            if their_status and our_status:
                counts["both"] += 1
            elif our_status:
                counts["bpfc"] += 1
                if shown < args.show:
                    print(f"    only bpfc refuses: {expr}")
                    shown += 1
            elif their_status:
                counts["tcpdump"] += 1
            elif our_text == their_text:
                counts["identical"] += 1
            else:
                counts["differ"] += 1
                if shown < args.show:
                    print(f"    differs: {expr}")
                    shown += 1
        print(
            f"{label:<42} {counts['identical']:9} {counts['differ']:7} {counts['both']:12}"
            f" {counts['bpfc']:10} {counts['tcpdump']:13}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
