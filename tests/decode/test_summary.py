"""bpfc's one-line packet decode (:mod:`bpfc.decode`) against ``tcpdump -n -r``.

Three layers of evidence:

* every packet of the upstream captures with a supported link type: each line bpfc
  claims exact (``Line.exact``) must equal tcpdump's, byte for byte;
* seeded mutations of those packets (truncated, overwritten, random tails) written to
  fresh pcap files: the same claim must hold for malformed packets;
* hypothesis: random bytes on every supported link type never make the printer raise.

The tcpdump comparisons skip where tcpdump or the shared corpus is absent; the literal
lines of the unit tests below were checked against tcpdump 4.99.3.
"""

from __future__ import annotations

import collections
import os
import random
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.capture.common import Packet
from bpfc.capture.reader import open_capture
from bpfc.cli import main
from bpfc.decode import Summarizer, timestamp
from bpfc.decode.link import PRINTERS

TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")
#: a packet's first line in tcpdump's default output starts with its time
STAMP = re.compile(r"^(\d\d:\d\d:\d\d|\d+)\.\d{6} ")
#: files libpcap does not read to the end as bpfc does: invalid record timestamps
#: (fractions >= 1 s: libpcap prints the raw field, ``.1000000``, bpfc's readers have
#: already normalised it) and a record with a zero wire length (libpcap 1.10 reports
#: "Invalid header" and goes on without that packet)
UNREADABLE = {"timestamp_invalid_nano.pcap", "rsvp-rsvp_obj_print-oobr.pcap"}


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for bpfc and tcpdump alike."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _tcpdump_lines(path: Path, *extra: str) -> list[str]:
    """tcpdump's output, one entry per packet (continuation lines joined with newlines)."""
    done = subprocess.run(
        [TCPDUMP, "-n", "-r", str(path), *extra],
        capture_output=True,
        text=True,
        errors="replace",
        env={**os.environ, "TZ": "UTC"},
        timeout=120,
    )
    lines: list[str] = []
    for line in done.stdout.splitlines():
        if STAMP.match(line) or not lines:
            lines.append(line)
        else:
            lines[-1] += "\n" + line
    return lines


def _packet(linktype: int, data: bytes, wirelen: int | None = None, ts_ns: int = 0) -> Packet:
    wire = len(data) if wirelen is None else wirelen
    return Packet(ts_ns, len(data), wire, linktype, 0, memoryview(data))


def _supported(path: Path) -> list[Packet] | None:
    try:
        with open_capture(path) as reader:
            packets = [p._replace(data=memoryview(bytes(p.data))) for p in reader]
    except (ValueError, OSError):
        return None
    if not packets or any(p.linktype not in PRINTERS for p in packets):
        return None
    return packets


@needs_tcpdump
def test_upstream_captures_equal_tcpdump(upstream: Path, utc: None) -> None:
    """Every line bpfc claims exact equals tcpdump's; the rest are known differences."""
    compared = identical = 0
    inexact: collections.Counter[str] = collections.Counter()
    mismatches = []
    for path in sorted((upstream / "pcaps").glob("*.pcap*")):
        if path.name in UNREADABLE:
            continue
        packets = _supported(path)
        if packets is None:
            continue
        theirs = _tcpdump_lines(path)
        assert len(theirs) == len(packets), path.name
        printer = Summarizer(strict=True)
        for packet, want in zip(packets, theirs, strict=True):
            line = printer.line(packet)
            if not line.exact:
                inexact[path.name] += 1
                continue
            compared += 1
            if line.text == want:
                identical += 1
            else:
                mismatches.append((path.name, line.text, want))
    assert not mismatches, mismatches[:5]
    assert compared > 3300 and identical == compared
    assert sum(inexact.values()) < compared  # the rest: link, IP and application protocols


