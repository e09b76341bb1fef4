"""bpfc.ebpf.translate: the eBPF program means what the cBPF program means.

The meaning is the bundled interpreter's; the eBPF side runs on a strict pure-Python eBPF
interpreter (``support.ebpf_vm``), which faults on any packet access the guards did not
cover.  XDP and TC follow libpcap's mode, with TC's ancillary loads reading the skb's
fields as Linux's mode does (the reference replaces each by the value it reads); socket
filters follow Linux's mode.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support.ebpf_vm import VmFault, run
from support.vm_strategies import FRAMES, packets, strict_programs

import bpfc
from bpfc.ebpf import insn as e
from bpfc.ebpf.errors import TranslationError
from bpfc.ebpf.translate import translate
from bpfc.isa.opcodes import ABS_LOADS, ALU_X, ANCILLARY, LD_IMM, RET_K, SKF_AD_OFF, AluOp, Class
from bpfc.vm.interp import interpret

META = {
    "protocol": 0x0800,
    "pkttype": 3,
    "ifindex": 7,
    "mark": 0x1234,
    "queue": 2,
    "rxhash": 0xDEADBEEF,
    "cpu": 1,
    "random": 0x5A5A5A5A,
    "vlan_tci": 100,
    "vlan_tpid": 0x8100,
}
_XOR_X = int(Class.ALU | AluOp.XOR | 0x08)


def skb_view(insns: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """``insns`` with each ancillary load replaced by what it reads (TC's meaning)."""
    out = []
    for code, jt, jf, k in insns:
        if code in ABS_LOADS and k >= SKF_AD_OFF:
            name = ANCILLARY.get(k - SKF_AD_OFF)
            if name is None:
                out.append((RET_K, 0, 0, 0))
            elif name == "alu_xor_x":
                out.append((_XOR_X, 0, 0, 0))
            else:
                value = {"vlan_tag": META["vlan_tci"], "vlan_tag_present": 1}.get(
                    name, META.get(name, 0)
                )
                out.append((LD_IMM, 0, 0, value))
        else:
            out.append((code, jt, jf, k))
    return out


def expected(insns: list, target: str, packet: bytes) -> int:
    if target == "socket":
        return interpret(insns, packet, linux=True, meta=dict(META))
    value = interpret(skb_view(insns) if target == "tc" else insns, packet)
    if target == "xdp":
        return 2 if value else 1
    return 0 if value else 2


def ebpf_result(insns: list, target: str, packet: bytes, **kw: object) -> int:
    prog = translate(insns, target, **kw)  # type: ignore[arg-type]
    result = run(prog.insns, target, packet, **META)
    return result if target == "socket" else (result if result < 0x80000000 else result - (1 << 32))


@st.composite
def programs_and_packets(draw: st.DrawFn) -> tuple[list, bytes]:
    """A program the Linux checker accepts, and a packet that is often exactly as long as
    one of its loads needs, or one byte shorter or longer."""
    insns = draw(strict_programs())
    ends = [
        k + {0x20: 4, 0x28: 2, 0x30: 1, 0xB1: 1}[c]
        for c, _, _, k in insns
        if c in (0x20, 0x28, 0x30, 0xB1) and k < 0x10000
    ]
    near = sorted({end + d for end in ends for d in (-1, 0, 1) if end + d >= 0})
    if near and draw(st.booleans()):
        length = draw(st.sampled_from(near))
        return insns, draw(st.binary(min_size=length, max_size=length))
    return insns, draw(packets)


@settings(max_examples=400, deadline=None)
@given(
    programs_and_packets(),
    st.sampled_from(["xdp", "tc", "socket"]),
    st.sampled_from(["merged", "per-load"]),
)
def test_random_programs_mean_the_same(case: tuple, target: str, guards: str) -> None:
    insns, packet = case
    try:
        got = ebpf_result(insns, target, packet, guards=guards)
    except TranslationError:
        assume(False)
        return
    assert got == expected(insns, target, packet)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(FRAMES)), st.sampled_from(["xdp", "tc", "socket"]))
def test_compiled_filters_on_frames(frame: str, target: str) -> None:
    packet = FRAMES[frame]
    for expr in ("tcp port 80", "udp port 53 or icmp", "ip6 and tcp", "vlan and udp", "len > 60"):
        insns = list(bpfc.compile(expr))
        assert ebpf_result(insns, target, packet) == expected(insns, target, packet), expr


