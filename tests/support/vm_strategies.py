"""Hypothesis strategies and frame builders shared by the interpreter tests."""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from bpfc.isa.validation import KERNEL_CODES

_LOADS_ABS = (0x20, 0x28, 0x30)
_LOADS_IND = (0x40, 0x48, 0x50)
_MEM = (0x60, 0x61, 0x02, 0x03)
_COND = tuple(c for c in KERNEL_CODES if c & 0x07 == 0x05 and c != 0x05)
_BODY_CODES = tuple(sorted(c for c in KERNEL_CODES if c not in (0x06, 0x16) and c & 0x07 != 0x05))

# huge, Linux negative (SKF_NET_OFF, SKF_LL_OFF) and ancillary (vlan tag, present, protocol)
_ODD_ABS = (0x7FFFFFFF, 0xFFF00000, 0xFFE00001, 0xFFFFF02C, 0xFFFFF030, 0xFFFFF000)
offsets = st.one_of(
    st.integers(0, 72), st.sampled_from([0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF])
)
constants = st.one_of(
    st.integers(0, 3),
    st.integers(0, 40),
    st.sampled_from([0x800, 0x86DD, 0x1FFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]),
    st.integers(0, 0xFFFFFFFF),
)


@st.composite
def strict_programs(draw: st.DrawFn, max_len: int = 14) -> list[tuple[int, int, int, int]]:
    """Programs the Linux checker accepts: forward jumps, stores before loads, ending in ret."""
    n = draw(st.integers(1, max_len))
    pool = draw(st.lists(constants, min_size=1, max_size=3))  # shared values make A == k likely
    consts = st.one_of(st.sampled_from(pool), st.sampled_from(pool), constants)
    body: list[tuple[int, int, int, int]] = []
    for i in range(n - 1):
        room = n - i - 2  # instructions between this one and the final ret
        kind = draw(st.sampled_from(["body", "body", "body", "cond", "ja", "ret"]))
        if kind == "cond":
            code = draw(st.sampled_from(_COND))
            insn = (code, draw(st.integers(0, room)), draw(st.integers(0, room)), draw(consts))
        elif kind == "ja":
            insn = (0x05, 0, 0, draw(st.integers(0, room)))
        elif kind == "ret":
            insn = (draw(st.sampled_from([0x06, 0x16])), 0, 0, draw(constants))
        else:
            code = draw(st.sampled_from(_BODY_CODES))
            if code in _LOADS_ABS:
                k = draw(st.one_of(st.integers(0, 72), st.sampled_from(_ODD_ABS)))
            elif code in _LOADS_IND or code == 0xB1:
                k = draw(offsets) if code != 0xB1 else draw(st.integers(0, 72))
            elif code in _MEM:
                k = draw(st.integers(0, 15))
            elif code in (0x64, 0x74):
                k = draw(st.integers(0, 31))
            elif code in (0x34, 0x94):
                k = draw(st.integers(1, 0xFFFFFFFF))
            else:
                k = draw(consts)
            insn = (code, 0, 0, k)
        body.append(insn)
    body.append((draw(st.sampled_from([0x06, 0x16])), 0, 0, draw(constants)))
    read = sorted({k for code, _, _, k in body if code in (0x60, 0x61)})
    return [(0x02, 0, 0, k) for k in read] + body  # M[] starts at 0 anyway: store A = 0


packets = st.one_of(
    st.binary(max_size=80),
    st.lists(st.sampled_from([0, 1, 2, 3, 0x80, 0xFF]), max_size=80).map(bytes),
)


def ether(ethertype: int, payload: bytes, vlan: int | None = None) -> bytes:
    head = bytes.fromhex("00112233445566778899aabb")
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    return head + struct.pack("!H", ethertype) + payload


def ipv4(
    proto: int, payload: bytes, src: str = "10.0.0.1", dst: str = "10.0.0.2", frag: int = 0
) -> bytes:
    addr = [bytes(int(x) for x in a.split(".")) for a in (src, dst)]
    total = 20 + len(payload)
    return (
        struct.pack("!BBHHHBBH", 0x45, 0, total, 1, frag, 64, proto, 0)
        + addr[0]
        + addr[1]
        + payload
    )


def ipv6(nxt: int, payload: bytes) -> bytes:
    src = bytes.fromhex("fe800000000000000000000000000001")
    dst = bytes.fromhex("fe800000000000000000000000000002")
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, 64) + src + dst + payload


def tcp(sport: int, dport: int, flags: int = 0x02) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0)


def udp(sport: int, dport: int, data: bytes = b"") -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(kind: int = 8) -> bytes:
    return struct.pack("!BBHHH", kind, 0, 0, 1, 1) + b"ping"


ARP = ether(0x0806, bytes.fromhex("0001080006040001") + bytes(6) + bytes([10, 0, 0, 1]) + bytes(10))

FRAMES: dict[str, bytes] = {
    "tcp80": ether(0x0800, ipv4(6, tcp(40000, 80))),
    "tcp22": ether(0x0800, ipv4(6, tcp(50000, 22, 0x12))),
    "tcp443-syn": ether(0x0800, ipv4(6, tcp(443, 40001, 0x02), src="192.168.1.5")),
    "udp53": ether(0x0800, ipv4(17, udp(5353, 53, b"\x12\x34"))),
    "udp-frag": ether(0x0800, ipv4(17, udp(53, 53), frag=0x2001)),
    "icmp": ether(0x0800, ipv4(1, icmp())),
    "tcp6-80": ether(0x86DD, ipv6(6, tcp(1234, 80))),
    "udp6-53": ether(0x86DD, ipv6(17, udp(53, 999))),
    "icmp6": ether(0x86DD, ipv6(58, icmp(128))),
    "vlan100-udp53": ether(0x0800, ipv4(17, udp(1000, 53)), vlan=100),
    "vlan200-tcp80": ether(0x0800, ipv4(6, tcp(1000, 80)), vlan=200),
    "arp": ARP,
    "bcast": b"\xff" * 6 + ARP[6:],
    "multicast": bytes.fromhex("01005e000001") + ARP[6:],
    "truncated-ip": ether(0x0800, ipv4(6, tcp(1, 80)))[:30],
    "runt": b"\x00" * 10,
    "empty": b"",
}
