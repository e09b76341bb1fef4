"""Benchmark ``bpfc filter -r f -w out EXPR`` against ``tcpdump -r f -w out EXPR``.

``python bench/bench_filter.py [--packets N] [--small N] [--dir DIR]`` generates (once) a
mixed capture of N packets (default 1,000,000) with :mod:`make_capture`, then for each
filter runs tcpdump, bpfc with the batch engine and bpfc with the per-packet engine as
separate processes, and prints a table:

* whole-process wall time and CPU time (user + system, from ``wait4``) of each;
* the throughput ratio bpfc/tcpdump (tcpdump's time divided by bpfc's), wall and CPU;
* whether the output files are identical (bytes, else packet by packet);
* the engines' own rates in millions of packets/s, by wall-clock / CPU time (filtering
  only, without interpreter start-up and compiling);
* peak RSS of each process, and of the batch engine on a file a quarter the size, to
  show that memory stays flat as the file grows (the file is mapped, not read in).

The machine may be shared: CPU time is the steadier measure, wall time the honest one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_capture import write_capture  # noqa: E402

FILTERS = [
    "tcp port 80",
    "udp and not port 53",
    "ip6 and tcp",
    "tcp[tcpflags] & tcp-syn != 0",
    "vlan and udp",
    "arp or icmp",
    "ip[8] < 64 and (tcp dst port 443 or udp dst port 5353)",
]


TIME = shutil.which("time") or "/usr/bin/time"


def run(cmd: list[str], check: bool = True) -> tuple[float, float, int, str]:
    """``(wall s, cpu s, peak RSS KiB, stderr)`` of one process.

    GNU time measures it when installed (a child forked from this Python process would
    otherwise inherit this process's peak RSS); ``wait4`` otherwise.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        wrapped = [TIME, "-q", "-f", "%e %U %S %M", "-o", report.name, *cmd]
        use_time = os.path.exists(TIME)
        started = time.perf_counter()
        proc = subprocess.Popen(
            wrapped if use_time else cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code and check:
            raise SystemExit(f"{cmd[0]} failed ({code}): {err.strip()}")
        if code:
            return -1.0, -1.0, -1, err
        if use_time:
            fields = report.read().split()
            return wall, float(fields[1]) + float(fields[2]), int(fields[3]), err
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, err


def program_args(bpfc: list[str], work: Path, capture: Path, expr: str) -> tuple[list[str], str]:
    """``[EXPR]``, or ``--program FILE`` from ``tcpdump -ddd`` when bpfc cannot compile it yet."""
    wall, _, _, err = run([*bpfc, "-q", "--count", "-c", "1", "-r", str(capture), expr], False)
    if wall >= 0:
        return [expr], ""
    listing = subprocess.run(
        ["tcpdump", "-y", "EN10MB", "-ddd", expr], capture_output=True, text=True, check=True
    ).stdout
    path = work / f"prog-{abs(hash(expr))}.ddd"
    path.write_text(listing)
    return ["--program", str(path)], err.strip().splitlines()[0]


def engine_rate(stderr: str) -> str:
    """The engine's own rate, wall-clock / CPU time, in packets per second."""
    match = re.search(r"engine, [\d.]+ s, ([\d,]+) packets/s; cpu [\d.]+ s, ([\d,]+)", stderr)
    if not match:
        return "?"
    wall, cpu = (int(g.replace(",", "")) for g in match.groups())
    return f"{wall / 1e6:.2f}/{cpu / 1e6:.2f}M"


def same_output(a: Path, b: Path) -> str:
    if a.read_bytes() == b.read_bytes():
        return "bytes"
    from bpfc.capture import read_packets

    pa = [p[1:3] + p[5:] for p in read_packets(a)]
    pb = [p[1:3] + p[5:] for p in read_packets(b)]
    return "packets" if pa == pb else "DIFFERENT"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=250_000)
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "bpfc-bench"))
    parser.add_argument("--filters", nargs="*", default=FILTERS)
    args = parser.parse_args()
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        raise SystemExit("tcpdump is not installed")
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    big, small = work / f"mixed-{args.packets}.pcap", work / f"mixed-{args.small}.pcap"
    for path, count in ((big, args.packets), (small, args.small)):
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            write_capture(str(path), count)
    bpfc = [sys.executable, "-m", "bpfc", "filter"]
    empty = work / "empty.pcap"
    write_capture(str(empty), 0)
    base = [*bpfc, "-r", str(empty), "-w", os.devnull, "tcp port 80"]
    base_wall, base_cpu, _, _ = run(base)
    batch_wall, batch_cpu, _, _ = run([*base[:4], "--engine", "batch", *base[4:]])
    print(
        f"{args.packets:,} packets, {big.stat().st_size / 1e6:.0f} MB; "
        f"bpfc start-up + compile on an empty file: {base_wall:.2f} s wall, {base_cpu:.2f} s cpu"
        f" ({batch_wall:.2f} s wall, {batch_cpu:.2f} s cpu with the batch engine's numpy)"
    )
    head = (
        f"{'filter':<52} {'match':>7} {'tcpdump':>13} {'bpfc batch':>13} {'ratio':>11}"
        f" {'same':>6} {'batch pkt/s':>12} {'packet pkt/s':>12} {'RSS MB t/b/p':>14}"
    )
    print(head)
    print("-" * len(head))
    notes = []
    progs = {}
    for expr in args.filters:
        out_t, out_b, out_p = work / "t.pcap", work / "b.pcap", work / "p.pcap"
        prog, note = progs[expr] = program_args(bpfc, work, empty, expr)
        if note:
            notes.append(f"{expr!r}: program from tcpdump -ddd ({note})")
        tw, tc, tr, _ = run([tcpdump, "-r", str(big), "-w", str(out_t), expr])
        bw, bc, br, berr = run([*bpfc, "-r", str(big), "-w", str(out_b), *prog])
        _, _, pr, perr = run([*bpfc, "--engine", "packet", "-r", str(big), "-w", str(out_p), *prog])
        same = same_output(out_t, out_b)
        same_p = same_output(out_t, out_p)
        matched = re.search(r"(\d+) matched", berr)
        print(
            f"{expr:<52} {int(matched.group(1)) if matched else -1:>7}"
            f" {tw:5.2f}s/{tc:5.2f}c {bw:5.2f}s/{bc:5.2f}c {tw / bw:4.2f}/{tc / bc:4.2f}c"
            f" {same if same == same_p else same + '/' + same_p:>6}"
            f" {engine_rate(berr):>12} {engine_rate(perr):>12}"
            f" {tr / 1024:4.0f}/{br / 1024:4.0f}/{pr / 1024:4.0f}"
        )
    for note in notes:
        print("note:", note)
    expr = args.filters[0]
    rss = {}
    for path in (small, big):
        for engine in ("batch", "packet"):
            _, _, peak, _ = run(
                [
                    *bpfc,
                    "--engine",
                    engine,
                    "-r",
                    str(path),
                    "-w",
                    str(work / "r.pcap"),
                    *progs[expr][0],
                ]
            )
            rss[(path, engine)] = peak / 1024
    print(
        f"\npeak RSS, {expr!r}: batch {rss[(small, 'batch')]:.0f} MB at {args.small:,} packets"
        f" vs {rss[(big, 'batch')]:.0f} MB at {args.packets:,}; per-packet"
        f" {rss[(small, 'packet')]:.0f} vs {rss[(big, 'packet')]:.0f} MB"
    )
    floor_table(tcpdump, big, args.filters[0])
    return 0


