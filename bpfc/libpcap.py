"""The system libpcap as an oracle, through ctypes (optional at run time).

bpfc never needs libpcap to work; tests and benchmarks use it to check that our
compiler, validator and interpreter agree with the real thing.  Everything here is
a thin wrapper: ``pcap_open_dead`` + ``pcap_compile``, ``bpf_validate``,
``bpf_filter``, ``bpf_image`` and the DLT name tables.

Two hazards shape the API:

* ``pcap_compile`` (and ``bpf_image``'s static buffer) are not reentrant in older
  releases, so every call into them holds one module lock.
* libpcap 1.10.3's ``bpf_filter`` calls ``abort()`` on opcodes its own
  ``bpf_validate`` lets through (``ret x``, ``ldx [k]``, unknown MISC codes ...) and
  follows unsigned-overflowing ``ja`` offsets off the end of the program.  So the
  in-process :func:`bpf_filter` runs only programs that pass ``bpf_validate``, use
  only opcodes the interpreter implements and jump only forward;
  :func:`bpf_filter_isolated` runs anything in a child process and reports a crash
  as :class:`LibpcapCrash`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bpfc.errors import BpfcError
from bpfc.isa.insn import Insn
from bpfc.isa.opcodes import JA

__all__ = [
    "FILTER_SAFE_CODES",
    "LibpcapCrash",
    "LibpcapError",
    "LibpcapUnavailable",
    "available",
    "bpf_filter",
    "bpf_filter_isolated",
    "bpf_image",
    "bpf_validate",
    "compile",
    "dlt_name",
    "dlt_value",
    "make_bpf_filter",
    "version",
]

PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF

FILTER_SAFE_CODES: frozenset[int] = frozenset(
    {
        0x06, 0x16,  # ret k, ret a
        0x20, 0x28, 0x30,  # ld/ldh/ldb [k]
        0x40, 0x48, 0x50,  # ld/ldh/ldb [x + k]
        0x80, 0x81,  # ld len, ldx len
        0xB1,  # ldxb 4*([k]&0xf)
        0x00, 0x01,  # ld #k, ldx #k
        0x60, 0x61, 0x02, 0x03,  # ld M[k], ldx M[k], st, stx
        0x05, 0x15, 0x25, 0x35, 0x45, 0x1D, 0x2D, 0x3D, 0x4D,  # ja, jxx k, jxx x
        0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0x94, 0xA4,  # alu k
        0x0C, 0x1C, 0x2C, 0x3C, 0x4C, 0x5C, 0x6C, 0x7C, 0x9C, 0xAC,  # alu x
        0x84, 0x07, 0x87,  # neg, tax, txa
    }
)  # fmt: skip
"""Opcodes libpcap 1.10.3's ``bpf_filter`` implements; any other code makes it abort."""


