"""Generate a large mixed Ethernet capture for the filter benchmark.

``python bench/make_capture.py OUT [COUNT] [--seed N]`` writes COUNT packets (default
1,000,000) as a microsecond pcap file with snaplen 256: IPv4 and IPv6 carrying TCP, UDP
and ICMP/ICMPv6 on a spread of well-known and random ports, 802.1Q-tagged IPv4, and ARP.
Packets longer than the snaplen are cut (caplen < wire length), as a real capture's are.
The mix is drawn from a fixed pool of templates with a seeded generator, so a given
(COUNT, seed) always gives the same file.
"""

from __future__ import annotations

import argparse
import random
import struct

SNAPLEN = 256
PORTS = [22, 53, 80, 123, 443, 993, 3306, 5353, 8080, 8443]


def _ether(ethertype: int, payload: bytes, vlan: int | None = None) -> bytes:
    head = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb"
    if vlan is not None:
        head += struct.pack(">HH", 0x8100, vlan)
    return head + struct.pack(">H", ethertype) + payload


def _l4(rng: random.Random, proto: int) -> bytes:
    sport = rng.choice(PORTS) if rng.random() < 0.3 else rng.randrange(1024, 65536)
    dport = rng.choice(PORTS) if rng.random() < 0.7 else rng.randrange(1, 65536)
    body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 8, 40, 120, 400, 1200])))
    if proto == 6:
        flags = rng.choice([0x02, 0x12, 0x10, 0x18, 0x11, 0x04])
        return (
            struct.pack(
                ">HHIIBBHHH", sport, dport, rng.getrandbits(32), 0, 0x50, flags, 65535, 0, 0
            )
            + body
        )
    if proto == 17:
        return struct.pack(">HHHH", sport, dport, 8 + len(body), 0) + body
    return struct.pack(">BBHHH", rng.choice([0, 8, 3, 11]), 0, 0, 1, 1) + body[:56]


def _ipv4(rng: random.Random, proto: int) -> bytes:
    l4 = _l4(rng, proto)
    frag = 0x2000 * (rng.random() < 0.02)
    return (
        struct.pack(
            ">BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(l4),
            rng.getrandbits(16),
            frag,
            rng.choice([1, 64, 128, 255]),
            proto,
            0,
            bytes([10, rng.randrange(4), rng.randrange(256), rng.randrange(256)]),
            bytes([192, 168, rng.randrange(4), rng.randrange(256)]),
        )
        + l4
    )


def _ipv6(rng: random.Random, proto: int) -> bytes:
    l4 = _l4(rng, 58 if proto == 1 else proto)
    return (
        struct.pack(
            ">IHBB16s16s",
            0x60000000,
            len(l4),
            58 if proto == 1 else proto,
            64,
            b"\x20\x01\x0d\xb8" + rng.randbytes(12),
            b"\xfe\x80" + bytes(6) + rng.randbytes(8),
        )
        + l4
    )


def _arp(rng: random.Random) -> bytes:
    return struct.pack(
        ">HHBBH6s4s6s4s",
        1,
        0x800,
        6,
        4,
        rng.choice([1, 2]),
        rng.randbytes(6),
        bytes([10, 0, 0, rng.randrange(256)]),
        bytes(6),
        bytes([10, 0, 0, rng.randrange(256)]),
    )


def template(rng: random.Random) -> bytes:
    kind = rng.random()
    proto = rng.choices([6, 17, 1], weights=[6, 3, 1])[0]
    if kind < 0.70:
        return _ether(0x800, _ipv4(rng, proto))
    if kind < 0.88:
        return _ether(0x86DD, _ipv6(rng, proto))
    if kind < 0.96:
        return _ether(0x800, _ipv4(rng, proto), vlan=rng.randrange(1, 4095))
    return _ether(0x806, _arp(rng))


def write_capture(path: str, count: int, seed: int = 1) -> int:
    """Write ``count`` packets to ``path``; return the file size."""
    rng = random.Random(seed)
    pool = [template(rng) for _ in range(4096)]
    records = struct.Struct("<IIII")
    size = 24
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, 1))
        batch: list[bytes] = []
        sec, usec = 1_700_000_000, 0
        for i in range(count):
            frame = pool[rng.getrandbits(12)]
            data = frame[:SNAPLEN]
            usec += 1 + (i & 7)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            batch.append(records.pack(sec, usec, len(data), max(len(frame), 60)))
            batch.append(data)
            size += 16 + len(data)
            if len(batch) >= 65536:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("count", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    size = write_capture(args.out, args.count, args.seed)
    print(f"{args.out}: {args.count} packets, {size} bytes")


if __name__ == "__main__":
    main()