def _mutants(pool: list[bytes], rng: random.Random, count: int) -> list[tuple[bytes, int]]:
    """Corpus packets cut short, overwritten in their headers, or given random tails."""
    out = []
    for _ in range(count):
        data = bytearray(rng.choice(pool))
        roll = rng.random()
        if roll < 0.4:
            data = data[: rng.randrange(len(data) + 1)]
        elif roll < 0.5:
            cut = rng.randrange(len(data) + 1)
            data = data[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(60)))
        elif roll < 0.8:
            for _ in range(rng.randint(1, 4)):
                where = rng.randrange(min(len(data), rng.choice([40, 80, 200])) or 1)
                if where < len(data):
                    data[where] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[: rng.randrange(len(data) + 1)]
        data = bytes(data) or b"\0"  # libpcap refuses a zero caplen
        out.append((data, len(data) + rng.choice([0, 0, 0, 10, 1000])))
    return out


@needs_tcpdump
@pytest.mark.parametrize("linktype", [0, 1, 101, 113, 228, 229])
def test_mutated_packets_equal_tcpdump(
    upstream: Path, tmp_path: Path, utc: None, linktype: int
) -> None:
    """Malformed and truncated packets: the markers and messages are tcpdump's."""
    pool = []
    for path in sorted((upstream / "pcaps").glob("*.pcap*")):
        packets = _supported(path) or []
        pool += [bytes(p.data) for p in packets[:100] if p.linktype == linktype]
    assert pool
    rng = random.Random(linktype)
    mutants = _mutants(pool, rng, 600)
    path = tmp_path / "mutants.pcap"
    with open(path, "wb") as handle:
        handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for i, (data, wire) in enumerate(mutants):
            handle.write(struct.pack("<IIII", 1000 + i, 0, len(data), wire) + data)
    theirs = {line[:15]: line for line in _tcpdump_lines(path)}  # each second is unique
    printer = Summarizer(strict=True)
    compared = 0
    for i, (data, wire) in enumerate(mutants):
        line = printer.line(_packet(linktype, data, wire, (1000 + i) * 10**9))
        if line.exact:
            compared += 1
            assert line.text == theirs[line.text[:15]], data.hex()
    assert compared > 100


def _tcp_options(rng: random.Random) -> bytes:
    """A run of TCP options: mostly well formed, sometimes not."""
    out = b""
    for _ in range(rng.randrange(6)):
        kind = rng.choice([0, 1, 1, 2, 3, 4, 5, 8, 19, 28, 30, 34, 99])
        if kind in (0, 1):
            out += bytes([kind])
        elif kind == 5:
            blocks = rng.randrange(4)
            out += bytes([5, 2 + 8 * blocks + rng.choice([0, 0, 0, 1])])
            out += bytes(rng.randrange(256) for _ in range(8 * blocks))
        else:
            size = {2: 4, 3: 3, 4: 2, 8: 10, 19: 18, 28: 4}.get(kind, rng.randrange(2, 12))
            size = size if rng.random() < 0.9 else rng.randrange(0, 20)
            out += bytes([kind, size]) + bytes(rng.randrange(256) for _ in range(max(size - 2, 0)))
    return out[:40]


def _dns_name(rng: random.Random, earlier: list[int]) -> bytes:
    """A name: labels (some with odd bytes), maybe ending in a compression pointer."""
    out = b""
    for _ in range(rng.randrange(4)):
        size = rng.choice([1, 3, 7, 20, 63])
        alphabet = b"abcdefghij-0123" if rng.random() < 0.9 else bytes(range(256))
        out += bytes([size]) + bytes(rng.choice(alphabet) for _ in range(size))
    if earlier and rng.random() < 0.4:
        return out + struct.pack(">H", 0xC000 | rng.choice(earlier))
    return out + b"\0"


