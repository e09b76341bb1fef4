"""``bpfc --ebpf xdp|tc|socket [-d | -dd | --format FMT] [-o FILE] EXPRESSION``: a filter as
an eBPF program.

The expression is compiled as ``bpfc`` compiles it (``-y``, ``-s``, ``-m``, ``-F``,
``--linux``, ``-O`` mean the same), then translated (:mod:`bpfc.ebpf.translate`) and
written in one of :data:`FORMATS`: the kernel-style listing (``d``, the default), a C array
of ``struct bpf_insn`` (``dd``), C source of an inline function (``c``; ``c-program`` adds
a ``SEC("xdp")``/``SEC("tc")`` program around it), an ELF object for ``ip``/``tc``
(``elf``) or the raw instruction bytes (``raw``).  ``-o FILE`` is written beside the file
and renamed into place, so a failed run leaves an existing file as it was; binary formats
are not written to a terminal.  :func:`main` is reached from ``bpfc``'s own command line
when ``--ebpf`` is among its options (:func:`wants_ebpf`), with the pieces of
:mod:`bpfc.cli.compile` it shares (passed in: that module imports this one).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bpfc.errors import UsageError

FORMATS = ("d", "dd", "c", "c-program", "elf", "raw")
"""``--format`` choices; ``-d`` is ``d`` and ``-dd`` is ``dd``."""

_BINARY = ("elf", "raw")


def wants_ebpf(argv: Sequence[str]) -> bool:
    """Whether ``bpfc``'s arguments ask for eBPF (``--ebpf`` before any ``--``)."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--ebpf" or arg.startswith("--ebpf="):
            return True
    return False


def _parse(
    argv: Sequence[str], make_parser: Callable[..., argparse.ArgumentParser]
) -> argparse.Namespace:
    from bpfc.ebpf.translate import DEFAULT_LOOP_BOUND

    parser = make_parser(
        "bpfc --ebpf",
        "Compile a pcap-filter expression to an eBPF program (see docs/ebpf.md).",
        usage="bpfc --ebpf xdp|tc|socket [-d | -dd | --format FMT] [-o FILE] [options] "
        "EXPRESSION...",
    )
    parser.add_argument(
        "--ebpf",
        required=argv != ["--help"],
        choices=("xdp", "tc", "socket"),
        help="program type: xdp, tc (sched_cls, direct action) or socket (socket filter)",
    )
    parser.add_argument(
        "-d", dest="dumps", action="count", default=0, help="-d listing (default), -dd C array"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="d: listing, dd: C array, c: C inline function, c-program: C with a "
        "SEC() program, elf: object file for ip/tc, raw: struct bpf_insn bytes",
    )
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="write here")
    parser.add_argument("-O", dest="no_optimize", action="store_true", help="no optimizer")
    parser.add_argument(
        "--accept",
        default=None,
        metavar="VERDICT",
        help="verdict for a match: a number or a name (xdp: pass, drop, tx, ...; tc: ok, "
        "shot, ...); default pass/ok, the cBPF value for socket",
    )
    parser.add_argument(
        "--reject", default=None, metavar="VERDICT", help="verdict otherwise (default drop/shot/0)"
    )
    parser.add_argument(
        "--guards",
        choices=("merged", "per-load"),
        default="merged",
        help="packet bounds checks: merged where one covers several loads, or one per load",
    )
    parser.add_argument(
        "--loop-bound",
        type=int,
        default=DEFAULT_LOOP_BOUND,
        metavar="N",
        help=f"backward jumps (protochain's loop) a run may take before it rejects "
        f"(default {DEFAULT_LOOP_BOUND}; 0 refuses programs with loops)",
    )
    parser.add_argument("--section", default=None, help="ELF section (default: the target's)")
    parser.add_argument("--name", default=None, help="symbol / C function name")
    parser.add_argument("--license", default="GPL", help="ELF licence string (GPL)")
    return parser.parse_args(list(argv))


def _asks_help(argv: Sequence[str]) -> bool:
    for arg in argv:
        if arg == "--":
            return False
        if arg in ("-h", "--help"):
            return True
    return False


def _verdict(text: str | None) -> int | str | None:
    if text is None:
        return None
    try:
        return int(text, 0)
    except ValueError:
        return text


def main(
    argv: Sequence[str],
    make_parser: Callable[..., argparse.ArgumentParser],
    expression: Callable[[argparse.Namespace], str],
    options: Callable[[argparse.Namespace], dict[str, object]],
) -> int:
    """Compile, translate and write; returns the exit status.

    :mod:`bpfc.cli.compile` passes its parser (the options every compile shares), the
    expression reader (``-F``) and the compile options, so both read them alike.
    """
    from bpfc.compiler import compile as bpfc_compile

    if _asks_help(argv):  # "bpfc --ebpf --help": argparse would take --help as the target
        _parse(["--help"], make_parser)
    args = _parse(argv, make_parser)
    fmt = args.format or {0: "d", 1: "d"}.get(args.dumps, "dd")
    if fmt in _BINARY and args.output in (None, "-") and sys.stdout.isatty():
        raise UsageError(f"{fmt} output is binary: give -o FILE or redirect standard output")
    program = bpfc_compile(
        expression(args),
        optimize=not args.no_optimize,
        linux=args.linux,
        **options(args),  # type: ignore[arg-type]
    )
    prog = program.to_ebpf(
        args.ebpf,
        accept=_verdict(args.accept),
        reject=_verdict(args.reject),
        guards=args.guards,
        loop_bound=args.loop_bound or None,
    )
    name = args.name
    data: str | bytes
    if fmt == "d":
        data = prog.dump()
    elif fmt == "dd":
        data = prog.c_array(name or "bpfc_prog")
    elif fmt in ("c", "c-program"):
        data = prog.c_source(name or "bpfc_filter", program=fmt == "c-program")
    elif fmt == "elf":
        data = prog.elf(
            args.section,
            license=args.license,
            name=name or "bpfc_prog",
        )
    else:
        data = bytes(prog)
    _write(data, args.output)
    return 0


def _write(data: str | bytes, output: str | None) -> None:
    from bpfc.cli.program_tools import _write as write

    write(data, output)
