"""``Program``: a validated, immutable sequence of cBPF instructions, and its encodings.

Everything bpfc hands out or accepts as "a program" is one of these: the compiler
returns one, the assembler builds one, the CLI prints one.  It *is* a tuple of
:class:`~bpfc.isa.insn.Insn` (so indexing, ``len`` and iteration are free and it is
hashable) that also compares equal to any list or tuple of plain ``(code, jt, jf,
k)`` 4-tuples, the shape libpcap's own output has.  Every way of building one
validates (``bpfc.validate``), so a ``Program`` can always be run or attached.

Slicing returns a plain ``list`` of ``Insn``: a slice of a valid program is usually
not valid (its jumps point past its end), so it cannot be a ``Program``.

>>> prog = Program.from_insns([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (6, 0, 0, 9), (6, 0, 0, 0)])
>>> prog == [(40, 0, 0, 12), (21, 0, 1, 2048), (6, 0, 0, 9), (6, 0, 0, 0)]
True
>>> len(bytes(prog)), prog[1].k, type(prog[1:])
(32, 2048, <class 'list'>)
>>> prog.dump("d").splitlines()[:2]
['(000) ldh      [12]', '(001) jeq      #0x800           jt 2\\tjf 3']
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, SupportsIndex, overload

from bpfc.argcheck import check_bytes_like, check_flag, check_int
from bpfc.errors import AsmError
from bpfc.isa.insn import SOCK_FILTER, Insn

SO_ATTACH_FILTER = 26
"""Linux ``SO_ATTACH_FILTER`` (``socket`` does not export it); level ``SOL_SOCKET``."""

SO_DETACH_FILTER = 27
"""Linux ``SO_DETACH_FILTER``."""

_STRUCTS = {
    "native": SOCK_FILTER,
    "little": struct.Struct("<HBBI"),
    "big": struct.Struct(">HBBI"),
}


def _structures() -> tuple[type, type]:
    """``(SockFilter, SockFprog)``, defined on first use: ``ctypes`` costs start-up time."""
    cached = globals().get("_STRUCTURES")
    if cached is not None:
        return cached
    import ctypes

    class SockFilter(ctypes.Structure):
        """``struct sock_filter`` (= BSD's ``struct bpf_insn``)."""

        _fields_ = [
            ("code", ctypes.c_uint16),
            ("jt", ctypes.c_uint8),
            ("jf", ctypes.c_uint8),
            ("k", ctypes.c_uint32),
        ]

    class SockFprog(ctypes.Structure):
        """``struct sock_fprog { unsigned short len; struct sock_filter *filter; }``.

        Pass the object itself as the value of ``setsockopt(SOL_SOCKET, SO_ATTACH_FILTER,
        fprog)``; it owns the instruction array (``.buffer``), so keep it alive until the
        call returns (the kernel copies the program during the call).
        """

        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    SockFilter.__module__ = SockFprog.__module__ = __name__
    globals()["_STRUCTURES"] = cached = (SockFilter, SockFprog)
    return cached


def _bpf_program_type() -> type:
    """``BpfProgram`` (libpcap's ``struct bpf_program``), defined on first use like the rest."""
    cached = globals().get("_BPF_PROGRAM")
    if cached is not None:
        return cached
    import ctypes

    sock_filter = _structures()[0]

    class BpfProgram(ctypes.Structure):
        """``struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }``: what
        ``pcap_compile`` fills and ``pcap_setfilter``/``BIOCSETF`` take (``struct bpf_insn`` has
        ``struct sock_filter``'s layout).

        Made by :meth:`Program.bpf_program`, it owns its instruction array (``.buffer``):
        never hand it to libpcap's ``pcap_freecode``, which would ``free()`` memory that
        Python allocated; drop the object instead.
        """

        _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(sock_filter))]

    BpfProgram.__module__ = __name__
    globals()["_BPF_PROGRAM"] = BpfProgram
    return BpfProgram


