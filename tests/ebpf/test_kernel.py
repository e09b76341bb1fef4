"""bpfc.ebpf.kernel: the bpf() syscall, with hand-written eBPF (no translator involved).

Each test skips, with the kernel's reason, where this process cannot load BPF programs
(not root, no bpf()).
"""

from __future__ import annotations

import re
import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfc.ebpf import kernel
from bpfc.errors import BpfcError

REASON = kernel.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One ``struct bpf_insn`` (little-endian host: dst in the low nibble)."""
    return struct.pack("=BBhi", code, dst | src << 4, off, imm)


EXIT = insn(0x95)


def ret(value: int) -> bytes:
    """``r0 = value; exit``."""
    return insn(0xB7, 0, imm=value) + EXIT


XDP_LENGTH = insn(0x61, 2, 1, 0) + insn(0x61, 0, 1, 4) + insn(0x1F, 0, 2) + EXIT
"""XDP: ``r0 = ctx->data_end - ctx->data`` (the frame's length)."""

SKB_LENGTH = insn(0x61, 0, 1, 0) + EXIT
"""Socket filter / TC: ``r0 = skb->len``."""


def ld_abs_byte(offset: int) -> bytes:
    """Socket filter: ``r6 = ctx; r0 = *(u8 *)skb[offset]`` (legacy LD_ABS: a load past
    the end ends the program with 0, cBPF's meaning)."""
    return insn(0xBF, 6, 1) + insn(0x30, imm=offset) + EXIT


@pytest.fixture
def loaded():
    """Load programs and close every descriptor after the test."""
    fds: list[int] = []

    def load(code: bytes, prog_type: str) -> int:
        fds.append(kernel.load_program(code, prog_type))
        return fds[-1]

    yield load
    for fd in fds:
        kernel.close(fd)


@pytest.mark.parametrize("target, action", [("xdp", 2), ("xdp", 1), ("tc", 0), ("tc", 2)])
def test_constant_program_returns_its_action(loaded, target: str, action: int) -> None:
    fd = loaded(ret(action), target)
    frame = bytes(range(60))
    run = kernel.test_run(fd, frame)
    assert run.retval == action
    assert run.data_out == frame  # the program did not touch the packet
    assert run.duration_ns >= 0


def test_repeat_reports_a_mean_time(loaded) -> None:
    fd = loaded(XDP_LENGTH, "xdp")
    run = kernel.test_run(fd, bytes(64), repeat=2000)
    assert run.retval == 64
    assert 0 <= run.duration_ns < 100_000  # a mean per run, not the total of 2,000


def test_socket_filter_sees_the_packet_whole_with_link(loaded) -> None:
    fd = loaded(SKB_LENGTH, "socket")
    assert kernel.test_run(fd, bytes(100), link=True).retval == 100
    # without the prepended header the kernel pulls the packet's own first 14 bytes
    assert kernel.test_run(fd, bytes(100)).retval == 86
    packet = bytes(range(1, 41))
    first = loaded(ld_abs_byte(0), "socket")
    assert kernel.test_run(first, packet, link=True).retval == 1
    assert kernel.test_run(first, packet, link=True).data_out == packet


@settings(max_examples=40, deadline=None)
@given(size=st.integers(kernel.MIN_PACKET, 1600))
def test_xdp_and_tc_see_the_frame_length(size: int) -> None:
    for code, target in ((XDP_LENGTH, "xdp"), (SKB_LENGTH, "tc")):
        fd = kernel.load_program(code, target)
        try:
            assert kernel.test_run(fd, bytes(size)).retval == size
        finally:
            kernel.close(fd)


@settings(max_examples=40, deadline=None)
@given(packet=st.binary(min_size=1, max_size=80), offset=st.integers(0, 100))
def test_ld_abs_past_the_end_returns_zero(packet: bytes, offset: int) -> None:
    """The legacy packet load a socket filter can use keeps cBPF's meaning: a byte past
    the end ends the program with 0 (so a translated filter rejects the packet)."""
    fd = kernel.load_program(ld_abs_byte(offset), "socket")
    try:
        got = kernel.test_run(fd, packet, link=True).retval
    finally:
        kernel.close(fd)
    assert got == (packet[offset] if offset < len(packet) else 0)


def test_rejection_carries_the_verifier_log() -> None:
    with pytest.raises(kernel.VerifierError) as caught:
        kernel.load_program(EXIT, "xdp")  # r0 never written
    err = caught.value
    assert isinstance(err, BpfcError)
    assert "R0 !read_ok" in str(err)
    assert "R0 !read_ok" in err.log
    assert str(err).startswith("the kernel rejected the xdp program: ")
    assert "\n" not in str(err)  # one line, for the CLI
    # a packet access without a bounds check names the rule it broke
    unchecked = insn(0x61, 2, 1, 0) + insn(0x71, 0, 2, 0) + EXIT  # r0 = *(u8 *)data
    with pytest.raises(kernel.VerifierError, match="invalid access to packet"):
        kernel.load_program(unchecked, "xdp")


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="unknown program type 'kprobe'"):
        kernel.load_program(ret(0), "kprobe")
    with pytest.raises(TypeError, match="prog_type"):
        kernel.load_program(ret(0), True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multiple of 8"):
        kernel.load_program(ret(0)[:12], "xdp")
    with pytest.raises(ValueError, match="repeat"):
        kernel.test_run(0, bytes(20), repeat=0)


def test_input_length_limits(loaded) -> None:
    fd = loaded(XDP_LENGTH, "xdp")
    with pytest.raises(kernel.BpfError, match="13-byte packet"):
        kernel.test_run(fd, bytes(kernel.MIN_PACKET - 1))
    longest = kernel.max_packet("xdp")
    assert 1514 <= longest < 4096
    assert kernel.test_run(fd, bytes(longest)).retval == longest
    assert kernel.test_run(fd, bytes(longest + 1)).retval != longest + 1  # fragments
    tc = loaded(SKB_LENGTH, "tc")
    assert kernel.test_run(tc, bytes(kernel.max_packet("tc"))).retval == kernel.max_packet("tc")
    with pytest.raises(kernel.BpfError):
        kernel.test_run(tc, bytes(kernel.max_packet("tc") + 1))


def test_closed_descriptor_is_an_error() -> None:
    fd = kernel.load_program(ret(1), "xdp")
    kernel.close(fd)
    with pytest.raises(kernel.BpfError, match="Bad file descriptor"):
        kernel.test_run(fd, bytes(20))


def test_attach_socket_filters_a_real_socket(loaded) -> None:
    """A loaded socket filter attached with SO_ATTACH_BPF decides what a socket receives
    (an AF_UNIX datagram socket: the filter sees each message from its first byte)."""
    keep_long = (
        (  # r0 = skb->len >= 10 ? 0xffff : 0
            insn(0x61, 2, 1, 0) + insn(0xB7, 0, imm=0) + insn(0xA5, 2, off=1, imm=10)
        )
        + insn(0xB7, 0, imm=0xFFFF)
        + EXIT
    )
    fd = loaded(keep_long, "socket")
    sender, receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with sender, receiver:
        kernel.attach_socket(receiver, fd)
        for message in (b"short", b"long enough", b"tiny", b"0123456789"):
            sender.send(message)
        receiver.setblocking(False)
        got = []
        while True:
            try:
                got.append(receiver.recv(100))
            except BlockingIOError:
                break
    assert got == [b"long enough", b"0123456789"]
    with pytest.raises(TypeError, match="sock must be a socket"):
        kernel.attach_socket(object(), fd)


TCP80 = bytes.fromhex(
    "00112233445566778899aabb08004500002800010000400600000a0000010a000002"
    "9c40005000000001000000005002ffff00000000"
)


@pytest.mark.parametrize(
    "target, options, accepted, rejected",
    [
        ("xdp", {}, 2, 1),
        ("xdp", {"accept": "tx", "reject": "aborted"}, 3, 0),
        ("tc", {}, 0, 2),
        ("socket", {}, 262144, 0),
    ],
)
def test_program_objects_load_and_run_through_this_module(
    target: str, options: dict, accepted: int, rejected: int
) -> None:
    """``Program.to_ebpf(...).test_run`` / ``.load()`` are this module's calls (the socket
    program sees the frame whole: ``link`` is set for it)."""
    import bpfc

    ebpf = bpfc.compile("tcp port 80").to_ebpf(target, **options)
    assert ebpf.test_run(TCP80).retval == accepted
    other = TCP80[:36] + b"\x00\x51" + TCP80[38:]  # destination port 81
    assert ebpf.test_run(other).retval == rejected
    fd = ebpf.load()
    try:
        runs = kernel.test_run_many(fd, [TCP80, other], link=target == "socket")
    finally:
        kernel.close(fd)
    assert runs == [accepted, rejected]


def test_program_object_rejection_is_a_verifier_error() -> None:
    from bpfc.ebpf.program import EbpfProgram

    with pytest.raises(kernel.VerifierError, match="R0 !read_ok"):
        EbpfProgram("xdp", [(0x95, 0, 0, 0, 0)]).load()


@pytest.mark.parametrize(
    "err, words", [(1, "not permitted (needs root or CAP_BPF)"), (38, "no bpf()")]
)
def test_unavailable_kernel_is_named(monkeypatch, err: int, words: str) -> None:
    """EPERM and ENOSYS become BpfUnavailable, and unavailable() gives the reason that
    the kernel tests skip with (a fake system call stands in for such a kernel)."""
    import ctypes

    def refuse(*_args: object) -> int:
        ctypes.set_errno(err)
        return -1

    monkeypatch.setattr(kernel, "_syscall", (refuse, 321))
    monkeypatch.setitem(vars(kernel), "_UNAVAILABLE", False)  # forget the cached answer
    with pytest.raises(kernel.BpfUnavailable, match=re.escape(words)) as caught:
        kernel.load_program(ret(0), "xdp")
    assert caught.value.errno == err
    reason = kernel.unavailable()
    assert reason is not None and words in reason
    assert reason.startswith("the kernel cannot run BPF programs here")
