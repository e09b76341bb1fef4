"""The Linux ``bpf()`` system call through ctypes: load eBPF programs, test-run them.

No compiled code: ``syscall(SYS_bpf, cmd, &attr, sizeof attr)`` through libc, with
``union bpf_attr`` laid out by hand with :mod:`struct` (only the fields used here; the
kernel accepts a shorter attribute block as long as what it does not know is absent).

* :func:`load_program` is ``BPF_PROG_LOAD``: the verifier checks the instructions and
  the kernel returns a file descriptor.  It loads first without a log (a log costs the
  verifier time and, when the buffer is too small, fails a valid program with ENOSPC);
  only on rejection does it load again with ``log_level=1`` so that the
  :class:`VerifierError` carries the verifier's own explanation (since Linux 6.4 the log
  is a ring: the buffer keeps its *last* lines, the ones that say why).
* :func:`test_run` is ``BPF_PROG_TEST_RUN``: the kernel runs the program over a packet
  ``repeat`` times and reports the return value, the mean time per run in nanoseconds and
  the packet as the program left it.  On the 6.18 kernel this was written on it works for
  all three of bpfc's targets: XDP (``bpf_prog_test_run_xdp``), TC (``sched_cls``) and
  socket filters (both ``bpf_prog_test_run_skb``).  The input must be a whole Ethernet
  frame of at least 14 bytes (:data:`MIN_PACKET`) and at most about a page less head
  and tail room (:func:`max_packet`); for TC and socket filters the kernel also refuses
  (EINVAL) a frame of EtherType IPv4 or IPv6 too short for that fixed header (20 or 40
  bytes after the Ethernet header).  For a *socket filter* the kernel pulls the
  Ethernet header before running the program (``eth_type_trans``), as a socket of the
  IP layer would see the packet: :func:`test_run` with ``link=True`` (the default for
  socket filters) therefore prepends a 14-byte header of its own so that the program
  sees exactly ``packet``, as a ``SOCK_RAW`` packet socket does.
* :data:`PROG_TYPES` names the program types bpfc targets; :func:`attach_socket`
  attaches a loaded socket filter with ``SO_ATTACH_BPF``.

When the kernel cannot load programs at all (not root: EPERM; no ``bpf()``: ENOSYS; a
kernel without BPF), :class:`BpfUnavailable` says so; :func:`unavailable` returns that
reason as text (or ``None``) so tests can skip with it.
"""

from __future__ import annotations

import ctypes
import errno as errno_mod
import os
import platform
import re
import struct
from collections.abc import Iterable
from typing import Any, NamedTuple

from bpfc.errors import BpfcError

SYS_BPF = {"x86_64": 321, "amd64": 321, "aarch64": 280, "arm64": 280}
"""The ``bpf`` system call number per machine (``platform.machine()``)."""

BPF_PROG_LOAD = 5
BPF_PROG_TEST_RUN = 10
BPF_OBJ_GET_INFO_BY_FD = 15

PROG_TYPES = {"socket": 1, "tc": 3, "xdp": 6}
"""bpfc's targets and their ``enum bpf_prog_type`` (``BPF_PROG_TYPE_SOCKET_FILTER``,
``BPF_PROG_TYPE_SCHED_CLS``, ``BPF_PROG_TYPE_XDP``)."""

SO_ATTACH_BPF = 50
"""Linux ``SO_ATTACH_BPF`` (level ``SOL_SOCKET``): attach a loaded socket filter by fd."""

MIN_PACKET = 14
"""The shortest input ``BPF_PROG_TEST_RUN`` takes: an Ethernet header (``ETH_HLEN``)."""

DEFAULT_LOG_SIZE = 1 << 20
"""Bytes of verifier log kept on a rejection (the last ones: the log is a ring)."""

