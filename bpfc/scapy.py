"""Make an unmodified scapy compile its filters with bpfc: no libpcap, no tcpdump needed.

scapy gets BPF from two places, and both fail on a machine without them (containers,
Alpine, termux): ``scapy.arch.common.compile_filter`` calls libpcap through ctypes
(``pcap_open_dead`` + ``pcap_compile``) for every live socket with a filter
(``sniff(iface=..., filter=...)``, ``conf.L2listen``, ``attach_filter``), and
``scapy.utils.tcpdump`` runs a ``tcpdump -r ... -w -`` subprocess to filter capture
files and packet lists (``sniff(offline=..., filter=...)``).  :func:`install` replaces
those two functions (and ``free_filter``, which must not hand bpfc's memory to libpcap's
``pcap_freecode``) wherever scapy's modules hold them, and, in ``"always"`` mode with
``conf.use_pcap``, the ``setfilter`` of scapy's libpcap handles:

* ``compile_filter`` compiles as scapy would have asked libpcap to: the DLT from scapy's
  own ``ARPHRD_TO_DLT`` for the interface (``pcap_open_dead(dlt, MTU)``, netmask
  unknown), or, where scapy would open the interface (``pcap_open_live``), the DLT libpcap
  gives it on Linux (:mod:`bpfc.capture.iface`) with live-socket code.  It returns
  scapy's own ``bpf_program`` structure, which owns its instruction array.
* ``tcpdump`` filters in-process where the call only filters (packets in, ``-w -`` out,
  read back through ``dump``, ``getfd`` or ``getproc``): the packets are written as
  scapy writes them for tcpdump, filtered as ``tcpdump -r FILE -w -`` would
  (``bpfc filter``'s engine: the file's link type, snapshot length and byte order) and
  handed back as a pcap stream; any other call goes to scapy's own function.

Modes: ``"fallback"`` (the default) uses bpfc only where scapy's own way is missing
(libpcap cannot be loaded; no tcpdump on ``PATH``), decided at each call;
``"always"`` uses bpfc everywhere.  A filter bpfc refuses raises scapy's own
``Scapy_Exception``, worded as scapy words libpcap's refusal, with bpfc's message and the
expression with a caret under the offending part.  :func:`uninstall` puts back every
object it replaced.  scapy is imported only when :func:`install` runs.
"""

from __future__ import annotations

import inspect
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from typing import Any

MODES = ("fallback", "always")

_STATE: dict[str, Any] = {}
"""While installed: ``mode``, ``patches`` (``(holder, name, original)``), ``originals``."""


def installed() -> str | None:
    """The mode bpfc is installed in, or None."""
    return _STATE.get("mode")


