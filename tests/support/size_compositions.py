"""Random compositions for the size comparison with libpcap master (issue 13).

``bench/size_vs_libpcap.py`` and ``tests/opt/test_size_compositions.py`` draw from here, so
the bench's third set and the test's fixed set are the same kind of expression.

The generic pool of ``bpfc.packetgen.compose`` tests meaning; sizes also depend on what
people write, so this adds every primitive family with the spellings that give the
optimizer work: named ports and port lists (``port ftp or port ftp-data``: one loaded
field compared with several constants), hosts with ports, ranges, arithmetic on
variable offsets, link-layer fields, tunnels, and per-link-type families (802.11
``wlan``/``type``/``dir``, ``inbound`` on cooked captures, PFLOG's fields).  Compositions
are random ``and``/``or``/``not`` trees (always two leaves or more) over the primitives
both bpfc and the given library accept on the link type; deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from functools import cache

from bpfc.packetgen.compose import compose_leaves, pool

LINKTYPES: tuple[str, ...] = (
    "EN10MB", "EN10MB", "EN10MB", "LINUX_SLL2", "RAW", "IEEE802_11", "NULL", "PPP", "FDDI",
    "IPV6", "PFLOG",
)  # fmt: skip
"""Link types drawn from, Ethernet weighted as people capture on it most."""

EVERYDAY: tuple[str, ...] = (
    "port ftp", "port ftp-data", "port http", "port domain", "port https", "port ssh",
    "tcp port 80 or 443", "port 80 or 443 or 8080", "udp port 67 or 68", "port 20 or 21",
    "src port 1024", "dst port ssh", "tcp port http", "udp port domain",
    "host 10.0.0.1", "host 10.0.0.2", "src host 10.0.0.1", "dst host 192.168.0.1",
    "src net 10.0.0.0/24", "dst net 192.168.0.0/16", "net 192.168.1",
    "host 10.0.0.1 and port 80", "src 10.0.0.1 and dst port 22", "ip and not tcp",
    "tcp or udp", "icmp or icmp6", "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "ip[6:2] & 0x3fff != 0",
    "ip6 and tcp port 443", "ip6 net 2001:db8::/32", "ip and udp", "udp portrange 33434-33534",
    "tcp dst portrange 6000-6010", "not port 22", "ip broadcast", "ip[9] = 6",
    "tcp[2:2] > 1023", "udp[8:2] = 0x1234", "icmp[icmptype] != icmp-echoreply",
    "icmp6[icmp6type] = icmp6-echo", "ether proto \\arp", "ip proto \\udp",
)  # fmt: skip
"""What people type, beside the meaning-oriented pool of ``packetgen.compose``."""

PER_LINK: dict[str, tuple[str, ...]] = {
    "IEEE802_11": (
        "wlan host 02:00:00:00:00:01", "wlan addr1 02:00:00:00:00:01", "type mgt",
        "type data", "type mgt subtype beacon", "subtype probe-req", "type ctl",
        "dir fromds", "dir tods", "wlan src 02:00:00:00:00:02", "subtype qos-data",
    ),
    "LINUX_SLL2": ("inbound", "outbound", "ifindex 2"),
    "PFLOG": ("action pass", "action block", "reason match", "rnr 1", "ifname eth0", "on eth0"),
    "EN10MB": ("vlan and tcp port 80", "mpls and ip", "pppoes and ip", "ether[0] = 1"),
    "FDDI": ("ether src 02:00:00:00:00:01 and ip",),
}  # fmt: skip


def raw_pool(linktype: str) -> tuple[str, ...]:
    """Every candidate primitive for ``linktype``, before filtering by what compiles."""
    seen: dict[str, None] = {}
    for prim in pool(linktype) + EVERYDAY + PER_LINK.get(linktype, ()):
        seen.setdefault(prim, None)
    return tuple(seen)


Compiler = Callable[[str, str], object]
"""``compile(expr, linktype)``: anything, or raises when the expression is rejected."""


@cache
def _bpfc_accepts(prim: str, linktype: str) -> bool:
    import bpfc
    from bpfc.errors import BpfcError

    try:
        bpfc.compile(prim, linktype=linktype, optimize=False)
        bpfc.compile(prim, linktype=linktype)
    except BpfcError:
        return False
    return True


def usable_pool(linktype: str, reference: Compiler) -> tuple[str, ...]:
    """The primitives of ``linktype`` that bpfc and ``reference`` both compile (optimized)."""
    out = []
    for prim in raw_pool(linktype):
        if not _bpfc_accepts(prim, linktype):
            continue
        try:
            reference(prim, linktype)
        except Exception:  # noqa: BLE001 - any refusal by the reference drops the primitive
            continue
        out.append(prim)
    return tuple(out)


def compositions(
    count: int,
    seed: int,
    reference: Compiler,
    linktypes: Sequence[str] = LINKTYPES,
    depth: int = 4,
) -> Iterator[tuple[str, str]]:
    """``count`` (expression, link type) pairs, each two primitives or more, deterministic
    for ``seed`` (given the same pools)."""
    rng = random.Random(f"size:{seed}")
    pools = {lt: usable_pool(lt, reference) for lt in dict.fromkeys(linktypes)}
    made = 0
    while made < count:
        linktype = rng.choice(linktypes)
        prims = pools[linktype]
        if len(prims) < 2:
            continue
        expr, leaves = compose_leaves(prims, rng, depth)
        if len(leaves) < 2:
            continue
        made += 1
        yield expr, linktype


SOLVER_MS = 5000
"""z3's time for one witness (``bpfc.opt.smt``)."""