_ATTR_SIZE = 128  # bytes of union bpf_attr we pass: more than any command here uses
_LOAD = struct.Struct("=IIQQIIQII16sII")  # prog_type .. expected_attach_type
_TEST = struct.Struct("=IIIIQQIIIIQQIII")  # prog_fd .. batch_size
_RESULT = struct.Struct("=4xI4xI16x4xI")  # retval, data_size_out, duration
_RETVAL = struct.Struct("=I")
_FAKE_ETHERNET = bytes(12) + b"\x88\xb5"  # IEEE local experimental EtherType
_STATS = re.compile(r"processed \d+ insns|verification time|stack depth")


class BpfError(BpfcError, OSError):
    """A ``bpf()`` call the kernel refused; ``errno`` is its error number."""

    def __init__(self, message: str, err: int = 0) -> None:
        OSError.__init__(self, err, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BpfUnavailable(BpfError):
    """This process cannot load BPF programs (not privileged, or no ``bpf()``)."""


class VerifierError(BpfError):
    """The verifier rejected a program; ``log`` is its log (the end of it when long)."""

    def __init__(self, message: str, err: int, log: str) -> None:
        super().__init__(message, err)
        self.log = log


class TestRun(NamedTuple):
    """What ``BPF_PROG_TEST_RUN`` reports."""

    retval: int
    """The program's return value (XDP action, TC action, or socket snap length)."""
    duration_ns: int
    """The kernel's mean time per run, in whole nanoseconds.  At ``repeat=1`` it is
    mostly the timer's own cost (tens of ns); time a program with ``repeat`` in the
    thousands, and subtract the time of a program that returns at once."""
    data_out: bytes
    """The packet after the run (as the program left it)."""

    __test__ = False  # not a pytest test class, despite the name


_syscall: Any = None


def _bpf(cmd: int, attr: ctypes.Array[ctypes.c_char]) -> int:
    """``bpf(cmd, attr, sizeof attr)``; returns the result or raises :class:`BpfError`."""
    global _syscall
    if _syscall is None:
        number = SYS_BPF.get(platform.machine().lower())
        if number is None:
            raise BpfUnavailable(f"bpf(): unknown system call number on {platform.machine()}")
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.syscall
        function.restype = ctypes.c_long
        function.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_ulong]
        _syscall = (function, number)
    function, number = _syscall
    result = function(number, cmd, ctypes.addressof(attr), len(attr))
    if result < 0:
        err = ctypes.get_errno()
        if err in (errno_mod.EPERM, errno_mod.ENOSYS):
            why = "not permitted (needs root or CAP_BPF)" if err == errno_mod.EPERM else "no bpf()"
            raise BpfUnavailable(f"bpf(): {why}: {os.strerror(err)}", err)
        raise BpfError(f"bpf() command {cmd}: {os.strerror(err)}", err)
    return result


def prog_type_number(prog_type: int | str) -> int:
    """``prog_type`` as ``enum bpf_prog_type``: a number, or a name of :data:`PROG_TYPES`."""
    if isinstance(prog_type, str):
        if prog_type not in PROG_TYPES:
            names = ", ".join(PROG_TYPES)
            raise ValueError(f"unknown program type {prog_type!r} (one of {names})")
        return PROG_TYPES[prog_type]
    if isinstance(prog_type, bool) or not isinstance(prog_type, int) or prog_type < 0:
        raise TypeError(f"prog_type must be a name or a non-negative int, not {prog_type!r}")
    return prog_type


