"""``bpfc [options] EXPRESSION...``: compile a filter like ``tcpdump -d``.

Options follow tcpdump: ``-d``/``-dd``/``-ddd`` pick the dump format (a listing is
the default), ``-O`` turns the optimizer off, ``-y`` names the link type, ``-s`` the
snapshot length, ``-F`` reads the expression from a file (``#`` comments blanked),
``-L`` lists link types, ``-r`` compiles for a capture file (its first interface's link
type, its snapshot length and byte order, as ``tcpdump -r FILE -d``), ``-i`` for a live
Linux interface (its link type from sysfs, as ``tcpdump -i IFACE -d``, without opening it);
``-p`` and ``-n`` are accepted and change nothing, so the command lines tools run
(``tcpdump -p -ni IFACE -ddd -s 1600 EXPR``) work with ``bpfc`` in tcpdump's place.
Extra: ``--format``
(any :mod:`bpfc.isa.dump` format), ``-m`` (netmask for ``ip broadcast``; tcpdump's ``-m`` loads a
MIB instead, and without a live interface tcpdump compiles with netmask 0, which is bpfc's
default), ``--linux`` (live Linux socket code).
``bpfc cfg EXPRESSION`` prints the unoptimized control-flow graph as Graphviz dot.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

from bpfc.errors import UsageError

_COUNT_FORMATS = {1: "d", 2: "dd", 3: "ddd"}


MAXIMUM_SNAPLEN = 262144
"""tcpdump's largest ``-s`` (``MAXIMUM_SNAPLEN``); ``-s 0`` means this too."""


def _parser(prog: str, description: str, **extra: object) -> argparse.ArgumentParser:
    from bpfc.cli.args import ArgumentParser

    parser = ArgumentParser(prog=prog, description=description, **extra)  # type: ignore[arg-type]
    parser.add_argument(
        "-y",
        dest="linktype",
        default=None,
        metavar="LINKTYPE",
        help="link type: DLT name (EN10MB, LINUX_SLL, ...) or number",
    )
    parser.add_argument(
        "-s",
        dest="snaplen",
        default=str(MAXIMUM_SNAPLEN),
        metavar="SNAPLEN",
        help=f"snapshot length, the accept return value (0..{MAXIMUM_SNAPLEN}; 0 means "
        f"{MAXIMUM_SNAPLEN}, as in tcpdump)",
    )
    parser.add_argument(
        "-m",
        dest="netmask",
        default="0.0.0.0",
        metavar="NETMASK",
        help="netmask for 'ip broadcast' (dotted quad; default 0.0.0.0, as tcpdump uses "
        "without a live interface)",
    )
    parser.add_argument(
        "-F",
        dest="file",
        default=None,
        metavar="FILE",
        help="read the expression from FILE ('#' starts a comment)",
    )
    parser.add_argument(
        "--linux",
        action="store_true",
        help="generate code for a live Linux socket (ancillary loads)",
    )
    parser.add_argument("expression", nargs="*", help="filter expression words")
    return parser


def snaplen(text: str) -> int:
    """``-s TEXT`` as tcpdump reads it: C ``strtol`` with base 0 (``0x10``, ``010`` octal),
    the whole text a number in ``0..262144``; 0 means 262144."""
    value = _strtol(text)
    if value is None or not 0 <= value <= MAXIMUM_SNAPLEN:
        raise UsageError(f"invalid snaplen {text} (must be >= 0 and <= {MAXIMUM_SNAPLEN})")
    return value or MAXIMUM_SNAPLEN


def _strtol(text: str) -> int | None:
    """C ``strtol(text, &end, 0)`` when it consumes all of ``text``, else None."""
    body = text.lstrip(" \t\n\v\f\r")
    sign = -1 if body[:1] == "-" else 1
    body = body[1:] if body[:1] in "+-" else body
    if body[:2].lower() == "0x":
        digits, base = body[2:], 16
    elif body[:1] == "0" and len(body) > 1:
        digits, base = body[1:], 8
    else:
        digits, base = body, 10
    if not digits or not digits.isascii() or not digits.isalnum() or "_" in digits:
        return None
    try:
        return sign * int(digits, base)
    except ValueError:
        return None


def _expression(args: argparse.Namespace) -> str:
    if args.file is not None:
        return _read_filter_file(args.file)
    return " ".join(args.expression)