def test_merged_guards_are_fewer() -> None:
    prog = bpfc.compile("tcp port 80 and host 10.0.0.1")
    merged = translate(prog, "xdp")
    per_load = translate(prog, "xdp", guards="per-load")
    assert merged.guards < per_load.guards
    assert len(merged) < len(per_load)
    for packet in FRAMES.values():
        assert run(merged.insns, "xdp", packet) == run(per_load.insns, "xdp", packet)


@pytest.mark.parametrize("target", ["xdp", "tc"])
def test_shift_by_32_or_more_gives_zero(target: str) -> None:
    for code in (0x6C, 0x7C):  # lsh x, rsh x
        insns = [(0x00, 0, 0, 0xFFFF), (0x01, 0, 0, 40), (code, 0, 0, 0), (0x16, 0, 0, 0)]
        assert ebpf_result(insns, target, b"") == expected(insns, target, b"")
    insns = [(0x00, 0, 0, 1), (0x64, 0, 0, 33), (0x16, 0, 0, 0)]  # lsh #33: libpcap gives 0
    assert ebpf_result(insns, target, b"") == (1 if target == "xdp" else 2)


@pytest.mark.parametrize("target", ["xdp", "tc", "socket"])
def test_division_by_zero_rejects(target: str) -> None:
    insns = [(0x00, 0, 0, 10), (int(Class.ALU | AluOp.DIV | 0x08), 0, 0, 0), (0x06, 0, 0, 1)]
    assert int(Class.ALU | AluOp.DIV | 0x08) in ALU_X
    reject = {"xdp": 1, "tc": 2, "socket": 0}[target]
    assert ebpf_result(insns, target, b"") == reject


def test_verdicts_are_configurable() -> None:
    insns = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 96), (0x06, 0, 0, 0)]
    ip = FRAMES["tcp80"]
    arp = FRAMES["arp"]
    prog = translate(insns, "xdp", accept="tx", reject="aborted")
    assert run(prog.insns, "xdp", ip) == 3 and run(prog.insns, "xdp", arp) == 0
    prog = translate(insns, "tc", accept="TC_ACT_PIPE", reject=7)
    assert run(prog.insns, "tc", ip) == 3 and run(prog.insns, "tc", arp) == 7
    prog = translate(insns, "socket")
    assert run(prog.insns, "socket", ip) == 96 and run(prog.insns, "socket", arp) == 0
    prog = translate(insns, "socket", accept=0xFFFF)
    assert run(prog.insns, "socket", ip) == 0xFFFF


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "sk_skb"}, "unknown eBPF target"),
        ({"target": "xdp", "accept": "ok"}, "unknown xdp verdict"),
        ({"target": "socket", "reject": 1}, "reject verdict must be 0"),
        ({"target": "xdp", "guards": "some"}, "guards must be"),
    ],
)
def test_bad_options(kwargs: dict, message: str) -> None:
    insns = [(0x28, 0, 0, 12), (0x06, 0, 0, 1)]
    target = kwargs.pop("target")
    with pytest.raises(TranslationError if "verdict" not in message else ValueError, match=message):
        translate(insns, target, **kwargs)


def test_ancillary_loads() -> None:
    vlan = list(bpfc.compile("vlan 100", linux=True))
    with pytest.raises(TranslationError, match="socket-buffer metadata"):
        translate(vlan, "xdp")
    for target in ("tc", "socket"):
        prog = translate(vlan, target)
        assert e.LDX | e.MEM | e.W in {i.code for i in prog.insns}
    hatype = [(0x20, 0, 0, SKF_AD_OFF + 28), (0x16, 0, 0, 0)]
    with pytest.raises(TranslationError, match="no struct __sk_buff field"):
        translate(hatype, "tc")