def _dns_message(rng: random.Random, tcp: bool) -> bytes:
    """A DNS query or response: questions, answers of common and rare types, EDNS."""
    flags = rng.randrange(65536) if rng.random() < 0.3 else rng.choice([0x0100, 0x8180, 0x8583])
    sections = [rng.choice([0, 1, 1, 1, 2]), rng.randrange(4), rng.randrange(2)]
    sections.append(rng.choice([0, 0, 1, 2]))
    body = b""
    earlier = [12]
    for _ in range(sections[0]):
        earlier.append(12 + len(body))
        body += _dns_name(rng, earlier[:-1]) + struct.pack(
            ">HH", rng.choice([1, 28, 12, 255, 65, 999]), rng.choice([1, 1, 3, 0x8001])
        )
    for _ in range(sum(sections[1:])):
        kind = rng.choice([1, 28, 5, 2, 12, 15, 16, 33, 6, 41, 46, 1234])
        if kind == 1:
            rdata = bytes(rng.randrange(256) for _ in range(4))
        elif kind == 28:
            rdata = bytes(rng.randrange(256) for _ in range(16))
        elif kind in (5, 2, 12):
            rdata = _dns_name(rng, earlier)
        elif kind == 15:
            rdata = struct.pack(">H", rng.randrange(100)) + _dns_name(rng, earlier)
        elif kind == 33:
            rdata = struct.pack(">HHH", 1, 2, rng.randrange(65536)) + _dns_name(rng, earlier)
        elif kind == 16:
            rdata = b"\x05hello\x03a\x01b"
        elif kind == 41:
            rdata = b"" if rng.random() < 0.7 else b"\x00\x0a\x00\x08" + bytes(8)
        else:
            rdata = bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
        klass = 4096 if kind == 41 else rng.choice([1, 1, 0x8001, 3])
        ttl = rng.choice([0, 3600, 0x8000_0000])
        body += _dns_name(rng, earlier) + struct.pack(">HHIH", kind, klass, ttl, len(rdata)) + rdata
    message = struct.pack(">HH4H", rng.randrange(65536), flags, *sections) + body
    if tcp:
        prefix = len(message) if rng.random() < 0.9 else rng.randrange(65536)
        message = struct.pack(">H", prefix) + message
    return message


#: payloads for the text printers (HTTP, SMTP, FTP, SSH, telnet)
TEXTS = (
    b"GET / HTTP/1.1\r\nHost: x\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    b"SSH-2.0-x\n",
    b"220 mail.example ESMTP\r\n",
    b"USER anonymous\r\n\r\n",
    b"\xff\xfd\x18\xff\xfb\x01",
    b"text\twith\ttabs\rand CR\n",
)