def install(mode: str = "fallback") -> None:
    """Make scapy compile filters with bpfc (``mode``: ``"fallback"`` or ``"always"``).

    Installing again changes the mode.  Imports scapy (``scapy.arch``, ``scapy.utils``,
    ``scapy.sendrecv``); an ``ImportError`` means scapy is not installed.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}"[:120])
    if _STATE:
        uninstall()
    import scapy.arch  # noqa: F401 - binds the platform's attach_filter to compile_filter
    import scapy.arch.common as common
    import scapy.sendrecv  # noqa: F401 - holds tcpdump for sniff(offline=...)
    import scapy.utils as utils

    originals = {
        "compile_filter": common.compile_filter,
        "free_filter": common.free_filter,
        "tcpdump": utils.tcpdump,
    }
    replacements: dict[str, Callable[..., Any]] = {
        "compile_filter": compile_filter,
        "free_filter": _free_filter,
        "tcpdump": _tcpdump,
    }
    patches: list[tuple[Any, str, Any]] = []
    for module_name, module in sorted(sys.modules.items()):
        if module is None or not (module_name == "scapy" or module_name.startswith("scapy.")):
            continue
        for name, original in originals.items():
            if getattr(module, name, None) is original:
                patches.append((module, name, original))
                setattr(module, name, replacements[name])
    # conf.use_pcap: scapy's libpcap sockets compile inside their handle's setfilter
    wrapper = getattr(sys.modules.get("scapy.arch.libpcap"), "_PcapWrapper_libpcap", None)
    if wrapper is not None and "setfilter" in vars(wrapper):
        originals["setfilter"] = vars(wrapper)["setfilter"]
        patches.append((wrapper, "setfilter", originals["setfilter"]))
        wrapper.setfilter = _pcap_setfilter
    _STATE.update(mode=mode, patches=patches, originals=originals, libpcap=None)


def uninstall() -> None:
    """Restore every scapy attribute :func:`install` replaced (no-op when not installed)."""
    for holder, name, original in reversed(_STATE.get("patches", [])):
        setattr(holder, name, original)
    _STATE.clear()


_HOMES = {"compile_filter": "scapy.arch.common", "free_filter": "scapy.arch.common"}


def _original(name: str) -> Callable[..., Any]:
    """scapy's own function ``name``: the one replaced, or, once uninstalled (a caller kept
    a replacement), the one back in its module."""
    if _STATE:
        return _STATE["originals"][name]
    import importlib

    if name == "setfilter":
        return vars(importlib.import_module("scapy.arch.libpcap")._PcapWrapper_libpcap)[name]
    return getattr(importlib.import_module(_HOMES.get(name, "scapy.utils")), name)


def _libpcap_usable() -> bool:
    """Whether scapy can load libpcap (its ``scapy.libs.winpcapy`` imports), asked once."""
    known = _STATE.get("libpcap")
    if known is None:
        try:
            import scapy.libs.winpcapy  # noqa: F401
        except OSError:
            known = False
        else:
            known = True
        _STATE["libpcap"] = known
    return known


def _tcpdump_usable() -> bool:
    from scapy.config import conf

    program = conf.prog.tcpdump
    return bool(program) and shutil.which(program) is not None


def _use_bpfc(own_way_usable: Callable[[], bool]) -> bool:
    return _STATE.get("mode") == "always" or not own_way_usable()


def _scapy_error(expr: str, err: Exception) -> Exception:
    """scapy's ``Scapy_Exception`` as scapy words a refused filter, with bpfc's message and,
    for a compile error, the expression and a caret."""
    from scapy.error import Scapy_Exception

    from bpfc.errors import CompileError

    if isinstance(err, CompileError):
        first, *rest = err.format_context().split("\n")
    else:
        first, rest = str(err), []
    text = f"Failed to compile filter expression {expr!r} ({first})"
    return Scapy_Exception("\n".join([text, *rest]))


def _bpf_program(program: Any) -> Any:
    """scapy's own ``bpf_program`` (its ``sock_fprog`` takes only its ``bpf_insn``
    pointers) for ``program``; the array is kept on the structure."""
    import ctypes

    from scapy.libs.structures import bpf_insn, bpf_program

    array = (bpf_insn * len(program))(
        *(
            bpf_insn(code, jt, jf, k - (1 << 32) if k >= 1 << 31 else k)
            for code, jt, jf, k in program
        )
    )
    bp = bpf_program(len(program), ctypes.cast(array, ctypes.POINTER(bpf_insn)))
    bp._bpfc_array = array
    return bp


def compile_filter(
    filter_exp: str, iface: Any = None, linktype: int | None = None, promisc: bool = False
) -> Any:
    """``scapy.arch.common.compile_filter`` with bpfc: same arguments, same link type
    choice, scapy's ``bpf_program`` back (see the module docstring)."""
    if not _STATE or not _use_bpfc(_libpcap_usable):
        return _original("compile_filter")(filter_exp, iface, linktype, promisc)
    from scapy.config import conf
    from scapy.data import ARPHRD_TO_DLT, DLT_RAW, DLT_RAW_ALT, MTU
    from scapy.error import Scapy_Exception
    from scapy.interfaces import network_name, resolve_iface

    from bpfc.compiler import compile as bpfc_compile

    if not linktype:
        if not iface:
            if not conf.iface:
                raise Scapy_Exception("Please provide an interface or linktype!")
            iface = conf.iface
        try:
            linktype = ARPHRD_TO_DLT.get(resolve_iface(iface).type)
        except Exception:  # noqa: BLE001 - as scapy: fall back to opening the interface
            pass
    options: dict[str, Any] = {"snaplen": MTU, "netmask": None}
    if linktype is not None:
        options["linktype"] = DLT_RAW if linktype == DLT_RAW_ALT else linktype
    elif iface:
        from bpfc.capture.iface import linktype as interface_linktype

        link = interface_linktype(network_name(iface))  # pcap_open_live's OSError words
        options.update(linktype=link.linktype, snaplen=link.snaplen(MTU), linux=True)
    else:
        raise Scapy_Exception("Please provide an interface or linktype!")
    try:
        program = bpfc_compile(filter_exp, **options)
    except ValueError as err:  # CompileError, or a link type bpfc does not know
        raise _scapy_error(filter_exp, err) from None
    return _bpf_program(program)