class LibpcapError(BpfcError, RuntimeError):
    """libpcap refused something; ``message`` is its own text where it gave one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LibpcapUnavailable(LibpcapError):
    """No usable libpcap shared library on this machine."""


class LibpcapCrash(LibpcapError):
    """The isolated ``bpf_filter`` child died (``signal`` is the signal number, if any)."""

    def __init__(self, message: str, signal: int | None = None) -> None:
        super().__init__(message)
        self.signal = signal


class _BpfInsn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    ]


class _BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(_BpfInsn))]


_LOCK = threading.RLock()
_LIB: ctypes.CDLL | None = None
_LOAD_FAILED: str | None = None
_HANDLES: dict[tuple[int, int], int] = {}


def _load() -> ctypes.CDLL:
    global _LIB, _LOAD_FAILED
    if _LIB is not None:
        return _LIB
    if _LOAD_FAILED is not None:
        raise LibpcapUnavailable(_LOAD_FAILED)
    with _LOCK:
        if _LIB is not None:
            return _LIB
        names = [n for n in (ctypes.util.find_library("pcap"), "libpcap.so.0.8") if n]
        names += ["libpcap.so", "libpcap.so.1", "libpcap.dylib"]
        lib = None
        for name in names:
            try:
                lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        if lib is None:
            _LOAD_FAILED = "libpcap shared library not found"
            raise LibpcapUnavailable(_LOAD_FAILED)
        _declare(lib)
        _LIB = lib
        return lib


def _declare(lib: ctypes.CDLL) -> None:
    c = ctypes
    lib.pcap_lib_version.restype = c.c_char_p
    lib.pcap_lib_version.argtypes = []
    lib.pcap_open_dead.restype = c.c_void_p
    lib.pcap_open_dead.argtypes = [c.c_int, c.c_int]
    lib.pcap_compile.restype = c.c_int
    lib.pcap_compile.argtypes = [
        c.c_void_p,
        c.POINTER(_BpfProgram),
        c.c_char_p,
        c.c_int,
        c.c_uint32,
    ]
    lib.pcap_freecode.restype = None
    lib.pcap_freecode.argtypes = [c.POINTER(_BpfProgram)]
    lib.pcap_geterr.restype = c.c_char_p
    lib.pcap_geterr.argtypes = [c.c_void_p]
    lib.pcap_datalink_name_to_val.restype = c.c_int
    lib.pcap_datalink_name_to_val.argtypes = [c.c_char_p]
    lib.pcap_datalink_val_to_name.restype = c.c_char_p
    lib.pcap_datalink_val_to_name.argtypes = [c.c_int]
    lib.bpf_validate.restype = c.c_int
    lib.bpf_validate.argtypes = [c.POINTER(_BpfInsn), c.c_int]
    lib.bpf_filter.restype = c.c_uint
    lib.bpf_filter.argtypes = [c.POINTER(_BpfInsn), c.c_void_p, c.c_uint, c.c_uint]
    lib.bpf_image.restype = c.c_char_p
    lib.bpf_image.argtypes = [c.POINTER(_BpfInsn), c.c_int]


def available() -> bool:
    """True when the system libpcap can be loaded."""
    try:
        _load()
    except LibpcapUnavailable:
        return False
    return True


def version() -> str:
    """``pcap_lib_version()``, e.g. ``'libpcap version 1.10.3 (with TPACKET_V3)'``."""
    return _load().pcap_lib_version().decode()


def dlt_value(name: str) -> int:
    """The DLT number for a link-type name such as ``EN10MB`` (a ``DLT_`` prefix is allowed)."""
    lib = _load()
    bare = name[4:] if name.upper().startswith("DLT_") else name
    value = lib.pcap_datalink_name_to_val(bare.encode())
    if value < 0:
        raise LibpcapError(f"unknown data link type {name!r}")
    return int(value)


def dlt_name(value: int) -> str | None:
    """The libpcap name for a DLT number (``1 -> 'EN10MB'``), or None when it has none."""
    name = _load().pcap_datalink_val_to_name(int(value))
    return None if name is None else name.decode()


def _handle(dlt: int, snaplen: int) -> int:
    key = (dlt, snaplen)
    handle = _HANDLES.get(key)
    if handle is None:
        handle = _load().pcap_open_dead(dlt, snaplen)
        if not handle:
            raise LibpcapError(f"pcap_open_dead({dlt}, {snaplen}) failed")
        _HANDLES[key] = handle
    return handle


def compile(
    expr: str,
    linktype: str | int = "EN10MB",
    snaplen: int = 262144,
    optimize: bool = True,
    netmask: int = PCAP_NETMASK_UNKNOWN,
) -> list[Insn]:
    """Compile ``expr`` with ``pcap_compile`` and return the program as ``Insn`` tuples.

    Raises :class:`LibpcapError` with ``pcap_geterr``'s text when libpcap rejects it.
    """
    lib = _load()
    dlt = linktype if isinstance(linktype, int) else dlt_value(linktype)
    prog = _BpfProgram()
    with _LOCK:
        handle = _handle(dlt, snaplen)
        rc = lib.pcap_compile(handle, ctypes.byref(prog), expr.encode(), int(optimize), netmask)
        if rc != 0:
            raise LibpcapError(lib.pcap_geterr(handle).decode(errors="replace"))
        try:
            return [
                Insn(p.code, p.jt, p.jf, p.k)
                for p in (prog.bf_insns[i] for i in range(prog.bf_len))
            ]
        finally:
            lib.pcap_freecode(ctypes.byref(prog))


def _to_array(insns: Sequence[Sequence[int]]) -> ctypes.Array[_BpfInsn]:
    array = (_BpfInsn * max(1, len(insns)))()
    for slot, insn in zip(array, insns, strict=False):
        code, jt, jf, k = insn
        if not (0 <= code <= 0xFFFF and 0 <= jt <= 0xFF and 0 <= jf <= 0xFF):
            raise LibpcapError(f"instruction {tuple(insn)!r} does not fit struct bpf_insn")
        if not 0 <= k <= 0xFFFFFFFF:
            raise LibpcapError(f"instruction {tuple(insn)!r} does not fit struct bpf_insn")
        slot.code, slot.jt, slot.jf, slot.k = code, jt, jf, k
    return array


def bpf_validate(insns: Sequence[Sequence[int]]) -> bool:
    """libpcap's own ``bpf_validate`` verdict on the program."""
    lib = _load()
    if not insns:
        return False
    return bool(lib.bpf_validate(_to_array(insns), len(insns)))