def _transport(rng: random.Random, proto: int, v6: bool) -> bytes:
    junk = bytes(rng.randrange(256) for _ in range(rng.choice([0, 4, 12, 30, 60])))
    if proto in (6, 17) and rng.random() < 0.3:
        junk = _dns_message(rng, proto == 6)
    ports = [rng.randrange(65536), 80, 8080, 123, 53, 443, 22, 7, 1024, 5353, 53, 5353]
    ports += [21, 22, 23, 25, 43, 179, 67, 68, 514]
    if proto == 6:
        options = _tcp_options(rng)
        options += bytes(-len(options) % 4)
        offset = 5 + len(options) // 4 if rng.random() < 0.9 else rng.randrange(16)
        payload = (
            junk if rng.random() < 0.7 else b"GET / HTTP/1.1\r\nHost: x\r\n"[: rng.randrange(30)]
        )
        header = struct.pack(
            ">HHIIBBHHH",
            rng.choice(ports),
            rng.choice(ports),
            rng.randrange(1 << 32),
            rng.randrange(1 << 32),
            offset << 4,
            rng.randrange(256),
            rng.randrange(65536),
            0,
            rng.randrange(65536),
        )
        return header + options + payload
    if proto == 17:
        if rng.random() < 0.2:  # syslog-like text
            junk = rng.choice([b"<13>hello", b"<191>x", b"<999>", b"<1234>", b"<", b"<a>"])
        ulen = 8 + len(junk) if rng.random() < 0.8 else rng.randrange(40)
        return struct.pack(">HHHH", rng.choice(ports), rng.choice(ports), ulen, 0) + junk
    kinds = [0, 3, 4, 5, 8, 11, 12, 13, 17, 18, rng.randrange(256)]
    if proto == 2:  # IGMP
        kinds = [0x11, 0x12, 0x16, 0x17, 0x22, 0x13, rng.randrange(256)]
    if proto == 112:  # VRRP
        kinds = [0x21, 0x31, 0x22, 0x11, rng.randrange(256)]
    if proto == 58:
        kinds = [1, 2, 3, 4, 128, 129, 130, 131, 133, 135, 136, 137, 143, 144, rng.randrange(256)]
    quoted = b""
    if rng.random() < 0.5:  # a quoted IPv4 header, as errors carry
        quoted = struct.pack(
            ">BBHHHBBH4s4s",
            0x45,
            0,
            60,
            0,
            0,
            9,
            rng.choice([6, 17, 1]),
            0,
            b"\1\2\3\4",
            b"\5\6\7\x08",
        ) + bytes([0, 80, 0, 53])
    if proto == 47:  # GRE, carrying IPv4, IPv6, Ethernet or something else
        flags = rng.choice(
            [0, 0x2000, 0x1000, 0x3000, 0x8000, 0xB000, 0x4000, 1, rng.randrange(65536)]
        )
        kind = rng.choice([0x0800, 0x86DD, 0x6558, 0x883E, 0x8847, rng.randrange(65536)])
        fields = bytes(rng.randrange(256) for _ in range(4 * bin(flags & 0xB000).count("1")))
        inner = quoted if kind == 0x0800 and quoted else junk
        if kind == 0x6558:
            inner = bytes(12) + b"\x08\x00" + (quoted or junk)
        return struct.pack(">HH", flags, kind) + fields + inner
    body = bytes([rng.choice(kinds), rng.randrange(17)]) + bytes(
        rng.randrange(256) for _ in range(6)
    )
    return body + (quoted or junk)


def _synthetic(rng: random.Random) -> tuple[int, bytes, int]:
    """A random IPv4/IPv6 packet (TCP, UDP, ICMP, ICMPv6, other) on a random link type."""
    v6 = rng.random() < 0.35
    proto = rng.choice([6, 6, 17, 17, 1, 58, 2, 112, 47, rng.randrange(256)])
    segment = _transport(rng, proto, v6)
    if v6:
        nh, ext = proto, b""
        roll = rng.random()
        if roll < 0.15:  # Hop-by-Hop with a Router Alert
            nh, ext = 0, bytes([proto, 0, 5, 2, 0, 0, 1, 0])
        elif roll < 0.25:  # destination options (PadN)
            nh, ext = 60, bytes([proto, 0, 1, 4, 0, 0, 0, 0])
        elif roll < 0.35:  # a fragment header, first or later fragment
            nh, ext = 44, bytes([proto, 0, 0, rng.choice([0, 1, 8, 0x81]), 0, 0, 0, 7])
        elif roll < 0.4:  # a routing header
            nh, ext = 43, bytes([proto, 0, 0, 0, 0, 0, 0, 0])
        plen = len(ext + segment) if rng.random() < 0.9 else rng.randrange(100)
        net = struct.pack(">IHBB", 0x60000000, plen, nh, 64) + bytes(15) + b"\1"
        net += bytes.fromhex("fe80000000000000020000fffe000002") + ext + segment
    else:
        options = bytes([1] * 4 * rng.choice([0, 0, 0, 1, 2])) if rng.random() < 0.9 else b""
        ihl = 5 + len(options) // 4 if rng.random() < 0.95 else rng.randrange(16)
        total = 20 + len(options + segment) if rng.random() < 0.9 else rng.randrange(120)
        frag = rng.choice([0, 0, 0, 0x4000, 0x2000, 0x2000 | 7, 12])
        net = (
            struct.pack(
                ">BBHHHBBH4s4s",
                0x40 | ihl,
                0,
                total,
                1,
                frag,
                64,
                proto,
                0,
                b"\x0a\0\0\1",
                b"\xc0\xa8\1\2",
            )
            + options
            + segment
        )
    linktype = rng.choice([1, 113, 101, 0, 276, 108])
    kind = b"\x86\xdd" if v6 else b"\x08\x00"
    if linktype in (1, 113) and rng.random() < 0.1:  # an MPLS label stack
        labels = b""
        for _ in range(rng.randrange(1, 4)):
            label = rng.choice([0, 2, 3, 16, 1024, rng.randrange(1 << 20)])
            labels += struct.pack(">I", label << 12 | rng.randrange(8) << 9 | rng.randrange(256))
        labels = labels[:-4] + struct.pack(">I", struct.unpack(">I", labels[-4:])[0] | 0x100)
        net = labels + net if rng.random() < 0.9 else labels[:-4] + net
        kind = b"\x88\x47"
    elif linktype in (1, 113) and rng.random() < 0.2:  # a VLAN tag (two, now and then)
        kind = b"\x81\x00" + bytes([0, rng.randrange(256)]) + kind
        if rng.random() < 0.2:
            kind = b"\x81\x00\x00\x07" + kind
    sll2 = kind[:2] + struct.pack(">HIHBB", 0, rng.choice([1, 2, 999]), 1, rng.randrange(8), 6)
    link = {
        1: bytes(12) + kind,
        113: bytes(14) + kind,
        101: b"",
        0: struct.pack("<I", 30 if v6 else 2),
        108: struct.pack(">I", 24 if v6 else 2),
        276: sll2 + bytes(8) + kind[2:],
    }[linktype]
    data = link + net
    if rng.random() < 0.3:
        data = data[: rng.randrange(1, len(data) + 1)]
    return linktype, data, len(link + net) + rng.choice([0, 0, 0, 6])


