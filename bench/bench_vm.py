"""Packets per second: bpfc's interpreter against libpcap's bpf_filter through ctypes.

Run ``python bench/bench_vm.py [--packets N] [--repeat R]``.  The programs are the
ones the system libpcap compiles for a few common filters; the packets are a mix
of a few thousand distinct, realistic Ethernet frames (TCP/UDP/ICMP over IPv4 and
IPv6, 802.1Q-tagged traffic, ARP, IP options, runts), repeated.  Every path is
first checked to give libpcap's verdicts, then timed (best of ``--repeat``):

* ``single``  -- ``fn(packet)`` once per packet from a Python loop;
* ``batch``   -- one call, the loop inside the generated code, a verdict per packet;
* ``count``   -- one call, counting accepted packets;
* ``libpcap`` -- libpcap's ``bpf_filter`` via ctypes, once per packet.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
from collections.abc import Callable

from bpfc import libpcap, vm

EXPRESSIONS = ["tcp port 80", "host 10.0.0.1 and not port 22", "vlan 100 and udp port 53"]


def _ip4(rng: random.Random) -> bytes:
    if rng.random() < 0.2:
        return bytes([10, 0, 0, 1])
    return bytes([10, 0, rng.randrange(4), rng.randrange(256)])


def _l4(rng: random.Random, proto: int) -> bytes:
    port = rng.choice([80, 80, 443, 22, 53, 8080, rng.randrange(1024, 65536)])
    sport = rng.randrange(1024, 65536)
    if rng.random() < 0.5:
        sport, port = port, sport
    payload = bytes(rng.randrange(0, 64))
    if proto == 6:
        return (
            struct.pack("!HHIIBBHHH", sport, port, rng.getrandbits(32), 0, 0x50, 0x18, 512, 0, 0)
            + payload
        )
    if proto == 17:
        return struct.pack("!HHHH", sport, port, 8 + len(payload), 0) + payload
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + payload


def frame(rng: random.Random) -> bytes:
    """One realistic Ethernet frame."""
    eth = bytes.fromhex("00112233445566778899aabb")
    kind = rng.random()
    if kind < 0.03:
        return eth + b"\x08\x06" + bytes.fromhex("0001080006040001") + bytes(20)
    if kind < 0.05:
        return eth[: rng.randrange(6, 14)]  # runt
    vlan = b""
    if kind < 0.2:
        vlan = struct.pack("!HH", 0x8100, rng.choice([100, 100, 200]))
    proto = rng.choice([6, 6, 6, 17, 17, 1])
    if rng.random() < 0.2:  # IPv6
        nxt = 58 if proto == 1 else proto
        l4 = _l4(rng, proto)
        addr = bytes(15) + bytes([rng.randrange(4)])
        ip = struct.pack("!IHBB", 0x60000000, len(l4), nxt, 64) + addr + addr[::-1] + l4
        return eth + vlan + b"\x86\xdd" + ip
    options = bytes(4) if rng.random() < 0.05 else b""
    l4 = _l4(rng, proto)
    ihl = 5 + len(options) // 4
    head = struct.pack("!BBHHHBBH", 0x40 | ihl, 0, 20 + len(options) + len(l4), 1, 0, 64, proto, 0)
    return eth + vlan + b"\x08\x00" + head + _ip4(rng) + _ip4(rng) + options + l4


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--distinct", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not libpcap.available():
        print("libpcap is not available: nothing to compare with", file=sys.stderr)
        return 1
    rng = random.Random(1)
    distinct = [frame(rng) for _ in range(args.distinct)]
    packets = [distinct[i % len(distinct)] for i in range(args.packets)]
    items = [(p, None) for p in packets]
    n = len(packets)
    print(libpcap.version(), "| Python", sys.version.split()[0])
    print(f"{n} packets ({len(distinct)} distinct), best of {args.repeat}\n")
    header = f"{'program':32} {'insns':>5} {'accept':>7} {'single/s':>10} {'batch/s':>10}"
    header += f" {'count/s':>10} {'libpcap/s':>10} {'single/lib':>10} {'batch/lib':>9}"
    print(header)
    for expr in EXPRESSIONS:
        prog = libpcap.compile(expr)
        single, batch = vm.make_filter(prog), vm.make_batch_filter(prog)
        count, theirs = vm.make_batch_counter(prog), libpcap.make_bpf_filter(prog)
        expected = [theirs(p) for p in distinct]
        assert [single(p) for p in distinct] == expected, expr
        assert batch([(p, None) for p in distinct]) == expected, expr
        accepted = count(items)
        runs: list[Callable[[], object]] = [
            lambda f=single: [f(p) for p in packets],
            lambda f=batch: f(items),
            lambda f=count: f(items),
            lambda f=theirs: [f(p) for p in packets],
        ]
        rates = [n / best(run, args.repeat) for run in runs]
        row = f"{expr:32} {len(prog):>5} {accepted / n:>7.1%}"
        row += "".join(f" {r / 1e6:>9.2f}M" for r in rates)
        row += f" {rates[0] / rates[3]:>10.2f} {rates[1] / rates[3]:>9.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