def test_backward_jumps_need_a_bound() -> None:
    loop = [(0x00, 0, 0, 1), (0x15, 1, 0, 0), (0x05, 0, 0, 0xFFFFFFFD), (0x06, 0, 0, 1)]
    with pytest.raises(TranslationError, match="jumps backward"):
        translate(loop, "xdp", loop_bound=None)
    with pytest.raises(TranslationError, match="loop_bound must be"):
        translate(loop, "xdp", loop_bound=0)
    itself = [(0x05, 0, 0, 0xFFFFFFFF), (0x06, 0, 0, 1)]  # ja to itself: 0, as interpreted
    assert interpret(itself, b"") == 0 and ebpf_result(itself, "socket", b"") == 0


def hop_by_hop_chain(count: int, last: int = 6) -> bytes:
    """An Ethernet/IPv6 frame with ``count`` hop-by-hop headers (8 bytes each) before a
    header of type ``last``, then a TCP header."""
    headers = b"".join(bytes([0 if n < count - 1 else last, 0]) + bytes(6) for n in range(count))
    payload = headers + FRAMES["tcp80"][34:54]
    ipv6 = (
        b"\x60\0\0\0"
        + len(payload).to_bytes(2, "big")
        + bytes([0 if count else last, 64])
        + bytes(32)
    )
    return bytes(12) + b"\x86\xdd" + ipv6 + payload


@pytest.mark.parametrize("target", ["xdp", "tc", "socket"])
def test_protochain_loops_up_to_the_bound(target: str) -> None:
    """``protochain`` walks a header chain with a backward jump; the translation runs the
    loop at most ``loop_bound`` times, and means what the interpreter means up to there."""
    insns = list(bpfc.compile("ip6 protochain 6"))
    assert any(c == 0x05 and k >= 0x80000000 for c, _, _, k in insns)
    accept = {"xdp": 2, "tc": 0, "socket": 262144}[target]
    for count in (0, 1, 2, 5, 9):
        packet = hop_by_hop_chain(count)
        assert interpret(insns, packet) == 262144
        assert ebpf_result(insns, target, packet, loop_bound=10) == accept, count
        other = hop_by_hop_chain(count, last=17)
        assert ebpf_result(insns, target, other, loop_bound=10) == expected(insns, target, other)
    # more turns than the bound: the interpreter accepts, the translation rejects
    long_chain = hop_by_hop_chain(12)
    assert interpret(insns, long_chain) == 262144
    assert ebpf_result(insns, target, long_chain, loop_bound=10) != accept
    assert ebpf_result(insns, target, long_chain, loop_bound=13) == accept


def test_unreachable_code_is_not_emitted() -> None:
    insns = [(0x05, 0, 0, 1), (0x06, 0, 0, 5), (0x06, 0, 0, 1)]  # insn 1 is dead
    prog = translate(insns, "socket")
    assert all(i.imm != 5 for i in prog.insns)
    assert prog.insns == (e.mov32(0, imm=1), e.exit_())


def test_scratch_and_registers_read_first_are_zeroed() -> None:
    insns = [(0x60, 0, 0, 3), (0x87, 0, 0, 0), (0x16, 0, 0, 0)]  # ld M[3]; txa; ret a
    prog = translate(insns, "socket")
    assert e.st(e.W, e.FP, -64 + 12, 0) in prog.insns
    assert e.mov32(e.R8, imm=0) in prog.insns
    written = [(0x00, 0, 0, 4), (0x02, 0, 0, 3), (0x60, 0, 0, 3), (0x16, 0, 0, 0)]
    assert all(i.code != e.ST | e.MEM | e.W for i in translate(written, "socket").insns)


def test_input_checks() -> None:
    with pytest.raises(TypeError, match="program must be"):
        translate("ret #0", "xdp")
    with pytest.raises(bpfc.ValidationError):
        translate([(0x15, 0, 9, 0)], "xdp")


def test_loads_past_the_verifier_bound_reject() -> None:
    insns = [(0x30, 0, 0, 0x10000), (0x06, 0, 0, 1)]
    prog = translate(insns, "xdp")
    assert run(prog.insns, "xdp", bytes(100)) == 1
    ind = [(0x01, 0, 0, 0xFFFF), (0x50, 0, 0, 1), (0x06, 0, 0, 1)]
    assert run(translate(ind, "xdp").insns, "xdp", bytes(100)) == 1


def test_vm_catches_an_unguarded_load() -> None:
    bad = [e.ldx(e.W, 2, 1, 0), e.ldx(e.B, 0, 2, 10), e.exit_()]
    with pytest.raises(VmFault, match="packet read"):
        run(bad, "xdp", b"short")