def __getattr__(name: str) -> Any:
    """``SockFilter``, ``SockFprog`` and ``BpfProgram`` (ctypes structures) are made when
    first asked for."""
    if name == "SockFilter":
        return _structures()[0]
    if name == "SockFprog":
        return _structures()[1]
    if name == "BpfProgram":
        return _bpf_program_type()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _layout(byteorder: object) -> struct.Struct:
    layout = _STRUCTS.get(byteorder) if isinstance(byteorder, str) else None
    if layout is None:
        raise ValueError(f"byteorder must be native, little or big, not {byteorder!r}"[:120])
    return layout


def _check_run(packet: Any, wirelen: object, linux: object, meta: dict[str, Any]) -> None:
    """:meth:`Program.run`'s arguments: TypeError/ValueError naming the one that is wrong."""
    from bpfc.vm.ancillary import META_DEFAULTS

    check_bytes_like("packet", packet)
    if wirelen is not None:
        check_int("wirelen", wirelen, 0, 0xFFFFFFFF)
    if linux is not None:
        check_flag("linux", linux)
    for name, value in meta.items():
        if name not in META_DEFAULTS:
            known = ", ".join(sorted(META_DEFAULTS))
            raise TypeError(f"unknown packet metadata {name!r} (known: {known})")
        if isinstance(value, bool) or (value is None and META_DEFAULTS[name] is None):
            continue
        check_int(name, value, 0, 0xFFFFFFFF)