@needs_tcpdump
@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_packets_equal_tcpdump(tmp_path: Path, utc: None, seed: int) -> None:
    """Random TCP/UDP/ICMP/ICMPv6 headers, options and truncations, one file per link type."""
    rng = random.Random(seed)
    by_link: dict[int, list[tuple[bytes, int]]] = collections.defaultdict(list)
    for _ in range(1500):
        linktype, data, wire = _synthetic(rng)
        by_link[linktype].append((data, wire))
    compared = 0
    for linktype, packets in sorted(by_link.items()):
        path = tmp_path / f"synthetic-{linktype}.pcap"
        with open(path, "wb") as handle:
            handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
            for i, (data, wire) in enumerate(packets):
                handle.write(struct.pack("<IIII", 1000 + i, 0, len(data), wire) + data)
        theirs = {line[:15]: line for line in _tcpdump_lines(path)}
        printer = Summarizer(strict=True)
        for i, (data, wire) in enumerate(packets):
            line = printer.line(_packet(linktype, data, wire, (1000 + i) * 10**9))
            if line.exact:
                compared += 1
                assert line.text == theirs[line.text[:15]], (linktype, data.hex())
    assert compared > 1000


@given(
    linktype=st.sampled_from(sorted(PRINTERS)),
    data=st.binary(max_size=120),
    extra=st.integers(0, 70000),
)
def test_random_bytes_never_raise(linktype: int, data: bytes, extra: int) -> None:
    line = Summarizer(strict=True).line(_packet(linktype, data, len(data) + extra))
    assert "\n" not in line.text and line.text.startswith(timestamp(0))


@given(payload=st.binary(min_size=0, max_size=60), cut=st.integers(0, 200))
def test_truncated_tcp_keeps_the_marker(payload: bytes, cut: int) -> None:
    """A TCP segment cut anywhere in its header prints ``[|tcp]`` (never raises)."""
    packet = bytes.fromhex(HANDSHAKE[0]) + payload
    line = Summarizer(strict=True).body(_packet(113, packet[: 16 + 20 + min(cut, 40)], 200))
    assert line.text.startswith("IP ")
    if cut < 40:
        assert line.text.endswith("[|tcp]") or line.text.endswith("[|tcp]>")


