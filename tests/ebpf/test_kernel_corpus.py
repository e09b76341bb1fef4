"""The kernel proves the translation: its verifier accepts every corpus program for XDP,
TC and socket filters, and ``BPF_PROG_TEST_RUN`` gives the interpreter's verdict on every
corpus packet it takes as input.

Which link types.  A translated program reads bytes; the verifier's judgement and the
kernel's run do not depend on what the bytes mean.  So every golden-corpus case (all 35
link types, optimized and unoptimized, each distinct program loaded once per target) is
loaded and run over its packets in all three targets: a superset of "Ethernet-framed
for XDP/TC" that costs little more.  What each target sees of a packet:

* XDP and TC: the frame from its first byte; ``len`` is the captured length (XDP has no
  other), so the interpreter runs with ``wirelen = len(data)``, in libpcap's mode;
* socket filters: the packet from its first byte as a ``SOCK_RAW`` packet socket sees it
  (:func:`bpfc.ebpf.kernel.test_run` prepends a header the kernel pulls), in Linux's
  mode (the mode of a classic socket filter), and the return value itself is compared.

Inputs the kernel refuses (EINVAL) are counted, and must be exactly the documented ones:
shorter than an Ethernet header (XDP, TC), longer than :func:`kernel.max_packet`, or, for
TC, an IPv4/IPv6 EtherType with less than that fixed header after it.

The upstream accept cases (libpcap master's own tests, every link type, with and without
Linux extensions) are compiled by bpfc, translated and loaded likewise, and run over a
few frames.
"""

from __future__ import annotations

import struct
import time
from collections import defaultdict
from collections.abc import Callable

import pytest

import bpfc
from bpfc.corpus.schema import default_root, load
from bpfc.ebpf import kernel
from bpfc.ebpf import translate as translate_mod
from bpfc.ebpf.errors import TranslationError
from bpfc.ebpf.translate import translate
from bpfc.vm.interp import interpret

REASON = kernel.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

ACTIONS = {"xdp": (2, 1), "tc": (0, 2)}
"""The default (accept, reject) actions: XDP_PASS/XDP_DROP, TC_ACT_OK/TC_ACT_SHOT."""

SOCKET_META = {"protocol": 0x88B5, "ifindex": 1, "pkttype": 0, "net_offset": 0}
"""What a socket filter's test run has for metadata: the EtherType of the header
:func:`kernel.test_run` prepends, the loopback device, PACKET_HOST, the network header
at the packet's first byte."""

STATS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def refused_as_input(target: str, data: bytes) -> bool:
    """The documented inputs ``BPF_PROG_TEST_RUN`` refuses for ``target``.  (XDP takes a
    frame longer than :func:`kernel.max_packet` as several buffers; the program sees the
    first, ``max_packet`` bytes long, so the interpreter is given those bytes.)"""
    if target == "socket":
        return len(data) + kernel.MIN_PACKET > kernel.max_packet("socket")
    if len(data) < kernel.MIN_PACKET:
        return True
    if len(data) > kernel.max_packet(target):
        return target != "xdp"
    if target == "tc":
        ethertype = data[12:14]
        body = len(data) - kernel.MIN_PACKET
        return (ethertype == b"\x08\x00" and body < 20) or (ethertype == b"\x86\xdd" and body < 40)
    return False


def expected(target: str, program: list, metadata: bool = False) -> Callable[[bytes], int]:
    """What the kernel must return for a packet: the interpreter's verdict mapped to the
    target's (the translated interpreter, built once per program; for a socket program
    that reads metadata the reference one, with a socket test run's metadata)."""
    if target == "socket" and metadata:
        return lambda data: interpret(program, data, None, linux=True, meta=SOCKET_META)
    if target == "socket":
        run = bpfc.Program(program)._filter(True)
        return lambda data: run(data, len(data))
    accept, reject = ACTIONS[target]
    verdict = bpfc.Program(program)._filter(False)
    return lambda data: accept if verdict(data, len(data)) else reject