def witness(expr: str, dlt: str, opt: Sequence, unopt: Sequence, names=None) -> str | None:
    """A packet (hex, with its capture length) on which two programs (libpcap's optimized
    and unoptimized ones) differ, or None.

    z3 first, where installed: its "equal" is a proof over every packet, and its packets
    include those sampling misses; then targeted, steered and random packets and every
    truncation of them, run on bpfc's interpreter."""
    from bpfc.vm import make_filter

    f_opt, f_unopt = make_filter(opt), make_filter(unopt)
    verdict, found = _solved_witness(f_opt, f_unopt, opt, unopt)
    if verdict != "unknown":
        return found
    return _sampled_witness(expr, dlt, f_opt, f_unopt, opt, unopt, names)


def _sampled_witness(expr, dlt, f_opt, f_unopt, opt, unopt, names) -> str | None:
    from bpfc.opt.verify import sample
    from bpfc.packetgen import LINKTYPES, noise_packets, targeted_packets
    from bpfc.packetgen.explore import explore

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
    for data, wirelen in packets:
        for cut in range(len(data), -1, -1):
            part = data[:cut]
            if f_opt(part, wirelen) != f_unopt(part, wirelen):
                return f"{cut}/{wirelen} bytes: {part.hex()}"
    return None


def _solved_witness(f_opt, f_unopt, opt: Sequence, unopt: Sequence) -> tuple[str, str | None]:
    """("differ", packet) with a packet from z3 (``bpfc.opt.smt``) on which the two
    programs differ, checked on the interpreter; ("equal", None) when z3 proves there is
    none; ("unknown", None) when z3 is absent, gives up, or its packet does not replay.

    Sampling misses packets whose truncation must fall between two loads of a reordered
    pair (``port ftp or port ftp-data``: a 56-byte IPv6 packet whose source port is 20
    is rejected by the unoptimized program, which loads the destination port first)."""
    try:
        from bpfc.opt.smt import counterexample

        verdict, data = counterexample(unopt, opt, timeout_ms=SOLVER_MS)
    except ImportError:
        return "unknown", None
    if verdict == "equal":
        return "equal", None
    if verdict != "differ" or data is None:
        return "unknown", None
    for wirelen in (len(data), len(data) + 1, 65535):
        if f_opt(data, wirelen) != f_unopt(data, wirelen):
            return "differ", f"{len(data)}/{wirelen} bytes: {data.hex()} (z3)"
    return "unknown", None