_WALK = """
import sys
from bpfc.capture.pcap import PcapReader
with PcapReader(sys.argv[1]) as reader:
    print(sum(len(offsets) for offsets, _ in reader.record_runs()))
"""


def floor_table(tcpdump: str, big: Path, expr: str) -> None:
    """What any Python process pays before filtering a single packet, against tcpdump's whole run.

    Three processes, best of three each: the bare interpreter (``python -c pass``), the
    interpreter importing numpy (the batch engine's array library), and bpfc's own record
    walk over the file with nothing else (the offsets of every record, which the batch
    engine needs; a pure-Python loop, one step per record). When numpy's import plus the
    walk already exceed twice tcpdump's time, no batch engine in Python reaches half of
    tcpdump's whole-process throughput on this file, whatever it does per packet.
    """
    py = sys.executable

    def best(cmd: list[str]) -> float:
        return min(run(cmd)[0] for _ in range(3))

    tcpdump_wall = best([tcpdump, "-r", str(big), "-w", os.devnull, expr])
    bare = best([py, "-c", "pass"])
    numpy_wall = best([py, "-c", "import numpy"])
    walk = best([py, "-c", _WALK, str(big)])
    floor = numpy_wall + walk - bare
    print(
        f"\nfloor (best of 3, wall): tcpdump whole run {tcpdump_wall:.3f} s ({expr!r});"
        f" python -c pass {bare:.3f} s; import numpy {numpy_wall:.3f} s;"
        f" record walk alone (python + walk) {walk:.3f} s;"
        f" import numpy + walk {floor:.3f} s = {tcpdump_wall / floor:.2f}x tcpdump's throughput"
        " before any filtering or writing"
    )


if __name__ == "__main__":
    raise SystemExit(main())