def check_program(
    target: str, program: list, packets: list[bytes], metadata: bool = False
) -> list[str]:
    """Translate, load (the verifier must accept), run over ``packets``; the differences."""
    code = bytes(translate(program, target))
    try:
        fd = kernel.load_program(code, target)
    except kernel.VerifierError as err:
        STATS[target]["rejected by the verifier"] += 1
        return [f"verifier: {err}"]
    STATS[target]["programs loaded"] += 1
    try:
        got = kernel.test_run_many(fd, packets, link=target == "socket")
    finally:
        kernel.close(fd)
    problems = []
    want_of = expected(target, program, metadata)
    linear = kernel.max_packet("xdp")
    for data, value in zip(packets, got, strict=True):
        if value is None:
            STATS[target]["packets refused as input"] += 1
            if not refused_as_input(target, data):
                problems.append(f"the kernel refused a {len(data)}-byte packet {data[:16].hex()}")
            continue
        STATS[target]["packets run"] += 1
        if target == "xdp" and len(data) > linear:  # a multi-buffer frame: the program
            STATS[target]["frames past the linear part"] += 1  # sees its linear part
            data = data[:linear]
        want = want_of(data)
        if value != want:
            problems.append(f"packet {data.hex()}: kernel {value}, interpreter {want}")
    return problems


@pytest.fixture(scope="module")
def corpus_programs() -> dict[str, dict]:
    """Every distinct program of the golden corpus (optimized and not) -> its packet groups."""
    root = default_root()
    if not (root / "expected").is_dir():
        pytest.skip(f"no golden corpus at {root}")
    corpus = load(root)
    programs: dict[tuple, set[str]] = defaultdict(set)
    for case in corpus.cases:
        for optimize in (True, False):
            try:
                program = bpfc.compile(
                    case.expr, case.linktype, case.snaplen, optimize, case.netmask
                )
            except bpfc.CompileError:  # bpfc's known refusals (corpus/known_failures.txt)
                continue
            programs[tuple(program)].add(case.packets)
    packets = {
        group: [data for data, _ in corpus.packets(group)] for group in corpus_groups(programs)
    }
    return {"programs": programs, "packets": packets}


def corpus_groups(programs: dict[tuple, set[str]]) -> set[str]:
    return {group for groups in programs.values() for group in groups}


@pytest.mark.parametrize("target", ["xdp", "tc", "socket"])
def test_corpus_loads_and_runs_as_the_interpreter(corpus_programs, target: str) -> None:
    programs, packets = corpus_programs["programs"], corpus_programs["packets"]
    started = time.process_time()
    failures: list[str] = []
    for program, groups in programs.items():
        frames = [data for group in sorted(groups) for data in packets[group]]
        for problem in check_program(target, list(program), frames):
            failures.append(f"{list(program)}: {problem}")
    stats = dict(STATS[target])
    print(f"\n{target}: {stats}, {time.process_time() - started:.1f} s CPU")
    assert not failures, f"{len(failures)} differences, first: " + "\n".join(failures[:5])
    assert stats["programs loaded"] == len(programs)
    assert stats["packets run"] > 100_000


def _upstream_frames() -> list[bytes]:
    from ebpf.test_live_attach import frames

    return frames()


@pytest.fixture(scope="module")
def upstream_programs(upstream) -> list[tuple[str, bpfc.Program]]:
    """``(case id, program)``: the distinct programs of libpcap master's accept cases:
    bpfc's (optimized and not; Linux-extension cases compiled in Linux mode) and master's
    own (its expected listings, assembled)."""
    from support.differential import listing_reference
    from support.upstream_cases import load as load_cases
    from support.upstream_cases import resolver

    names = resolver(upstream)
    seen: set[tuple] = set()
    out = []
    for rec in load_cases(upstream):
        if rec["kind"] != "accept" or rec.get("special") or rec.get("generate_offline_filter"):
            continue
        for optimize in (True, False):
            try:
                program = bpfc.compile(
                    rec["expr"], rec["dlt"], rec.get("snaplen", 262144), optimize,
                    rec.get("netmask"), linux=bool(rec.get("linuxext")), resolver=names,
                )  # fmt: skip
            except bpfc.CompileError:
                continue
            if tuple(program) not in seen:
                seen.add(tuple(program))
                out.append((rec["id"], program))
        for key in ("expected_opt", "expected_unopt"):  # libpcap master's own programs
            if rec.get(key):
                program = bpfc.Program(listing_reference(rec[key]))
                if tuple(program) not in seen:
                    seen.add(tuple(program))
                    out.append((f"master {key[9:]} {rec['id']}", program))
    return out