def _read_filter_file(path: str) -> str:
    """The expression in file ``path`` (tcpdump ``-F``), comments blanked.

    The file must be text: a binary file is refused with one line saying so."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        raise UsageError(f"read {path}: Is a directory") from None
    except OSError as err:
        raise UsageError(f"can't open {path}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not a text file (invalid UTF-8 at byte {err.start})") from None
    if "\0" in text:
        raise UsageError(f"{path}: not a text file (NUL byte at offset {text.index(chr(0))})")
    # blank comments to the end of the line, keeping offsets stable
    return re.sub(r"#[^\n]*", lambda m: " " * len(m.group(0)), text)


def _options(args: argparse.Namespace) -> dict[str, object]:
    """The compile options common to ``bpfc`` and ``bpfc cfg``."""
    linktype = args.linktype or "EN10MB"
    return dict(linktype=linktype, snaplen=snaplen(args.snaplen), netmask=args.netmask)


def _interface_target(args: argparse.Namespace) -> dict[str, object]:
    """``compile`` arguments for ``-i IFACE``, as tcpdump gets them by opening IFACE (here
    read from sysfs, :mod:`bpfc.capture.iface`): its link type (``-y`` one it offers; on
    ``any`` tcpdump asks for ``LINUX_SLL2``), the snapshot length libpcap activates with,
    netmask 0 (what tcpdump compiles ``-d`` with) and live Linux code."""
    from bpfc.capture.iface import linktype

    link = linktype(args.interface)
    wanted = args.linktype or ("LINUX_SLL2" if args.interface == "any" else None)
    chosen = link.choose(wanted)
    if wanted is not None:
        print(f"bpfc: data link type {chosen}", file=sys.stderr)  # as tcpdump says it
    requested = snaplen(args.snaplen)
    if link.snaplen(requested) != requested:
        import warnings

        warnings.warn(f"snaplen raised from {requested} to {link.snaplen(requested)}", stacklevel=1)
    return dict(
        linktype=chosen,
        snaplen=link.snaplen(requested),
        netmask=args.netmask,
        linux=True,
    )


def _help_epilog() -> str:
    from bpfc.cli import SUBCOMMANDS

    width = max(map(len, SUBCOMMANDS)) + 2
    rows = [f"  {name:<{width}}{summary}" for name, (_, summary) in SUBCOMMANDS.items()]
    return (
        "subcommands (bpfc SUBCOMMAND --help for each):\n"
        + "\n".join(rows)
        + "\n\nbpfc --version prints the version."
    )


def _list_linktypes() -> str:
    from bpfc.linktypes import filterable

    lines = ["Data link types (use option -y to set):"]
    for row in filterable():
        lines.append(f"  {row.name} ({row.description or row.name}), DLT {row.dlt}")
    return "\n".join(lines) + "\n"


def _savefile_target(path: str, netmask: str | None) -> dict:
    """``compile`` arguments for a capture file, as tcpdump gives ``pcap_compile`` after
    ``pcap_open_offline``: the first interface's link type as a DLT, the file's snapshot
    length and byte order, and netmask 0 unless ``-m`` names one."""
    from bpfc.capture.common import CaptureError
    from bpfc.capture.reader import open_capture
    from bpfc.savefile import SavefileInfo

    with open_capture(path) as reader:
        if reader.dlt is None:
            raise CaptureError("the capture file has no Interface Description Blocks", path)
        return {
            "linktype": reader.dlt,
            "snaplen": reader.compile_snaplen,
            "netmask": 0 if netmask is None else netmask,
            "savefile": SavefileInfo(reader.byte_order),
        }


OPTIMIZERS = ("bpfc", "libpcap")


def default_optimizer(program_name: str | None = None) -> str:
    """``libpcap`` when run under the name ``tcpdump`` (a symlink put in tcpdump's place),
    else ``bpfc``: whoever calls ``tcpdump -ddd`` expects tcpdump's exact text (to compare
    or cache it), while ``bpfc`` users get bpfc's smaller program."""
    name = os.path.basename(sys.argv[0] if program_name is None else program_name)
    return "libpcap" if name == "tcpdump" else "bpfc"