#: the first three packets of tcpdump's tcp-handshake-nano.pcap (Linux cooked v1)
HANDSHAKE = [
    "000402000000000000000000000008004500003c29a940004006db5f839bd7458974515eb64000502f842acb"
    "00000000a0026a4050c40000020405500402080a436a03620000000001030307",
    "000002000000000000000000000008004500003c1c4440007506b3c48974515e839bd7450050b640b7839f90"
    "2f842acca012200086480000020405a0010303080402080a0df5af50436a0362",
    "000402000000000000000000000008004500003429aa40004006db66839bd7458974515eb64000502f842acc"
    "b7839f91801000d5d40c00000101080a436a03820df5af50",
]


def test_relative_sequence_numbers_and_options() -> None:
    """tcpdump prints the third-way ACK relative to the SYN-ACK it saw."""
    printer = Summarizer()
    lines = [printer.body(_packet(113, bytes.fromhex(h))).text for h in HANDSHAKE]
    assert lines == [
        "IP 131.155.215.69.46656 > 137.116.81.94.80: Flags [S], seq 797190859, win 27200,"
        " options [mss 1360,sackOK,TS val 1131021154 ecr 0,nop,wscale 7], length 0",
        "IP 137.116.81.94.80 > 131.155.215.69.46656: Flags [S.], seq 3078856592,"
        " ack 797190860, win 8192, options [mss 1440,nop,wscale 8,sackOK,"
        "TS val 234205008 ecr 1131021154], length 0",
        "IP 131.155.215.69.46656 > 137.116.81.94.80: Flags [.], ack 1, win 213,"
        " options [nop,nop,TS val 1131021186 ecr 234205008], length 0",
    ]
    # a fresh summarizer has not seen the SYN-ACK: the ACK number is absolute
    assert "ack 3078856593," in Summarizer().body(_packet(113, bytes.fromhex(HANDSHAKE[2]))).text


def test_arp_vlan_and_generic_lines() -> None:
    arp = (
        bytes.fromhex("ffffffffffff0020d25afb3f88a800c8810007d10806")
        + bytes.fromhex("00010800060400010020d25afb3fac154f61000000000000ac154f64")
        + bytes(18)
    )
    line = Summarizer().body(_packet(1, arp))
    assert line == ("ARP, Request who-has 172.21.79.100 tell 172.21.79.97, length 46", True)
    lldp = bytes.fromhex("0180c200000e00000000000188cc") + bytes(46)
    line = Summarizer().body(_packet(1, lldp))
    assert line == ("ethertype LLDP (0x88cc), length 46", False)
    assert Summarizer().body(_packet(231, b"abc", 10)) == ("DBUS, length 10", False)
    assert Summarizer().body(_packet(147, b"", 0)) == ("USER0, length 0", False)
    assert Summarizer().body(_packet(100, b"", 0)) == ("ATM_RFC1483, length 0", False)
    assert Summarizer().body(_packet(4000, b"", 0)) == ("LINKTYPE_4000, length 0", False)


def test_udp_application_ports_are_generic_and_inexact() -> None:
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 36, 0, 0, 64, 17, 0, b"\1\2\3\4", b"\5\6\7\x08")
    snmp = Summarizer().body(_packet(101, ip + struct.pack(">HHHH", 1234, 161, 16, 0) + bytes(8)))
    assert snmp == ("IP 1.2.3.4.1234 > 5.6.7.8.161: UDP, length 8", False)
    other = Summarizer().body(_packet(101, ip + struct.pack(">HHHH", 1234, 999, 16, 0) + bytes(8)))
    assert other == ("IP 1.2.3.4.1234 > 5.6.7.8.999: UDP, length 8", True)