@pytest.mark.parametrize("target", ["xdp", "tc", "socket"])
def test_upstream_accept_cases_load(upstream_programs, target: str) -> None:
    """libpcap master's accept cases, compiled by bpfc for their link type (Linux
    extensions in Linux mode), and master's own programs for them: the verifier accepts
    every translation; XDP refuses
    exactly the programs with ancillary (metadata) loads, which it has no field for, and
    every program with a backward jump (``protochain``) becomes a bounded loop that
    loads and runs like the others (and is refused with ``loop_bound=None``).
    Socket programs with metadata loads are compared with the interpreter given a socket
    test run's metadata (:data:`SOCKET_META`); TC ones are loaded only (TC's packet loads
    follow libpcap's mode, which has no metadata to compare with)."""
    frames = _upstream_frames()
    failures, refused, backward = [], 0, 0
    for case_id, program in upstream_programs:
        metadata = any(code & 0xE0 == 0x20 and k >= 0xFFFFF000 for code, _, _, k in program)
        if any(code == 0x05 and k >= 1 << 31 for code, _, _, k in program):
            with pytest.raises(TranslationError, match="backward"):
                translate(program, target, loop_bound=None)  # refused when asked
            backward += 1  # and by default a bounded loop: run below like the others
        if target == "xdp" and metadata:
            with pytest.raises(TranslationError):
                translate(program, target)
            refused += 1
            continue
        if metadata and target == "socket":
            problems = check_program(target, list(program), frames, metadata=True)
            failures += [f"{case_id}: {p}" for p in problems]
            continue
        if metadata:  # TC: metadata in a libpcap-mode program has no reference: load only
            code = bytes(translate(program, target))
            try:
                kernel.close(kernel.load_program(code, target))
            except kernel.VerifierError as err:
                failures.append(f"{case_id}: {err}")
            continue
        failures += [f"{case_id}: {p}" for p in check_program(target, list(program), frames)]
    print(
        f"\n{target}: {len(upstream_programs)} distinct programs, {refused} refused "
        f"(metadata in XDP), {backward} with a backward jump (protochain's loop)"
    )
    assert len(upstream_programs) > 1500
    assert not failures, f"{len(failures)} failures, first: " + "\n".join(failures[:5])


def _ip6_chain(headers: int) -> bytes:
    """An IPv6 packet with ``headers`` destination-options headers, then UDP."""
    chain = b"".join(bytes([60 if i < headers - 1 else 17, 0]) + bytes(6) for i in range(headers))
    body = chain + struct.pack(">HHHH", 1, 53, 8, 0)
    first = 60 if headers else 17
    return struct.pack(">IHBB", 0x60000000, len(body), first, 64) + bytes(32) + body


@pytest.mark.parametrize("target", ["xdp", "tc", "socket"])
@pytest.mark.parametrize("linktype", ["RAW", "EN10MB"])
def test_protochain_loop_in_the_kernel(target: str, linktype: str) -> None:
    """``protochain``'s backward jump runs in the kernel as a loop of at most
    ``loop_bound`` turns: every chain up to the bound gives the interpreter's verdict, a
    longer one rejects (the documented difference: the interpreter allows 64 + length)."""
    program = bpfc.compile("ip6 protochain 17", linktype)
    head = bytes(12) + b"\x86\xdd" if linktype == "EN10MB" else b""
    packets = [head + _ip6_chain(n) for n in range(40)]
    bound = translate_mod.DEFAULT_LOOP_BOUND
    fd = kernel.load_program(bytes(translate(program, target)), target)
    try:
        got = kernel.test_run_many(fd, packets, link=target == "socket")
    finally:
        kernel.close(fd)
    accept_of = expected(target, program)
    reject = ACTIONS[target][1] if target in ACTIONS else 0
    for n, (packet, value) in enumerate(zip(packets, got, strict=True)):
        assert program.run(packet)  # the interpreter accepts every chain here
        assert value == (accept_of(packet) if n <= bound else reject), n