_DATA_CODES = (
    [0x20, 0x28, 0x30]  # ld/ldh/ldb [k]
    + [0x40, 0x48, 0x50] * 3  # ld/ldh/ldb [x + k], often: their guards depend on X
    + [0x01, 0x07] * 2  # ldx #k, tax: a new X between indirect loads
    + [0xB1, 0x00, 0x01, 0x80, 0x81]  # ldxb msh, ld #k, ldx #k, ld len, ldx len
    + [0x60, 0x61, 0x02, 0x03, 0x07, 0x87]  # M[], tax, txa
    + [int(Class.ALU | op | src) for op in AluOp for src in (0, 8) if not (op == AluOp.NEG and src)]
)


@st.composite
def data_programs(draw: st.DrawFn) -> tuple[list[tuple[int, int, int, int]], bytes]:
    """Straight-line programs that move packet bytes into A, and a packet whose length
    is at or next to where one of the loads ends (where a guard could be off by one)."""
    body = [(0x01, 0, 0, draw(st.integers(0, 12)))]  # a small X, so [x + k] can succeed
    ends = []
    for _ in range(draw(st.integers(1, 10))):
        code = draw(st.sampled_from(_DATA_CODES))
        if code in (0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xB1):
            k = draw(st.integers(0, 60))
            ends.append(k + {0x20: 4, 0x28: 2, 0x30: 1, 0x40: 4, 0x48: 2, 0x50: 1}.get(code, 1))
        elif code in (0x60, 0x61, 0x02, 0x03):
            k = draw(st.integers(0, 3))
        elif code == 0x01:
            k = draw(st.integers(0, 40))
        elif code & 0x07 == 0x04 and code & 0xF0 in (AluOp.LSH, AluOp.RSH) and not code & 8:
            k = draw(st.integers(0, 40))
        elif code & 0x07 == 0x04 and code & 0xF0 in (AluOp.DIV, AluOp.MOD) and not code & 8:
            k = draw(st.integers(1, 0xFFFFFFFF))
        else:
            k = draw(st.integers(0, 0xFFFFFFFF))
        body.append((code, 0, 0, k))
    body.append((0x16, 0, 0, 0))
    near = [end + d for end in ends for d in (-1, 0, 1) if end + d >= 0]
    lengths = st.integers(0, 128)  # long enough for [x + k] with X up to 40
    length = draw(st.one_of(st.sampled_from(near), lengths) if near else lengths)
    return body, draw(st.binary(min_size=length, max_size=length))


@settings(max_examples=400, deadline=None)
@given(data_programs(), st.sampled_from(["xdp", "tc", "socket"]), st.booleans())
def test_accumulator_values_are_exact(case: tuple, target: str, merged: bool) -> None:
    """The value in A at ``ret a``, not only its being zero: for XDP/TC the program ends in
    ``jeq #A_expected`` instead, so a wrong A (a missing byte swap, a wrong shift) rejects."""
    insns, packet = case
    guards = "merged" if merged else "per-load"
    if target == "socket":
        got = ebpf_result(insns, target, packet, guards=guards)
        assert got == interpret(insns, packet, linux=True)
        return
    value = interpret([*insns[:-1], (0x16, 0, 0, 0)], packet)
    stopped = interpret([*insns[:-1], (0x06, 0, 0, 1)], packet) == 0  # a load failed
    probe = [*insns[:-1], (0x15, 0, 1, value), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]
    accept, reject = (2, 1) if target == "xdp" else (0, 2)
    assert ebpf_result(probe, target, packet, guards=guards) == (reject if stopped else accept)


def test_a_guard_covers_what_every_path_loads_and_no_more() -> None:
    # ldb [0]; jeq #1 -> ldb [10] / ldb [11]: one guard of 11 bytes before the first
    # load (both paths load at least that far), a second of 12 on the path that needs it
    insns = [
        (0x30, 0, 0, 0),
        (0x15, 0, 2, 1),
        (0x30, 0, 0, 10),
        (0x06, 0, 0, 1),
        (0x30, 0, 0, 11),
        (0x06, 0, 0, 1),
    ]
    prog = translate(insns, "xdp")
    assert prog.guards == 2 and translate(insns, "xdp", guards="per-load").guards == 3
    adds = [i.imm for i in prog.insns if i.code == e.ALU64 | e.ADD | e.K]
    assert adds == [11, 12]
    for length in range(14):
        for first in (0, 1):
            packet = bytes([first]) + bytes(max(0, length - 1)) if length else b""
            assert run(prog.insns, "xdp", packet) == expected(insns, "xdp", packet)