def test_dns_query_and_response() -> None:
    """The lines tcpdump prints for dns_udp.pcap's query and a reply with two addresses."""

    def ip(udp: bytes) -> bytes:
        addresses = b"\1\2\3\4\5\6\7\x08"
        return struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0) + addresses + udp

    query = struct.pack(">HH4H", 22836, 0x0100, 1, 0, 0, 1) + b"\x03www\x07tcpdump\x03org\x00"
    query += struct.pack(">HH", 1, 1) + b"\x00" + struct.pack(">HHIH", 41, 4096, 0, 0)
    udp = struct.pack(">HHHH", 43966, 53, 8 + len(query), 0) + query
    line = Summarizer().body(_packet(101, ip(udp)))
    assert line == ("IP 1.2.3.4.43966 > 5.6.7.8.53: 22836+ [1au] A? www.tcpdump.org. (44)", True)
    reply = struct.pack(">HH4H", 22836, 0x8580, 1, 2, 0, 0) + b"\x03www\x07tcpdump\x03org\x00"
    reply += struct.pack(">HH", 1, 1)
    for address in (b"\xc0\x8b\x2e\x42", b"\xc6\xc7\x58\x68"):
        reply += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + address
    udp = struct.pack(">HHHH", 53, 43966, 8 + len(reply), 0) + reply
    line = Summarizer().body(_packet(101, ip(udp)))
    want = "IP 1.2.3.4.53 > 5.6.7.8.43966: 22836* 2/0/0 A 192.139.46.66, A 198.199.88.104"
    assert line == (f"{want} ({len(reply)})", True)


def test_ipv6_addresses_print_like_tcpdump() -> None:
    from bpfc.decode.common import ip6

    cases = {
        "00000000000000000000000000000000": "::",
        "00000000000000000000ffff01020304": "::ffff:1.2.3.4",
        "00000000000000000000000001020304": "::1.2.3.4",
        "00010000000000010000000000000001": "1:0:0:1::1",
        "20010db8000000010001000100010001": "2001:db8:0:1:1:1:1:1",
        "fe800000000000000000000000000001": "fe80::1",
    }
    for raw, text in cases.items():
        assert ip6(memoryview(bytes.fromhex(raw)), 0) == text