def load_program(
    code: bytes,
    prog_type: int | str,
    *,
    license: str = "GPL",  # noqa: A002 - the kernel's word
    log_size: int = DEFAULT_LOG_SIZE,
    name: str = "bpfc",
) -> int:
    """Load ``code`` (an array of 8-byte ``struct bpf_insn``) and return its file descriptor.

    Raises :class:`VerifierError` (with the verifier's log; the message ends with its last
    lines) when the kernel rejects the program, :class:`BpfUnavailable` when this process
    cannot load programs.  Close the descriptor with :func:`close` (or ``os.close``).
    """
    code = bytes(code)
    if not code or len(code) % 8:
        raise ValueError(f"code must be a non-empty multiple of 8 bytes, not {len(code)}")
    kind = prog_type_number(prog_type)
    insns = ctypes.create_string_buffer(code, len(code))
    licence = ctypes.create_string_buffer(license.encode() + b"\0")
    label = "".join(ch if ch.isalnum() or ch in "_." else "_" for ch in name)[:15].encode()

    def attempt(level: int, log: Any) -> int:
        attr = ctypes.create_string_buffer(_ATTR_SIZE)
        _LOAD.pack_into(
            attr,
            0,
            kind,
            len(code) // 8,
            ctypes.addressof(insns),
            ctypes.addressof(licence),
            level,
            len(log) if log is not None else 0,
            ctypes.addressof(log) if log is not None else 0,
            0,
            0,
            label,
            0,
            0,
        )
        return _bpf(BPF_PROG_LOAD, attr)

    try:
        return attempt(0, None)
    except BpfUnavailable:
        raise
    except BpfError as first:
        log = ctypes.create_string_buffer(max(4096, log_size))
        try:
            fd = attempt(1, log)
        except BpfUnavailable:
            raise
        except BpfError:
            pass
        else:  # accepted with a log but not without one: should not happen; keep the fd
            return fd
        text = log.value.decode("utf-8", "replace")
        tail = [line for line in text.splitlines() if line.strip() and not _STATS.match(line)]
        tail = tail[-2:]
        detail = "; ".join(tail) if tail else os.strerror(first.errno or 0)
        raise VerifierError(
            f"the kernel rejected the {_type_name(kind)} program: {detail}",
            first.errno or 0,
            text,
        ) from None


def _type_name(kind: int) -> str:
    for name, number in PROG_TYPES.items():
        if number == kind:
            return name
    return f"type {kind}"


def close(fd: int) -> None:
    """Close a program's file descriptor (the kernel frees an unattached program)."""
    os.close(fd)


