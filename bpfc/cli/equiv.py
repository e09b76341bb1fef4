"""``bpfc equiv A B``: are two filters the same?

    bpfc equiv [-y LINKTYPE] [--ya LT] [--yb LT] [-s SNAPLEN] [-m NETMASK] [-O]
               [--verdicts] [--no-solver] [--timeout S] [-w FILE] [-q] A B

``A`` and ``B`` are filter expressions, or ``@FILE`` for a program file in any text form
(``tcpdump -d``/``-dd``/``-ddd``, bpf_asm, xt_bpf, JSON) or raw ``struct sock_filter``
bytes (``@-``: standard input).  See :mod:`bpfc.equiv` for how the answer is reached.

Exit status: 0 the same (proved), 1 different (a packet is printed, ``-w`` writes it),
2 unknown (no difference found, not proved), 3 an error (one line on stderr: a bad
expression, an unreadable program, a usage error) -- never 1, so that a script can
tell "different" from "could not compare".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bpfc.errors import BpfcError

EXIT_ERROR = 3


def _parser() -> argparse.ArgumentParser:
    from bpfc.cli.args import ArgumentParser

    p = ArgumentParser(
        prog="bpfc equiv",
        description="Are two filters the same? Each side is an expression, or @FILE for a "
        "program in any text or binary form. Exit 0 same, 1 different, 2 unknown, 3 error.",
    )
    p.add_argument("a", metavar="A", help="expression, or @FILE (program; @- for stdin)")
    p.add_argument("b", metavar="B", help="expression, or @FILE (program; @- for stdin)")
    p.add_argument("-y", dest="linktype", default="EN10MB", help="link type of both sides")
    p.add_argument("--ya", metavar="LINKTYPE", help="link type of A (default: -y)")
    p.add_argument("--yb", metavar="LINKTYPE", help="link type of B (default: -y)")
    p.add_argument("-s", dest="snaplen", default="262144", help="snapshot length (0: 262144)")
    p.add_argument("-m", dest="netmask", help="netmask for expressions (default: unknown)")
    p.add_argument("-O", dest="unoptimized", action="store_true", help="compile unoptimized")
    p.add_argument(
        "--verdicts",
        action="store_true",
        help="compare accept/reject only, not return values (65535 equals 262144)",
    )
    p.add_argument("--no-solver", action="store_true", help="run packets only, never prove")
    p.add_argument("--timeout", type=float, default=30.0, help="solver time limit, seconds")
    p.add_argument("-w", dest="write", metavar="FILE", help="write a differing packet as pcap")
    p.add_argument("-q", "--quiet", action="store_true", help="print the verdict line only")
    return p


def _read_program(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def _side(text: str, name: str, linktype: str, args: argparse.Namespace) -> object:
    """One side from its argument; errors name the side."""
    from bpfc import equiv
    from bpfc.cli.program_tools import load_program

    try:
        if text.startswith("@"):
            path = text[1:]
            if not path:
                raise BpfcError("'@' names no file (use @FILE, or @- for standard input)")
            try:
                data = _read_program(path)
            except OSError as err:
                raise BpfcError(f"{path}: {err.strerror or err}") from None
            try:
                prog = load_program(data)
            except BpfcError as err:
                raise BpfcError(f"{path}: {err}") from None
            from bpfc.linktypes import lookup

            lookup(linktype)  # a bad -y is an error here too, not when a packet differs
            return equiv.Side(prog, linktype, None, "stdin" if path == "-" else path)
        from bpfc.compiler import compile as compile_expr

        prog = compile_expr(text, linktype, args.snaplen, not args.unoptimized, args.netmask)
        return equiv.Side(prog, linktype, text)
    except (BpfcError, ValueError) as err:
        where = getattr(err, "position", None)
        at = f" (at character {where + 1} of {text!r})" if isinstance(where, int) else ""
        raise BpfcError(f"{name}: {err}{at}") from None


def _snaplen(text: str) -> int:
    from bpfc.errors import UsageError

    try:
        value = int(text, 0)
    except ValueError:
        raise UsageError(f"invalid snaplen {text}") from None
    if not 0 <= value <= 262144:
        raise UsageError(f"invalid snaplen {text} (must be 0..262144)")
    return value or 262144


def _report(result: object, args: argparse.Namespace) -> None:
    from bpfc.equiv import EquivResult

    assert isinstance(result, EquivResult)
    a, b = result.a.description, result.b.description
    if result.verdict == "same":
        how = "proved by the SMT solver"
        print(f"same: {a} and {b} ({how}; no difference on {result.packets} packets either)")
        return
    if result.verdict == "unknown":
        print(
            f"unknown: no difference on {result.packets} packets, but not proved ({result.reason})"
        )
        return
    diff = result.difference
    assert diff is not None
    how = (
        f"found among {result.packets} packets"
        if diff.found_by == "packets"
        else "found by the SMT solver"
    )
    print(f"different: A returns {diff.a}, B returns {diff.b} ({how})")
    if args.quiet:
        return
    cut = " (truncated capture)" if diff.caplen < diff.wirelen else ""
    print(f"  packet: caplen {diff.caplen}, wirelen {diff.wirelen}{cut}")
    print(f"  decoded: {_decoded(diff, result.a.linktype)}")
    for line in _hex(diff.data):
        print(f"  {line}")


def _hex(data: bytes, limit: int = 1024) -> list[str]:
    lines = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off : off + 16]
        lines.append(f"{off:04x}  " + " ".join(f"{byte:02x}" for byte in chunk))
    if len(data) > limit:
        lines.append(f"... {len(data) - limit} more bytes")
    return lines


def _file_linktype(linktype: str | int) -> int:
    """The LINKTYPE_ number a pcap of packets for ``linktype`` carries."""
    from bpfc.linktypes import lookup

    row = lookup(linktype)
    return row.linktype if row.linktype is not None else row.dlt


def _decoded(diff: object, linktype: str | int) -> str:
    """The packet as ``tcpdump -n`` prints it (without the time stamp)."""
    from bpfc.capture.common import Packet
    from bpfc.decode import Summarizer
    from bpfc.equiv import Difference

    assert isinstance(diff, Difference)
    packet = Packet(
        0, diff.caplen, diff.wirelen, _file_linktype(linktype), 0, memoryview(diff.data)
    )
    return Summarizer().body(packet).text.strip()


def _write_pcap(path: str, diff: object, linktype: str | int, snaplen: int) -> None:
    from bpfc.capture.output import SafeOutput, write_error
    from bpfc.capture.pcap import PcapWriter
    from bpfc.equiv import Difference

    assert isinstance(diff, Difference)
    out = SafeOutput(path)
    try:
        writer = PcapWriter(out.file, _file_linktype(linktype), max(snaplen, diff.caplen))
        writer.write(0, diff.wirelen, diff.data)
    except OSError as err:
        out.abort()
        raise write_error(path, err) from None
    out.commit()


def _run(argv: Sequence[str]) -> int:
    from bpfc import equiv

    args = _parser().parse_args(list(argv))
    args.snaplen = _snaplen(args.snaplen)
    if args.a == "@-" and args.b == "@-":
        raise BpfcError("only one side can read standard input (@-)")
    side_a = _side(args.a, "A", args.ya or args.linktype, args)
    side_b = _side(args.b, "B", args.yb or args.linktype, args)
    if args.timeout <= 0:
        raise BpfcError(f"--timeout must be positive, not {args.timeout:g}")
    result = equiv.compare(
        side_a,  # type: ignore[arg-type]
        side_b,  # type: ignore[arg-type]
        verdicts_only=args.verdicts,
        solver=False if args.no_solver else None,
        timeout_ms=int(args.timeout * 1000),
    )
    _report(result, args)
    if args.write:
        if result.difference is None:
            print(
                f"bpfc equiv: no differing packet, so {args.write} is not written", file=sys.stderr
            )
        else:
            _write_pcap(args.write, result.difference, result.a.linktype, args.snaplen)
    return result.exit_status


def main_equiv(argv: Sequence[str]) -> int:
    """Run ``bpfc equiv``; every failure is one line on stderr and exit status 3."""
    from bpfc.errors import printable, shorten

    try:
        return _run(argv)
    except BrokenPipeError:
        raise  # a closed pipe (| head) is no error: bpfc.cli.main handles it
    except (BpfcError, OSError, ValueError) as err:
        text = str(err)
        if isinstance(err, OSError) and err.filename is not None and err.strerror:
            text = f"{err.filename}: {err.strerror}"
        text = printable(shorten(text))
        print(f"bpfc equiv: {text}", file=sys.stderr)
        return EXIT_ERROR
    except (MemoryError, RecursionError) as err:
        print(f"bpfc equiv: out of resources: {type(err).__name__}", file=sys.stderr)
        return EXIT_ERROR


main = main_equiv