def _pcap_setfilter(self: Any, expr: str) -> None:
    """``_PcapWrapper_libpcap.setfilter`` (scapy's libpcap sockets, ``conf.use_pcap``) in
    ``"always"`` mode: bpfc compiles for the live handle's link type and snapshot length
    (live Linux code on Linux) with libpcap's unknown netmask, and ``pcap_setfilter``
    installs it.  With libpcap loaded there is nothing to fall back from, so the fallback
    mode leaves it to libpcap, as do capture-file handles."""
    from scapy.libs.winpcapy import pcap_file, pcap_geterr, pcap_setfilter, pcap_snapshot

    if _STATE.get("mode") != "always" or pcap_file(self.pcap):
        _original("setfilter")(self, expr)
        return
    import ctypes

    from scapy.error import Scapy_Exception

    from bpfc.compiler import compile as bpfc_compile
    from bpfc.errors import CompileError

    try:
        program = bpfc_compile(
            expr,
            self.datalink(),
            pcap_snapshot(self.pcap),
            netmask=None,
            linux=sys.platform.startswith("linux"),
        )
    except ValueError as err:
        text = err.format_context() if isinstance(err, CompileError) else str(err)
        raise Scapy_Exception(f"Cannot set filter: {text}") from None
    self._bpfc_program = _bpf_program(program)  # libpcap copies it; kept for inspection
    if pcap_setfilter(self.pcap, ctypes.byref(self._bpfc_program)) < 0:
        message = pcap_geterr(self.pcap).decode(errors="replace")
        raise Scapy_Exception(f"Cannot set filter: {message}")


def _free_filter(bp: Any) -> None:
    """``free_filter``: drop bpfc's array; libpcap's programs go to ``pcap_freecode``."""
    if getattr(bp, "_bpfc_array", None) is None:
        _original("free_filter")(bp)
        return
    bp.bf_len = 0
    bp.bf_insns = None
    bp._bpfc_array = None


class _FilteredOutput:
    """What ``tcpdump(..., getproc=True)`` returns when bpfc filtered in-process: a
    finished process whose ``stdout`` is the filtered pcap stream."""

    def __init__(self, stdout: Any, args: list[str]) -> None:
        self.stdout = stdout
        self.stdin = self.stderr = None
        self.args = args
        self.pid = os.getpid()
        self.returncode = 0

    def poll(self) -> int:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode

    def communicate(self, input: Any = None, timeout: float | None = None) -> tuple[bytes, None]:
        data = self.stdout.read() if not self.stdout.closed else b""
        self.stdout.close()
        return data, None

    def terminate(self) -> None:
        self.stdout.close()

    kill = terminate

    def __enter__(self) -> _FilteredOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.terminate()