def main(argv: Sequence[str]) -> int:
    """Compile and print; returns the exit status."""
    from bpfc.cli.ebpf import wants_ebpf

    if wants_ebpf(argv):  # bpfc --ebpf xdp|tc|socket ...: bpfc.cli.ebpf
        from bpfc.cli.ebpf import main as main_ebpf

        return main_ebpf(argv, _parser, _expression, _options)
    parser = _parser(
        "bpfc",
        "Compile a pcap-filter expression to classic BPF, like tcpdump -d.",
        usage="bpfc [options] EXPRESSION...\n       bpfc SUBCOMMAND [options] ...",
        epilog=_help_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-d",
        dest="dumps",
        action="count",
        default=0,
        help="-d listing (default), -dd C array, -ddd decimal",
    )
    parser.add_argument(
        "--format",
        dest="format",
        default=None,
        metavar="FMT",
        help="dump format: d, dd, ddd, asm, xt_bpf, json, c",
    )
    parser.add_argument(
        "--flavor",
        default="master",
        choices=("master", "1.10"),
        help="whose -d text (spacing) to print: libpcap master's (default) or 1.10.3's; the "
        "code is master's either way, so -O -d equals tcpdump -O -d on master, and on 1.10.3 "
        "only where 1.10.3 generates the same code",
    )
    parser.add_argument(
        "-O",
        dest="no_optimize",
        action="store_true",
        help="do not run the optimizer (libpcap master's unoptimized code)",
    )
    parser.add_argument(
        "--optimizer",
        default=None,
        choices=OPTIMIZERS,
        help="whose optimized program: bpfc's own (smaller; the default) or libpcap "
        "master's, byte for byte as tcpdump prints it (the default when run as 'tcpdump')",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="run the optimizer's input and output over a packet sample; refuse to emit "
        "a program whose verdict differs",
    )
    parser.add_argument(
        "-r",
        dest="read_file",
        default=None,
        metavar="FILE",
        help="compile for this capture file (pcap/pcapng): its link type, snapshot length "
        "and byte order, as tcpdump -r FILE -d does (-y and -s are then ignored)",
    )
    parser.add_argument(
        "-i",
        dest="interface",
        default=None,
        metavar="IFACE",
        help="compile for this live Linux interface as tcpdump -i IFACE -d does (its link "
        "type read from /sys, live socket code; nothing is opened or captured)",
    )
    parser.add_argument(
        "-p",
        dest="no_promisc",
        action="store_true",
        help="accepted for tcpdump compatibility (no promiscuous mode): no effect on the code",
    )
    parser.add_argument(
        "-n",
        dest="no_names",
        action="count",
        default=0,
        help="accepted for tcpdump compatibility (-n, -nn): no effect on the code",
    )
    parser.add_argument(
        "-L",
        dest="list_linktypes",
        action="store_true",
        help="list the supported link types and exit",
    )
    args = parser.parse_args(list(argv))
    if args.list_linktypes:
        sys.stdout.write(_list_linktypes())
        return 0
    fmt = args.format or _COUNT_FORMATS.get(min(args.dumps, 3), "d")
    from bpfc.compiler import compile as bpfc_compile

    options = _options(args)
    if args.read_file is not None:  # tcpdump reads the file and ignores -i
        options = _savefile_target(args.read_file, args.netmask)
    elif args.interface is not None:
        options = _interface_target(args)
    options.setdefault("linux", args.linux)
    program = bpfc_compile(
        _expression(args),
        optimize=not args.no_optimize,
        **options,  # type: ignore[arg-type]
        verify=args.verify,
        optimizer=args.optimizer or default_optimizer(),
    )
    text = program.dump(fmt, args.flavor)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def main_cfg(argv: Sequence[str]) -> int:
    """``bpfc cfg EXPRESSION``: the program before and after optimization as Graphviz dot."""
    parser = _parser(
        "bpfc cfg",
        "Print a filter's basic blocks before and after optimization as Graphviz dot "
        "(render with: dot -Tsvg).",
    )
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--before", action="store_true", help="only the unoptimized program")
    view.add_argument("--after", action="store_true", help="only the optimized program")
    view.add_argument(
        "--graph", action="store_true", help="the code generator's block graph (before linearizing)"
    )
    args = parser.parse_args(list(argv))
    from bpfc.compiler import build_cfg
    from bpfc.compiler import compile as bpfc_compile
    from bpfc.isa.dot import compare_dot, program_dot

    expr = _expression(args)
    if args.graph:
        from bpfc.cfg import to_dot

        root, _ = build_cfg(expr, linux=args.linux, **_options(args))  # type: ignore[arg-type]
        sys.stdout.write(to_dot(root))
        return 0
    options = _options(args)
    before = (
        [] if args.after else list(bpfc_compile(expr, optimize=False, linux=args.linux, **options))
    )
    after = (
        [] if args.before else list(bpfc_compile(expr, optimize=True, linux=args.linux, **options))
    )
    if args.before or args.after:
        sys.stdout.write(program_dot(before or after))
    else:
        sys.stdout.write(compare_dot(before, after))
    return 0
