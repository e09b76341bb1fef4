"""The offset shape: packets read in place from one buffer equal the reference, packet by packet."""

from __future__ import annotations

import mmap

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.vm_strategies import packets, strict_programs

from bpfc import vm
from bpfc.vm import translate

RET_A = (0x16, 0, 0, 0)


def lay_out(pkts: list[bytes], gaps: list[bytes]) -> tuple[bytes, list[int], list[int]]:
    """One buffer holding every packet, each followed by its gap bytes (junk past caplen)."""
    buf, offsets = bytearray(), []
    for pkt, gap in zip(pkts, gaps, strict=True):
        offsets.append(len(buf))
        buf += pkt + gap
    return bytes(buf), offsets, [len(p) for p in pkts]


@given(
    strict_programs(),
    st.lists(st.tuples(packets, st.binary(max_size=8), st.none() | st.integers(0, 2**32 - 1))),
)
def test_offset_shape_equals_reference_interpreter(
    prog: list[tuple[int, int, int, int]], items: list[tuple[bytes, bytes, int | None]]
) -> None:
    pkts = [p for p, _, _ in items]
    buf, offsets, caplens = lay_out(pkts, [g for _, g, _ in items])
    wirelens = [len(p) if w is None else w for p, _, w in items]
    expected = [vm.interpret(prog, p, w, False, {}) for p, w in zip(pkts, wirelens, strict=True)]
    assert vm.make_offset_filter(prog)(buf, offsets, caplens, wirelens) == expected
    default = [vm.interpret(prog, p, None, False, {}) for p in pkts]
    assert vm.make_offset_filter(prog)(buf, offsets, caplens) == default
    # the same packets behind 16-byte headers that offsets and lengths count
    headed, at, lengths = lay_out([bytes(range(16)) + p for p in pkts], [g for _, g, _ in items])
    with_header = vm.make_offset_filter(prog, header=16)
    assert with_header(headed, at, lengths, wirelens) == expected
    assert with_header(headed, at, lengths) == default


def test_bounds_are_the_packets_caplen_not_the_buffers_end() -> None:
    prog = [(0x28, 0, 0, 2), RET_A]  # halfword at 2
    buf = bytes(range(1, 9))
    fn = vm.make_offset_filter(prog)
    assert fn(buf, [0, 0, 4, 5], [4, 3, 4, 3]) == [0x0304, 0, 0x0708, 0]
    ind = [(0x01, 0, 0, 1), (0x50, 0, 0, 1), RET_A]  # byte at X + 1 = 2
    assert vm.make_offset_filter(ind)(buf, [0, 0], [3, 2]) == [3, 0]
    msh = [(0xB1, 0, 0, 3), (0x87, 0, 0, 0), RET_A]
    assert vm.make_offset_filter(msh)(buf, [0, 0], [4, 3]) == [(4 & 15) * 4, 0]


def test_len_loads_the_wire_length_or_caplen() -> None:
    prog = [(0x80, 0, 0, 0), RET_A]
    fn = vm.make_offset_filter(prog)
    assert fn(bytes(10), [0, 4], [4, 6]) == [4, 6]
    assert fn(bytes(10), [0, 4], [4, 6], [1500, 60]) == [1500, 60]


def test_reads_an_mmap_in_place() -> None:
    data = bytes(12) + b"\x08\x00" + bytes(12) + b"\x86\xdd"
    mapping = mmap.mmap(-1, len(data))
    mapping.write(data)
    prog = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]
    assert vm.make_offset_filter(prog)(mapping, [0, 14], [14, 14]) == [1, 0]
    assert vm.make_offset_filter(prog)(memoryview(mapping), [0, 14], [14, 14]) == [1, 0]


def test_backward_jumps_fall_back_and_agree() -> None:
    # a counting loop cut off after 64 + caplen backward jumps: the budget is per packet
    prog = [(0x00, 0, 0, 0), (0x04, 0, 0, 1), (0x05, 0, 0, 0xFFFFFFFE), (0x06, 0, 0, 1)]
    buf = bytes(range(16))
    fn = vm.make_offset_filter(prog)
    assert not hasattr(fn, "__bpf_source__")
    assert fn(buf, [0, 3], [2, 1]) == [vm.interpret(prog, buf[0:2]), vm.interpret(prog, buf[3:4])]
    headed = vm.make_offset_filter(prog, header=2)
    assert headed(buf, [0, 3], [4, 3]) == [
        vm.interpret(prog, buf[2:4]),
        vm.interpret(prog, buf[5:6]),
    ]


def test_linux_offset_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="Linux"):
        translate.source([RET_A], linux=True, mode="offset")


def test_only_registers_read_before_written_are_reset() -> None:
    ld_a, ld_x = (0x00, 0, 0, 1), (0x01, 0, 0, 1)
    assert translate.registers_read_first([ld_a, RET_A]) == 0
    assert translate.registers_read_first([RET_A]) == 1
    assert translate.registers_read_first([(0x87, 0, 0, 0), RET_A]) == 2
    assert translate.registers_read_first([ld_a, (0x0C, 0, 0, 0), RET_A]) == 2
    assert translate.registers_read_first([ld_x, (0x07, 0, 0, 0), RET_A]) == 1
    branchy = [ld_x, (0x15, 0, 1, 0), (0x06, 0, 0, 1), (0x87, 0, 0, 0), RET_A]
    assert translate.registers_read_first(branchy) == 1  # the jump reads A; X is set first
    assert translate.registers_read_first([(0x28, 0, 0, 0), RET_A], linux=True) == 3
    assert "A = X = 0" not in vm.source([ld_a, RET_A], mode="offset")


@given(strict_programs(), st.lists(packets, min_size=2, max_size=4))
def test_registers_left_from_the_last_packet_never_leak(
    prog: list[tuple[int, int, int, int]], pkts: list[bytes]
) -> None:
    expected = [vm.interpret(prog, p) for p in pkts]
    assert vm.make_batch_filter(prog)([(p, None) for p in pkts]) == expected
    assert [vm.make_filter(prog)(p) for p in pkts] == expected


def test_header_lengths_fold_into_the_bounds() -> None:
    prog = [(0x28, 0, 0, 2), RET_A]  # halfword at 2 of the packet
    buf = b"HDR" + bytes(range(1, 5)) + b"hdr" + bytes(range(5, 8))
    fn = vm.make_offset_filter(prog, header=3)
    assert fn(buf, [0, 7], [7, 6]) == [0x0304, 0]  # the second packet has 3 bytes only
    assert vm.make_offset_filter([(0x80, 0, 0, 0), RET_A], header=3)(buf, [0, 7], [7, 6]) == [4, 3]
    with pytest.raises(ValueError, match="negative"):
        vm.make_offset_filter(prog, header=-1)
    with pytest.raises(ValueError, match="offset shape"):
        translate.source(prog, mode="batch", header=3)
