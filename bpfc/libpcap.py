"""libpcap as an oracle, through ctypes (optional at run time): the system's or any build.

bpfc never needs libpcap to work; tests and benchmarks use it to check that our
compiler, validator and interpreter agree with the real thing.  Everything here is
a thin wrapper: ``pcap_open_dead`` + ``pcap_compile``, ``bpf_validate``,
``bpf_filter``, ``bpf_image`` and the DLT name tables.  :class:`Libpcap` wraps one
library, by path (libpcap master, built from ``../shared``, is the second oracle); the
module-level functions are the system library's (:data:`SYSTEM`).

Two hazards shape the API:

* ``pcap_compile`` (and ``bpf_image``'s static buffer) are not reentrant in older
  releases, so every call into them holds one module lock.
* libpcap 1.10.3's ``bpf_filter`` calls ``abort()`` on opcodes its own
  ``bpf_validate`` lets through (``ret x``, ``ldx [k]``, unknown MISC codes ...) and
  follows unsigned-overflowing ``ja`` offsets off the end of the program.  So the
  in-process :func:`bpf_filter` runs only programs that pass ``bpf_validate``, use
  only opcodes the interpreter implements and jump only forward;
  :func:`bpf_filter_isolated` runs anything in a child process and reports a crash
  as :class:`LibpcapCrash`.  :class:`CompileWorker` does the same for ``pcap_compile``
  over random expressions, which older releases can crash or hang on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bpfc.errors import BpfcError
from bpfc.isa.insn import Insn
from bpfc.isa.opcodes import JA

__all__ = [
    "FILTER_SAFE_CODES",
    "SYSTEM",
    "CompileWorker",
    "Libpcap",
    "LibpcapCrash",
    "LibpcapError",
    "LibpcapUnavailable",
    "available",
    "bpf_filter",
    "bpf_filter_isolated",
    "bpf_image",
    "bpf_validate",
    "compile",
    "dlt_description",
    "dlt_name",
    "dlt_value",
    "etc_overlay_error",
    "library",
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
"""One lock for every loaded libpcap: ``pcap_compile`` and ``bpf_image`` keep global state."""

_SYSTEM_NAMES = ("libpcap.so.0.8", "libpcap.so", "libpcap.so.1", "libpcap.dylib")


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
    lib.pcap_datalink_val_to_description.restype = c.c_char_p
    lib.pcap_datalink_val_to_description.argtypes = [c.c_int]
    lib.bpf_validate.restype = c.c_int
    lib.bpf_validate.argtypes = [c.POINTER(_BpfInsn), c.c_int]
    lib.bpf_filter.restype = c.c_uint
    lib.bpf_filter.argtypes = [c.POINTER(_BpfInsn), c.c_void_p, c.c_uint, c.c_uint]
    lib.bpf_image.restype = c.c_char_p
    lib.bpf_image.argtypes = [c.POINTER(_BpfInsn), c.c_int]


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


class Libpcap:
    """One libpcap shared library, loaded lazily: the system's (``path=None``) or any
    build named by its path (libpcap master, for the front-end differential).

    Each instance keeps its own ``pcap_open_dead`` handles; calls into ``pcap_compile``
    and ``bpf_image`` hold the module lock whichever library they go to, since older
    releases keep the parser's and the image buffer's state in globals.  Use
    :func:`library` to share one instance per path.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else os.fspath(path)
        self._lib: ctypes.CDLL | None = None
        self._failed: str | None = None
        self._handles: dict[tuple[int, int], int] = {}

    def __repr__(self) -> str:
        return f"Libpcap({self.path!r})"

    def _load(self) -> ctypes.CDLL:
        if self._lib is not None:
            return self._lib
        if self._failed is not None:
            raise LibpcapUnavailable(self._failed)
        with _LOCK:
            if self._lib is not None:
                return self._lib
            if self.path is not None:
                names = [self.path]
            else:
                found = ctypes.util.find_library("pcap")
                names = [*([found] if found else []), *_SYSTEM_NAMES]
            lib = None
            for name in names:
                try:
                    lib = ctypes.CDLL(name)
                    break
                except OSError:
                    continue
            if lib is None:
                self._failed = f"{self.path or 'libpcap shared library'} not found"
                raise LibpcapUnavailable(self._failed)
            _declare(lib)
            self._lib = lib
            return lib

    def available(self) -> bool:
        """True when the library can be loaded."""
        try:
            self._load()
        except LibpcapUnavailable:
            return False
        return True

    def version(self) -> str:
        """``pcap_lib_version()``, e.g. ``'libpcap version 1.10.3 (with TPACKET_V3)'``."""
        return str(self._load().pcap_lib_version().decode())

    def dlt_value(self, name: str) -> int:
        """The DLT number for a link-type name such as ``EN10MB`` (``DLT_`` prefix allowed)."""
        lib = self._load()
        bare = name[4:] if name.upper().startswith("DLT_") else name
        value = lib.pcap_datalink_name_to_val(bare.encode())
        if value < 0:
            raise LibpcapError(f"unknown data link type {name!r}")
        return int(value)

    def dlt_name(self, value: int) -> str | None:
        """The libpcap name for a DLT number (``1 -> 'EN10MB'``), or None when it has none."""
        name = self._load().pcap_datalink_val_to_name(int(value))
        return None if name is None else str(name.decode())

    def dlt_description(self, value: int) -> str | None:
        """``pcap_datalink_val_to_description`` (``12 -> 'Raw IPv4/IPv6'``), or None."""
        text = self._load().pcap_datalink_val_to_description(int(value))
        return None if text is None else str(text.decode())

    def _handle(self, dlt: int, snaplen: int) -> int:
        key = (dlt, snaplen)
        handle = self._handles.get(key)
        if handle is None:
            handle = self._load().pcap_open_dead(dlt, snaplen)
            if not handle:
                raise LibpcapError(f"pcap_open_dead({dlt}, {snaplen}) failed")
            self._handles[key] = handle
        return handle

    def compile(
        self,
        expr: str,
        linktype: str | int = "EN10MB",
        snaplen: int = 262144,
        optimize: bool = True,
        netmask: int = PCAP_NETMASK_UNKNOWN,
    ) -> list[Insn]:
        """Compile ``expr`` with ``pcap_compile`` and return the program as ``Insn`` tuples.

        Raises :class:`LibpcapError` carrying ``pcap_geterr``'s whole text on rejection.
        """
        lib = self._load()
        dlt = linktype if isinstance(linktype, int) else self.dlt_value(linktype)
        prog = _BpfProgram()
        with _LOCK:
            handle = self._handle(dlt, snaplen)
            mask = netmask & 0xFFFFFFFF
            rc = lib.pcap_compile(handle, ctypes.byref(prog), expr.encode(), int(optimize), mask)
            if rc != 0:
                raise LibpcapError(lib.pcap_geterr(handle).decode(errors="replace"))
            try:
                return [
                    Insn(p.code, p.jt, p.jf, p.k)
                    for p in (prog.bf_insns[i] for i in range(prog.bf_len))
                ]
            finally:
                lib.pcap_freecode(ctypes.byref(prog))

    def compile_or_error(
        self,
        expr: str,
        linktype: str | int = "EN10MB",
        snaplen: int = 262144,
        optimize: bool = True,
        netmask: int = PCAP_NETMASK_UNKNOWN,
    ) -> list[Insn] | str:
        """The program, or ``pcap_geterr``'s whole text when libpcap refuses ``expr``."""
        try:
            return self.compile(expr, linktype, snaplen, optimize, netmask)
        except LibpcapUnavailable:
            raise
        except LibpcapError as err:
            return err.message

    def bpf_validate(self, insns: Sequence[Sequence[int]]) -> bool:
        """libpcap's own ``bpf_validate`` verdict on the program."""
        lib = self._load()
        if not insns:
            return False
        return bool(lib.bpf_validate(_to_array(insns), len(insns)))

    def bpf_image(self, insn: Sequence[int], n: int) -> str:
        """libpcap's ``bpf_image`` text for one instruction at index ``n``."""
        lib = self._load()
        array = _to_array([insn])
        with _LOCK:
            return str(lib.bpf_image(array, n).decode())

    def unsafe_reason(self, insns: Sequence[Sequence[int]]) -> str | None:
        """Why the in-process ``bpf_filter`` could crash on ``insns`` (None: it can't).
        The 1.10.3 opcode set serves every version (later ones implement more, not less)."""
        lib = self._load()
        if not insns or not lib.bpf_validate(_to_array(insns), len(insns)):
            return "libpcap bpf_validate rejects the program"
        for index, (code, _jt, _jf, k) in enumerate(insns):
            if code not in FILTER_SAFE_CODES:
                return f"insn {index}: opcode {code:#04x} makes libpcap bpf_filter abort"
            if code == JA and index + 1 + k >= len(insns):
                return f"insn {index}: ja offset {k} wraps around"
        return None

    def make_bpf_filter(self, insns: Sequence[Sequence[int]]) -> Callable[..., int]:
        """Check ``insns`` once and return ``fn(packet, wirelen=None) -> int`` calling libpcap.

        Raises :class:`LibpcapError` when the program could crash libpcap in-process
        (use :meth:`bpf_filter_isolated` for those).
        """
        reason = self.unsafe_reason(insns)
        if reason is not None:
            raise LibpcapError(f"refusing to run in-process: {reason}")
        array = _to_array(insns)
        raw = self._load().bpf_filter

        def run(packet: Any, wirelen: int | None = None) -> int:
            if type(packet) is bytes:  # the common case, without the buffer dance
                buflen = len(packet)
                return raw(array, packet, buflen if wirelen is None else wirelen, buflen)  # type: ignore[no-any-return]
            data, buflen = _buffer(packet)
            return int(raw(array, data, buflen if wirelen is None else wirelen, buflen))

        return run

    def bpf_filter(
        self, insns: Sequence[Sequence[int]], packet: Any, wirelen: int | None = None
    ) -> int:
        """``bpf_filter``'s return value for ``packet`` (``wirelen`` defaults to its length).

        Only for programs that cannot crash libpcap (see :meth:`make_bpf_filter`).
        """
        return self.make_bpf_filter(insns)(packet, wirelen)

    def bpf_filter_isolated(
        self,
        insns: Sequence[Sequence[int]],
        packets: Iterable[tuple[bytes, int | None]] | bytes,
        wirelen: int | None = None,
        timeout: float = 30.0,
    ) -> int | list[int]:
        """Run ``bpf_filter`` on any program in a child process.

        ``packets`` is one packet (then ``wirelen`` applies and an int is returned) or an
        iterable of ``(packet, wirelen)`` pairs (then a list is returned).  A child killed
        by a signal (libpcap's ``abort()``) raises :class:`LibpcapCrash`.
        """
        self._load()
        single = isinstance(packets, (bytes, bytearray, memoryview))
        pairs = [(packets, wirelen)] if single else list(packets)  # type: ignore[list-item]
        request = {
            "path": self.path,
            "insns": [list(map(int, insn)) for insn in insns],
            "packets": [[bytes(p).hex(), w] for p, w in pairs],
        }
        proc = subprocess.run(
            [sys.executable, "-c", _FILTER_CHILD],
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


_FILTER_CHILD = """
import json, sys
from bpfc import libpcap
req = json.load(sys.stdin)
lib = libpcap.library(req["path"])._load()
arr = libpcap._to_array(req["insns"])
out = []
for hexdata, wirelen in req["packets"]:
    data = bytes.fromhex(hexdata)
    out.append(int(lib.bpf_filter(arr, data, len(data) if wirelen is None else wirelen, len(data))))
json.dump(out, sys.stdout)
"""

_COMPILE_CHILD = """
import json, sys
from bpfc import libpcap
lib = libpcap.library(sys.argv[1] or None)
for line in sys.stdin:
    expr, linktype, snaplen, optimize, netmask = json.loads(line)
    try:
        out = {"insns": [list(i) for i in lib.compile(expr, linktype, snaplen, optimize, netmask)]}
    except libpcap.LibpcapError as err:
        out = {"error": err.message}
    sys.stdout.write(json.dumps(out) + "\\n")
    sys.stdout.flush()
"""


class CompileWorker:
    """``pcap_compile`` of one library in a long-lived child process.

    For random expressions against any libpcap: a crash (older releases abort or
    fault on some inputs) or a hang in the library kills only the child, reported as
    :class:`LibpcapCrash`; the next call starts a new child.  One request is in flight
    at a time, so the worker is as thread-safe as its lock.

    ``etc`` maps file names to contents that the child sees in ``/etc`` (in a private
    namespace, see :func:`etc_overlay_error`): name-service fixtures, so that libpcap
    resolves the same hosts, ethers and networks as a bpfc ``StaticResolver``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        timeout: float = 10.0,
        etc: Mapping[str, str] | None = None,
    ) -> None:
        self.path = None if path is None else os.fspath(path)
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._overlay: tempfile.TemporaryDirectory[str] | None = None
        if etc:
            why = etc_overlay_error()
            if why is not None:
                raise LibpcapUnavailable(why)
            self._overlay = tempfile.TemporaryDirectory(prefix="bpfc-etc-")
            upper = Path(self._overlay.name, "upper")
            upper.mkdir()
            Path(self._overlay.name, "work").mkdir()
            for name, text in etc.items():
                (upper / name).write_text(text)

    def _command(self) -> list[str]:
        child = [sys.executable, "-c", _COMPILE_CHILD, self.path or ""]
        if self._overlay is None:
            return child
        return [*_overlay_prefix(self._overlay.name), *child]

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        return self._proc

    def compile(
        self,
        expr: str,
        linktype: str | int = "EN10MB",
        snaplen: int = 262144,
        optimize: bool = True,
        netmask: int = PCAP_NETMASK_UNKNOWN,
    ) -> list[Insn]:
        """As :meth:`Libpcap.compile`, in the child; a dead or stuck child raises
        :class:`LibpcapCrash` (``signal`` set when a signal killed it)."""
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            request = json.dumps([expr, linktype, snaplen, bool(optimize), netmask & 0xFFFFFFFF])
            try:
                proc.stdin.write(request + "\n")
                proc.stdin.flush()
            except OSError:
                return self._died(expr)
            ready, _, _ = select.select([proc.stdout], [], [], self.timeout)
            line = proc.stdout.readline() if ready else ""
            if not line:
                return self._died(expr, hung=not ready)
        answer = json.loads(line)
        if "error" in answer:
            raise LibpcapError(answer["error"])
        return [Insn(*insn) for insn in answer["insns"]]

    def _died(self, expr: str, hung: bool = False) -> list[Insn]:
        proc, self._proc = self._proc, None
        assert proc is not None
        if hung:
            proc.kill()
        code = proc.wait()
        signal = -code if code < 0 and not hung else None
        if hung:
            what = f"no answer within {self.timeout:g} s"
        else:
            what = f"signal {signal}" if signal else f"exit status {code}"
        raise LibpcapCrash(f"pcap_compile child died on {expr!r}: {what}", signal)

    def close(self) -> None:
        """Stop the child (a later call starts a new one; the ``etc`` files go with the
        worker)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> CompileWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _overlay_prefix(root: str) -> list[str]:
    """Run the rest of the command in a private user and mount namespace whose ``/etc`` is
    the real one overlaid with the files under ``root/upper`` (the machine is untouched)."""
    script = (
        'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc'
        ' && shift && exec "$@"'
    )
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", root]


@functools.cache
def etc_overlay_error() -> str | None:
    """None when :class:`CompileWorker` can give its child private ``/etc`` files
    (``etc=``: name-service fixtures such as ``hosts``, ``ethers``, ``networks``, which
    libpcap reads through the C library), else why not."""
    if shutil.which("unshare") is None:
        return "no unshare(1) to give the libpcap child its own /etc"
    with tempfile.TemporaryDirectory(prefix="bpfc-etc-") as root:
        Path(root, "upper").mkdir()
        Path(root, "work").mkdir()
        Path(root, "upper", "bpfc-probe").write_text("ok\n")
        try:
            done = subprocess.run(
                [*_overlay_prefix(root), "cat", "/etc/bpfc-probe"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"cannot overlay /etc for the libpcap child: {err}"
    if done.returncode != 0 or done.stdout != "ok\n":
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"cannot overlay /etc for the libpcap child (user namespaces?): {tail}"
    return None


_LIBRARIES: dict[str | None, Libpcap] = {}


def library(path: str | os.PathLike[str] | None = None) -> Libpcap:
    """The shared :class:`Libpcap` for ``path`` (None: the system library)."""
    key = None if path is None else os.path.realpath(os.fspath(path))
    with _LOCK:
        lib = _LIBRARIES.get(key)
        if lib is None:
            lib = _LIBRARIES[key] = Libpcap(key)
        return lib


SYSTEM = library()
"""The system libpcap; the module-level functions below delegate to it."""


def _load() -> ctypes.CDLL:
    return SYSTEM._load()


def available() -> bool:
    """True when the system libpcap can be loaded."""
    return SYSTEM.available()


def version() -> str:
    """The system library's ``pcap_lib_version()``."""
    return SYSTEM.version()


def dlt_value(name: str) -> int:
    """The DLT number for a link-type name such as ``EN10MB`` (a ``DLT_`` prefix is allowed)."""
    return SYSTEM.dlt_value(name)


def dlt_name(value: int) -> str | None:
    """The libpcap name for a DLT number (``1 -> 'EN10MB'``), or None when it has none."""
    return SYSTEM.dlt_name(value)


def dlt_description(value: int) -> str | None:
    """The system library's description of a DLT (``1 -> 'Ethernet'``), or None."""
    return SYSTEM.dlt_description(value)


def compile(
    expr: str,
    linktype: str | int = "EN10MB",
    snaplen: int = 262144,
    optimize: bool = True,
    netmask: int = PCAP_NETMASK_UNKNOWN,
) -> list[Insn]:
    """Compile with the system ``pcap_compile`` (see :meth:`Libpcap.compile`)."""
    return SYSTEM.compile(expr, linktype, snaplen, optimize, netmask)


def bpf_validate(insns: Sequence[Sequence[int]]) -> bool:
    """The system libpcap's ``bpf_validate`` verdict on the program."""
    return SYSTEM.bpf_validate(insns)


def bpf_image(insn: Sequence[int], n: int) -> str:
    """The system libpcap's ``bpf_image`` text for one instruction at index ``n``."""
    return SYSTEM.bpf_image(insn, n)


def _unsafe_reason(insns: Sequence[Sequence[int]]) -> str | None:
    return SYSTEM.unsafe_reason(insns)


def make_bpf_filter(insns: Sequence[Sequence[int]]) -> Callable[..., int]:
    """The system ``bpf_filter`` over ``insns`` (see :meth:`Libpcap.make_bpf_filter`)."""
    return SYSTEM.make_bpf_filter(insns)


def bpf_filter(insns: Sequence[Sequence[int]], packet: Any, wirelen: int | None = None) -> int:
    """The system libpcap's ``bpf_filter`` return value for ``packet``."""
    return SYSTEM.bpf_filter(insns, packet, wirelen)


def bpf_filter_isolated(
    insns: Sequence[Sequence[int]],
    packets: Iterable[tuple[bytes, int | None]] | bytes,
    wirelen: int | None = None,
    timeout: float = 30.0,
) -> int | list[int]:
    """The system ``bpf_filter`` in a child (see :meth:`Libpcap.bpf_filter_isolated`)."""
    return SYSTEM.bpf_filter_isolated(insns, packets, wirelen, timeout)