class Program(tuple):  # type: ignore[type-arg]
    """A validated, immutable tuple of :class:`Insn`; see the module docstring.

    (No ``__slots__``: the instance dict holds only the cached compiled filters.)
    """

    def __new__(cls, insns: Iterable[Sequence[int]] = (), *, strict: bool = False) -> Program:
        from bpfc.isa.validation import validate

        check_flag("strict", strict)
        if type(insns) is cls and not strict:
            return insns  # already validated, and immutable
        items = list(insns)
        validate(items, strict=strict)  # also rejects items that are not 4 integers
        return super().__new__(cls, (Insn(*map(int, item)) for item in items))

    @classmethod
    def from_insns(cls, insns: Iterable[Sequence[int]], *, strict: bool = False) -> Program:
        """A Program from ``(code, jt, jf, k)`` sequences, validated (``strict``: Linux rules)."""
        return cls(insns, strict=strict)

    @classmethod
    def from_bytes(
        cls,
        data: bytes | bytearray | memoryview,
        *,
        byteorder: Literal["native", "little", "big"] = "native",
        strict: bool = False,
    ) -> Program:
        """A Program from a packed ``struct sock_filter`` array (8 bytes per instruction)."""
        layout = _layout(byteorder)
        view = check_bytes_like("data", data)
        if len(view) % layout.size:
            raise AsmError(
                f"{len(view)} bytes is not a whole number of {layout.size}-byte instructions"
            )
        return cls(layout.iter_unpack(view), strict=strict)

    def __bytes__(self) -> bytes:
        return b"".join(SOCK_FILTER.pack(*insn) for insn in self)

    def to_bytes(self, byteorder: Literal["native", "little", "big"] = "native") -> bytes:
        """The packed instruction array in ``byteorder``."""
        layout = _layout(byteorder)
        return b"".join(layout.pack(*insn) for insn in self)

    def sock_fprog(self) -> Any:
        """A ``struct sock_fprog`` (:data:`SockFprog`) for ``SO_ATTACH_FILTER`` that keeps
        its array alive."""
        import ctypes

        sock_filter, sock_fprog = _structures()
        if len(self) > 0xFFFF:
            raise ValueError(f"a sock_fprog holds at most 65535 instructions, not {len(self)}")
        array = (sock_filter * len(self))(*(sock_filter(*insn) for insn in self))
        fprog = sock_fprog(len(self), ctypes.cast(array, ctypes.POINTER(sock_filter)))
        fprog.buffer = array  # type: ignore[attr-defined]
        return fprog

    def bpf_program(self) -> Any:
        """A libpcap ``struct bpf_program`` (:data:`BpfProgram`) that owns its instruction
        array: pass ``ctypes.byref(prog.bpf_program())`` where pcap bindings expect what
        ``pcap_compile`` fills (``pcap_setfilter``, ``pcap_offline_filter``, BSD ``BIOCSETF``),
        and keep it alive while they use it."""
        import ctypes

        sock_filter = _structures()[0]
        array = (sock_filter * len(self))(*(sock_filter(*insn) for insn in self))
        program = _bpf_program_type()(len(self), ctypes.cast(array, ctypes.POINTER(sock_filter)))
        program.buffer = array
        return program

    def attach(self, sock: Any) -> None:
        """Attach this program to ``sock`` (Linux ``SO_ATTACH_FILTER``)."""
        import socket

        if not callable(getattr(sock, "setsockopt", None)):
            raise TypeError(f"sock must be a socket, not {type(sock).__name__}")
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, self.sock_fprog())

    def dump(self, fmt: str = "d", flavor: str = "master") -> str:
        """The program as text: ``fmt`` is a :data:`bpfc.isa.dump.FORMATS` name."""
        from bpfc.isa.dump import dump

        if not isinstance(fmt, str) or not isinstance(flavor, str):
            bad, value = ("fmt", fmt) if not isinstance(fmt, str) else ("flavor", flavor)
            raise TypeError(f"{bad} must be str, not {type(value).__name__}")
        return dump(self, fmt, flavor)

    def to_ebpf(self, target: str, **options: Any) -> Any:
        """This program as eBPF for ``target`` (``"xdp"``, ``"tc"`` or ``"socket"``): a
        :class:`bpfc.ebpf.program.EbpfProgram`.  ``options`` are those of
        :func:`bpfc.ebpf.translate.translate`: ``accept``, ``reject`` (verdicts, numbers
        or names such as ``"pass"``/``"shot"``) and ``guards``.  See docs/ebpf.md."""
        from bpfc.ebpf.translate import translate

        return translate(self, target, **options)

    def run(
        self, packet: Any, wirelen: int | None = None, *, linux: bool | None = None, **meta: Any
    ) -> int:
        """The filter's return value for ``packet`` (``wirelen`` defaults to its length).

        ``linux=True`` gives Linux semantics to ancillary loads (``ld [proto]``...),
        reading keyword ``meta`` such as ``protocol=0x800`` (names in
        ``bpfc.vm.ancillary.META_DEFAULTS``); it defaults to "whenever meta is given".
        Otherwise libpcap's semantics apply.  The program is translated into a
        Python function once per mode, and the function is cached on the instance.
        """
        if type(packet) is not bytes or wirelen is not None or linux is not None or meta:
            _check_run(packet, wirelen, linux, meta)  # the common call skips the checks
        return self._filter(bool(meta) if linux is None else linux)(packet, wirelen, **meta)

    def _filter(self, linux: bool) -> Callable[..., int]:
        cache = self.__dict__.setdefault("_filters", {})
        fn = cache.get(linux)
        if fn is None:
            from bpfc.vm import make_filter

            fn = cache[linux] = make_filter(self, linux=linux)
        return fn

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Program is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Program is immutable (cannot delete {name!r})")

    @overload
    def __getitem__(self, index: SupportsIndex) -> Insn: ...
    @overload
    def __getitem__(self, index: slice) -> list[Insn]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Insn | list[Insn]:
        item = super().__getitem__(index)
        return list(item) if isinstance(index, slice) else item

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Program):
            return tuple.__eq__(self, other)
        if isinstance(other, (list, tuple)):
            if len(other) != len(self):
                return False
            try:
                return all(tuple(a) == tuple(b) for a, b in zip(self, other, strict=True))
            except TypeError:
                return False
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = tuple.__hash__

    def __reduce__(self) -> tuple[type[Program], tuple[list[Insn]]]:
        # Rebuild (and revalidate) from the instructions; the cached filters stay behind.
        return (Program, (list(self),))

    def __repr__(self) -> str:
        return f"Program([{', '.join(repr(tuple(insn)) for insn in self)}])"