def _tcpdump(*args: Any, **kwargs: Any) -> Any:
    """``scapy.utils.tcpdump``; a call that only filters runs in-process through bpfc."""
    original = _original("tcpdump")
    if not _STATE:
        return original(*args, **kwargs)
    try:
        call = inspect.signature(original).bind(*args, **kwargs)
    except TypeError:
        return original(*args, **kwargs)
    call.apply_defaults()
    a = call.arguments
    from scapy.config import conf

    only_filters = (
        a.get("pktlist") is not None
        and a.get("prog") in (None, conf.prog.tcpdump)
        and list(a.get("args") or []) == ["-w", "-"]
        and a.get("read_stdin_opts") is None
        and (a.get("dump") or a.get("getfd") or a.get("getproc"))
    )
    if not only_filters or not _use_bpfc(_tcpdump_usable):
        return original(*args, **kwargs)
    stream = filter_to_pcap(a["pktlist"], a.get("flt"), a.get("linktype"))
    if a.get("dump"):
        with stream:
            return stream.read()
    if a.get("getproc"):
        return _FilteredOutput(stream, ["bpfc", "filter", "-w", "-", a.get("flt") or ""])
    return stream


def filter_to_pcap(source: Any, expr: str | None, linktype: Any = None) -> Any:
    """The packets of ``source`` that ``expr`` accepts, as the pcap stream ``tcpdump -r
    SOURCE -w - EXPR`` writes (an open binary file, positioned at its start).

    ``source`` is what scapy's ``tcpdump`` takes: a file name, a binary file object, or
    packets (written with scapy's ``wrpcap``, ``linktype`` as scapy passes it).  A refused
    expression raises ``Scapy_Exception``; a damaged file keeps the packets before the
    damage, as tcpdump's output does.
    """
    from scapy.error import Scapy_Exception

    from bpfc.capture.common import CaptureError

    with tempfile.TemporaryDirectory(prefix="bpfc-scapy-") as folder:
        path = source if isinstance(source, str) else os.path.join(folder, "in.pcap")
        if not isinstance(source, str):
            _write_source(source, path, linktype)
        out = os.path.join(folder, "out.pcap")
        try:
            _filter_file(path, out, expr or "")
        except CaptureError as err:
            raise Scapy_Exception(str(err)) from None
        except ValueError as err:
            raise _scapy_error(expr or "", err) from None
        return open(out, "rb")  # noqa: SIM115 - the caller reads it; the name goes now


def _write_source(source: Any, path: str, linktype: Any) -> None:
    if hasattr(source, "read"):
        with open(path, "wb") as handle:
            shutil.copyfileobj(source, handle)
        return
    from scapy.utils import wrpcap

    if isinstance(linktype, str):  # scapy asks libpcap's pcap_datalink_name_to_val
        from bpfc.linktypes import lookup

        try:
            linktype = lookup(linktype).dlt
        except ValueError:
            raise ValueError("Unknown linktype. Try passing its datalink name instead") from None
    wrpcap(path, source, linktype=linktype)


def _filter_file(path: str, out: str, expr: str) -> None:
    """``bpfc filter -r PATH -w OUT EXPR``: each link type of the file compiled as libpcap
    compiles for that file, the output byte-identical to tcpdump's."""
    from bpfc.capture.engine import filter_capture
    from bpfc.capture.reader import open_capture
    from bpfc.capture.writer import CaptureWriter
    from bpfc.compiler import compile as bpfc_compile
    from bpfc.isa.validation import validate
    from bpfc.linktypes.dltmap import linktype_to_dlt
    from bpfc.savefile import SavefileInfo

    with open_capture(path) as reader:
        options = {
            "snaplen": reader.compile_snaplen or reader.snapshot,
            "savefile": SavefileInfo(reader.byte_order),
            "netmask": 0,
        }
        cache: dict[int, Any] = {}

        def program_for(file_linktype: int) -> Any:
            dlt = linktype_to_dlt(file_linktype)
            if dlt not in cache:
                cache[dlt] = bpfc_compile(expr, linktype=dlt, **options)
            return cache[dlt]

        if reader.linktype is not None:  # refuse before any output exists
            validate(program_for(reader.linktype))
        writer = CaptureWriter(out, snaplen=reader.snapshot)
        try:
            filter_capture(reader, program_for, writer=writer)
        except BaseException:
            writer.abort()
            raise
        writer.close()