def bpf_image(insn: Sequence[int], n: int) -> str:
    """libpcap's ``bpf_image`` text for one instruction at index ``n``."""
    lib = _load()
    array = _to_array([insn])
    with _LOCK:
        return lib.bpf_image(array, n).decode()


def _unsafe_reason(insns: Sequence[Sequence[int]]) -> str | None:
    """Why libpcap's in-process ``bpf_filter`` could crash on ``insns`` (None: it can't)."""
    lib = _load()
    if not insns or not lib.bpf_validate(_to_array(insns), len(insns)):
        return "libpcap bpf_validate rejects the program"
    for index, (code, _jt, _jf, k) in enumerate(insns):
        if code not in FILTER_SAFE_CODES:
            return f"insn {index}: opcode {code:#04x} makes libpcap bpf_filter abort"
        if code == JA and index + 1 + k >= len(insns):
            return f"insn {index}: ja offset {k} wraps around"
    return None


def _buffer(packet: Any) -> tuple[Any, int]:
    """A ctypes-passable pointer to the packet's bytes, without copying when possible."""
    if isinstance(packet, bytes):
        return packet, len(packet)
    view = memoryview(packet)
    if view.readonly:
        data = view.tobytes()  # the oracle only; a copy is acceptable here
        return data, len(data)
    view = view.cast("B")
    return (ctypes.c_char * view.nbytes).from_buffer(view), view.nbytes


def make_bpf_filter(insns: Sequence[Sequence[int]]) -> Callable[..., int]:
    """Check ``insns`` once and return ``fn(packet, wirelen=None) -> int`` calling libpcap.

    Raises :class:`LibpcapError` when the program could crash libpcap in-process
    (use :func:`bpf_filter_isolated` for those).
    """
    reason = _unsafe_reason(insns)
    if reason is not None:
        raise LibpcapError(f"refusing to run in-process: {reason}")
    lib = _load()
    array = _to_array(insns)
    raw = lib.bpf_filter

    def run(packet: Any, wirelen: int | None = None) -> int:
        if type(packet) is bytes:  # the common case, without the buffer dance
            buflen = len(packet)
            return raw(array, packet, buflen if wirelen is None else wirelen, buflen)  # type: ignore[no-any-return]
        data, buflen = _buffer(packet)
        return int(raw(array, data, buflen if wirelen is None else wirelen, buflen))

    return run


def bpf_filter(insns: Sequence[Sequence[int]], packet: Any, wirelen: int | None = None) -> int:
    """libpcap's ``bpf_filter`` return value for ``packet`` (``wirelen`` defaults to its length).

    Only for programs that cannot crash libpcap (see :func:`make_bpf_filter`).
    """
    return make_bpf_filter(insns)(packet, wirelen)


_CHILD = """
import json, sys
from bpfc import libpcap
req = json.load(sys.stdin)
lib = libpcap._load()
arr = libpcap._to_array(req["insns"])
out = []
for hexdata, wirelen in req["packets"]:
    data = bytes.fromhex(hexdata)
    out.append(int(lib.bpf_filter(arr, data, len(data) if wirelen is None else wirelen, len(data))))
json.dump(out, sys.stdout)
"""


def bpf_filter_isolated(
    insns: Sequence[Sequence[int]],
    packets: Iterable[tuple[bytes, int | None]] | bytes,
    wirelen: int | None = None,
    timeout: float = 30.0,
) -> int | list[int]:
    """Run libpcap ``bpf_filter`` on any program in a child process.

    ``packets`` is one packet (then ``wirelen`` applies and an int is returned) or an
    iterable of ``(packet, wirelen)`` pairs (then a list is returned).  A child killed
    by a signal (libpcap's ``abort()``) raises :class:`LibpcapCrash`.
    """
    _load()
    single = isinstance(packets, (bytes, bytearray, memoryview))
    pairs = [(packets, wirelen)] if single else list(packets)  # type: ignore[list-item]
    request = {
        "insns": [list(map(int, insn)) for insn in insns],
        "packets": [[bytes(p).hex(), w] for p, w in pairs],
    }
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        signal = -proc.returncode if proc.returncode < 0 else None
        what = f"signal {signal}" if signal else f"exit status {proc.returncode}"
        raise LibpcapCrash(f"libpcap bpf_filter child died with {what}", signal)
    results = [int(r) for r in json.loads(proc.stdout)]
    return results[0] if single else results