@needs_tcpdump
def test_bpfc_filter_prints_tcpdump_lines(upstream: Path, utc: None, capsys) -> None:
    """The CLI path: ``bpfc filter -r F EXPR`` prints what ``tcpdump -n -r F EXPR`` prints."""
    src = upstream / "pcaps" / "tcp-handshake-nano.pcap"
    assert main(["filter", "-r", str(src), "tcp"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == _tcpdump_lines(src, "tcp") and captured.err == ""
    assert main(["filter", "-v", "--brief", "-c", "1", "-r", str(src)]) == 0
    captured = capsys.readouterr()
    with open_capture(src) as reader:
        first = next(iter(reader))
    sec, frac = divmod(first.ts_ns, 10**9)
    assert captured.out.split() == ["1", f"{sec}.{frac:09d}", str(first.caplen)]
    assert "packets/s" in captured.err


def _can_capture() -> bool:
    import socket

    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _can_capture(), reason="live capture needs Linux and CAP_NET_RAW")
def test_bpfc_capture_prints_packet_lines() -> None:
    """``bpfc capture`` without ``-w``: one decoded line per packet, no summary without -v."""
    import socket
    import sys
    import threading

    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    recv.bind(("127.0.0.1", 0))
    port = recv.getsockname()[1]
    stop = threading.Event()

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for i in range(200):
                if stop.wait(0.05):
                    return
                sender.sendto(b"x" * (i % 7 + 1), ("127.0.0.1", port))

    thread = threading.Thread(target=send)
    thread.start()
    done = subprocess.run(
        [sys.executable, "-m", "bpfc", "capture", "-i", "lo", "-c", "2", "--timeout", "10"]
        + [f"udp dst port {port}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TZ": "UTC"},
    )
    stop.set()
    thread.join()
    recv.close()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and done.stderr == ""
    for line in lines:
        assert STAMP.match(line), line
        assert re.fullmatch(
            rf"IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.{port}: UDP, length [1-7]", line[16:]
        )


@needs_tcpdump
@pytest.mark.parametrize("proto", [6, 17])
def test_every_port_is_generic_or_marked(tmp_path: Path, utc: None, proto: int) -> None:
    """Every destination port: where bpfc claims its generic TCP/UDP line is exact,
    tcpdump has no application printer for that port (the port tables are complete)."""
    payload = b"\x01\x00\x00\x00GET / HTTP/1.0\r\n"
    path = tmp_path / "ports.pcap"
    packets = []
    with open(path, "wb") as handle:
        handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
        for port in range(65536):
            if proto == 6:
                segment = struct.pack(">HHIIBBHHH", 61111, port, 1, 0, 0x50, 0x08, 512, 0, 0)
            else:
                segment = struct.pack(">HHHH", 61111, port, 8 + len(payload), 0)
            segment += payload
            data = (
                struct.pack(
                    ">BBHHHBBH4s4s",
                    0x45,
                    0,
                    20 + len(segment),
                    0,
                    0,
                    64,
                    proto,
                    0,
                    b"\x0a\0\0\1",
                    b"\x0a\0\0\2",
                )
                + segment
            )
            packets.append(data)
            handle.write(struct.pack("<IIII", port, 0, len(data), len(data)) + data)
    theirs = _tcpdump_lines(path, "-tt")
    assert len(theirs) == len(packets)
    printer = Summarizer(strict=True)
    compared = 0
    for port, (data, want) in enumerate(zip(packets, theirs, strict=True)):
        line = printer.body(_packet(101, data))
        if line.exact:
            compared += 1
            assert want.split(" ", 1)[1] == line.text, port
    assert compared > 65000


@needs_tcpdump
def test_application_printer_precedence(tmp_path: Path, utc: None) -> None:
    """Where both ports have an application printer, bpfc picks the one tcpdump picks."""
    from bpfc.decode.transport import TCP_PRINTERS, UDP_APP_PORTS

    tcp_ports = sorted({port for ports, _ in TCP_PRINTERS for port in ports})
    payloads = [
        bytes([1, 1, 6, 0]) + bytes(24) + bytes.fromhex("001122334455") + bytes(14),
        bytes([0x23]) + bytes(47),
        struct.pack(">HH4H", 1, 0x0100, 1, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",
        b"SSH-2.0-x\r\nGET / HTTP/1.0\r\n",
    ]
    packets = []
    for payload in payloads:
        for proto, ports in ((17, sorted(UDP_APP_PORTS)), (6, tcp_ports)):
            for sport in ports:
                for dport in ports:
                    if proto == 17:
                        segment = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0)
                    else:
                        tcp_len = len(payload) + 2
                        payload = (
                            struct.pack(">H", tcp_len - 2) + payload if dport == 53 else payload
                        )
                        segment = struct.pack(
                            ">HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x08, 64, 0, 0
                        )
                    segment += payload
                    header = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(segment), 0, 0, 9, proto, 0)
                    packets.append(header + b"\x0a\0\0\1\x0a\0\0\2" + segment)
    path = tmp_path / "pairs.pcap"
    with open(path, "wb") as handle:
        handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
        for i, data in enumerate(packets):
            handle.write(struct.pack("<IIII", i, 0, len(data), len(data)) + data)
    theirs = {}
    for line in _tcpdump_lines(path, "-tt"):
        stamp, text = line.split(" ", 1)
        theirs[int(stamp.split(".")[0])] = text
    printer = Summarizer(strict=True)
    compared = 0
    for i, data in enumerate(packets):
        line = printer.body(_packet(101, data))
        if line.exact:
            compared += 1
            assert line.text == theirs[i], data.hex()
    assert compared > 1000