@pytest.mark.parametrize("target", ["xdp", "tc"])
def test_indirect_guards_merge_while_x_stays(target: str) -> None:
    prog = bpfc.compile("tcp src port 80 and tcp dst port 81")
    ebpf = translate(prog, target)
    x_bounds = [i for i in ebpf.insns if i.code == e.JMP32 | e.JGT | e.K and i.dst == e.R8]
    assert len(x_bounds) == 1  # [x + 14] and [x + 16]: one guard for both
    per_load = translate(prog, target, guards="per-load")
    assert len([i for i in per_load.insns if i.code == e.JMP32 | e.JGT | e.K]) == 2
    for packet in FRAMES.values():
        assert run(ebpf.insns, target, packet) == expected(list(prog), target, packet)


@pytest.mark.parametrize("target", ["xdp", "tc"])
def test_indirect_guards_start_over_when_x_changes(target: str) -> None:
    # ldx #2; ldb [x + 0]; ldx #5; ldb [x + 0]; jeq #5: a stale data + X would read byte 2
    insns = [(0x01, 0, 0, 2), (0x50, 0, 0, 0), (0x01, 0, 0, 5), (0x50, 0, 0, 0)]
    insns += [(0x15, 0, 1, 5), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]
    packet = bytes(range(20))
    assert ebpf_result(insns, target, packet) == expected(insns, target, packet)
    # ldx #20; ldb [x + 0]; ldx #0; ldb [x + 1] on 21 bytes: the first guard must not
    # count the second load's length from the first X
    insns = [(0x01, 0, 0, 20), (0x50, 0, 0, 0), (0x01, 0, 0, 0), (0x50, 0, 0, 1)]
    insns += [(0x06, 0, 0, 1)]
    packet = bytes(21)
    assert interpret(insns, packet) == 1
    assert ebpf_result(insns, target, packet) == expected(insns, target, packet)


@settings(max_examples=100, deadline=None)
@given(programs_and_packets(), st.sampled_from(["xdp", "tc", "socket"]))
def test_exit_islands_keep_the_meaning(case: tuple, target: str) -> None:
    """A long program gets ``accept``/``reject`` blocks on the way (conditional jumps reach
    32,767 instructions); with an island every 4 instructions the meaning is the same."""
    from bpfc.ebpf import translate as module

    insns, packet = case
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(module, "ISLAND_EVERY", 4)
            got = ebpf_result(insns, target, packet)
    except TranslationError:
        assume(False)
        return
    assert got == expected(insns, target, packet)


def test_long_programs_get_islands_and_gotol() -> None:
    # ldx #1; jeq #0 -> ja over 40,000 instructions -> ret a; else the 40,000 run (ld #k,
    # and a div x, which can reject, every 1,000), then ret a
    filler = [(0x3C, 0, 0, 0) if n % 1000 == 999 else (0x00, 0, 0, n + 1) for n in range(40_000)]
    head = [(0x01, 0, 0, 1), (0x15, 0, 1, 0), (0x05, 0, 0, len(filler))]
    insns = [*head, *filler, (0x16, 0, 0, 0)]
    prog = translate(insns, "xdp")
    assert sum(1 for i in prog.insns if i.code == e.JMP | e.EXIT) > 2  # islands on the way
    gotol = [i for i in prog.insns if i.code == e.JMP32 | e.JA]
    assert len(gotol) == 1 and gotol[0].imm > 0x7FFF
    assert "gotol pc+" in prog.dump()
    assert run(prog.insns, "xdp", b"") == 1  # A = 0 at ret a: the long jump, rejected
    insns[1] = (0x15, 1, 0, 0)  # now the filler runs and A ends non-zero
    assert interpret(insns, b"") == 39_999  # the last ld #k, divided by X = 1
    assert run(translate(insns, "xdp").insns, "xdp", b"") == 2