def test_run(
    fd: int,
    packet: bytes,
    repeat: int = 1,
    *,
    link: bool = False,
    out_room: int = 512,
) -> TestRun:
    """Run the loaded program ``fd`` over ``packet`` in the kernel (``BPF_PROG_TEST_RUN``).

    ``link=True`` prepends a 14-byte Ethernet header (all-zero addresses, EtherType
    0x88b5, "local experimental") which the kernel pulls before a *socket filter* runs,
    so that the socket program sees ``packet`` whole, as on a ``SOCK_RAW`` packet socket
    (see the module docstring); leave it off for XDP and TC, whose programs see the frame
    from its first byte.  (That EtherType because the kernel refuses an IPv4 or IPv6
    test packet shorter than its fixed header: with it, any ``packet`` down to 0 bytes
    is taken.  The skb's ``protocol`` is therefore 0x88b5 in such a run.)
    ``out_room`` is how many bytes beyond the input ``data_out`` may hold.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive int, not {repeat!r}")
    data = (_FAKE_ETHERNET if link else b"") + bytes(packet)
    inp = ctypes.create_string_buffer(data, len(data))
    out = ctypes.create_string_buffer(len(data) + out_room)
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    _TEST.pack_into(
        attr,
        0,
        fd,
        0,
        len(data),
        len(out),
        ctypes.addressof(inp),
        ctypes.addressof(out),
        repeat,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    )
    try:
        _bpf(BPF_PROG_TEST_RUN, attr)
    except BpfError as err:
        raise BpfError(
            f"BPF_PROG_TEST_RUN on a {len(data)}-byte packet: {os.strerror(err.errno or 0)}",
            err.errno or 0,
        ) from None
    retval, size_out, duration = _RESULT.unpack_from(attr, 0)
    body = out.raw[: min(size_out, len(out))]
    if link:
        body = body[len(_FAKE_ETHERNET) :] if len(body) >= len(_FAKE_ETHERNET) else body
    return TestRun(retval, duration, body)


def test_run_many(fd: int, packets: Iterable[bytes], *, link: bool = False) -> list[int | None]:
    """The program's return value for each packet (one ``BPF_PROG_TEST_RUN`` each), or
    ``None`` where the kernel refused the packet as input (EINVAL: too short or too long,
    see the module docstring).  The fast path of :func:`test_run` for many packets: one
    set of buffers, no output copy."""
    head = _FAKE_ETHERNET if link else b""
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    address = ctypes.addressof
    out: list[int | None] = []
    for packet in packets:
        data = head + bytes(packet)
        inp = ctypes.create_string_buffer(data, len(data))
        _TEST.pack_into(attr, 0, fd, 0, len(data), 0, address(inp), 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
        try:
            _bpf(BPF_PROG_TEST_RUN, attr)
        except BpfError as err:
            if err.errno != errno_mod.EINVAL:
                raise
            out.append(None)
            continue
        out.append(_RETVAL.unpack_from(attr, 4)[0])
    return out


def attach_socket(sock: Any, fd: int) -> None:
    """Attach the loaded socket filter ``fd`` to ``sock`` (``SO_ATTACH_BPF``)."""
    import socket

    if not callable(getattr(sock, "setsockopt", None)):
        raise TypeError(f"sock must be a socket, not {type(sock).__name__}")
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_BPF, fd)


_RET0 = struct.pack("=BBhi", 0xB7, 0, 0, 0) + struct.pack("=BBhi", 0x95, 0, 0, 0)
_XDP_LENGTH = (  # r2 = ctx->data; r0 = ctx->data_end; r0 -= r2; exit
    struct.pack("=BBhi", 0x61, 0x12, 0, 0)
    + struct.pack("=BBhi", 0x61, 0x10, 4, 0)
    + struct.pack("=BBhi", 0x1F, 0x20, 0, 0)
    + struct.pack("=BBhi", 0x95, 0, 0, 0)
)
_MAX_PACKET: dict[int, int] = {}


def unavailable() -> str | None:
    """Why this process cannot load and test-run BPF programs, or ``None`` if it can.

    Loads ``r0 = 0; exit`` as a socket filter and test-runs it once (a tiny cost; the
    answer is cached per process)."""
    cached = globals().get("_UNAVAILABLE", False)
    if cached is not False:
        return cached
    reason: str | None = None
    try:
        fd = load_program(_RET0, "socket")
        try:
            test_run(fd, bytes(64))
        finally:
            close(fd)
    except (BpfError, OSError) as err:
        reason = f"the kernel cannot run BPF programs here: {err}"
    globals()["_UNAVAILABLE"] = reason
    return reason


def max_packet(prog_type: int | str) -> int:
    """The longest packet ``BPF_PROG_TEST_RUN`` takes for ``prog_type``, found once by
    asking the kernel (about 3.5 KB on x86_64: a page less head and tail room; XDP
    takes longer frames only as fragments, which bpfc's programs do not read)."""
    kind = prog_type_number(prog_type)
    if kind in _MAX_PACKET:
        return _MAX_PACKET[kind]
    xdp = kind == PROG_TYPES["xdp"]
    fd = load_program(_XDP_LENGTH if xdp else _RET0, kind)
    low, high = MIN_PACKET, 1 << 16  # low works, high does not
    try:
        while high - low > 1:
            middle = (low + high) // 2
            try:
                run = test_run(fd, bytes(middle))
            except BpfError:
                high = middle
            else:  # XDP takes longer frames as fragments: the linear part is shorter
                if xdp and run.retval != middle:
                    high = middle
                else:
                    low = middle
    finally:
        close(fd)
    _MAX_PACKET[kind] = low
    return low
