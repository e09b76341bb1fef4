"""``bpfc asm|disasm|run|validate``: the command line for the cBPF machine itself.

These work on programs somebody already has (a ``tcpdump -dd`` paste, a raw
``struct sock_filter`` dump, ``bpf_asm`` source) without compiling anything:
convert between formats, check a program against libpcap's or Linux's rules, run it
over packets given in hex.  Input files may be ``-`` for stdin; the input format is
detected (:func:`bpfc.isa.asm.detect`) unless ``--input-format`` says otherwise.
Errors reach :func:`bpfc.cli.main`, which prints them as one line and exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bpfc.errors import AsmError, UsageError
from bpfc.isa.asm import INPUT_FORMATS, assemble
from bpfc.isa.dump import FORMATS
from bpfc.isa.listing import FLAVORS

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.program import Program

BYTEORDERS = ("native", "little", "big")


def read_input(path: str) -> bytes:
    """The bytes of ``path`` (``-``: standard input)."""
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def decode_text(data: bytes) -> str | None:
    """``data`` as text when it is printable UTF-8 (else None: a raw instruction array)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    printable = all(ch.isprintable() or ch in "\t\n\r\f\v" for ch in text)
    return text if printable else None


def load_program(
    data: bytes,
    *,
    input_format: str | None = None,
    byteorder: str = "native",
    strict: bool = False,
) -> Program:
    """A Program from file contents: any text format, or raw ``struct sock_filter`` bytes."""
    from bpfc.program import Program

    text = None if input_format == "raw" else decode_text(data)
    if text is None:
        if input_format not in (None, "raw"):
            raise AsmError(f"input is not text, so it cannot be read as {input_format}")
        return Program.from_bytes(data, byteorder=byteorder, strict=strict)  # type: ignore[arg-type]
    if not text.strip():
        raise AsmError("empty input: no instructions")
    return assemble(text, fmt=input_format, strict=strict)


def _write(text: str | bytes, output: str | None) -> None:
    """Standard output, or ``-o FILE`` written beside it and renamed into place, so a failed
    write (a full disk) leaves an existing file as it was (:mod:`bpfc.capture.output`)."""
    data = text.encode() if isinstance(text, str) else text
    if output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from bpfc.capture.output import SafeOutput, write_error

    out = SafeOutput(output)
    try:
        out.file.write(data)
    except OSError as err:
        out.abort()
        raise write_error(output, err) from None
    out.commit()


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    from bpfc.cli.args import ArgumentParser

    return ArgumentParser(prog=f"bpfc {prog}", description=description)


def _add_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the program file, or - for standard input")
    parser.add_argument(
        "--input-format",
        "-i",
        choices=[*INPUT_FORMATS, "raw"],
        help="input format (default: detected; raw = packed struct sock_filter)",
    )
    parser.add_argument(
        "--byteorder", choices=BYTEORDERS, default="native", help="byte order of raw input"
    )


def _add_output(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--format", "-f", choices=list(FORMATS), default=default, help=f"dump format ({default})"
    )
    parser.add_argument(
        "--flavor", choices=FLAVORS, default="master", help="libpcap whose -d text to match"
    )
    parser.add_argument("-o", "--output", help="write here instead of standard output")


def main_asm(argv: Sequence[str]) -> int:
    """``bpfc asm FILE|- [--format FMT] [--raw] [-o OUT]``."""
    parser = _parser("asm", "Assemble a listing (-d, -dd, -ddd, bpf_asm, xt_bpf, JSON).")
    _add_input(parser)
    _add_output(parser, "dd")
    parser.add_argument("--raw", action="store_true", help="write packed struct sock_filter")
    parser.add_argument("--strict", action="store_true", help="validate with Linux's rules")
    args = parser.parse_args(argv)
    prog = load_program(read_input(args.file), input_format=args.input_format, strict=args.strict)
    if args.raw:
        _write(prog.to_bytes(args.byteorder), args.output)
    else:
        _write(prog.dump(args.format, args.flavor), args.output)
    return 0


def main_disasm(argv: Sequence[str]) -> int:
    """``bpfc disasm [--format FMT] FILE|-`` (raw bytes or any text form in)."""
    parser = _parser("disasm", "Print a program (raw bytes or any text form) in a dump format.")
    _add_input(parser)
    _add_output(parser, "d")
    args = parser.parse_args(argv)
    prog = load_program(
        read_input(args.file), input_format=args.input_format, byteorder=args.byteorder
    )
    _write(prog.dump(args.format, args.flavor), args.output)
    return 0


def parse_packet(text: str) -> bytes:
    """Packet bytes from hex, allowing ``0x``, spaces, ``:`` and ``-`` separators."""
    cleaned = re.sub(r"[\s:.\-]", "", text.removeprefix("0x").removeprefix("0X"))
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError(f"packet {text[:40]!r} is not hex bytes") from None


def _meta(items: Sequence[str]) -> dict[str, int]:
    """``--meta NAME=VALUE`` options as ``Program.run`` keywords, each checked here so a
    typo or a bad number is a one-line usage error."""
    from bpfc.vm.ancillary import META_DEFAULTS

    meta = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--meta wants NAME=VALUE, not {item!r}")
        if name not in META_DEFAULTS:
            known = ", ".join(sorted(META_DEFAULTS))
            raise UsageError(f"--meta {name}: unknown packet metadata (known: {known})")
        try:
            number = int(value, 0)
        except ValueError:
            raise UsageError(f"--meta {name}: {value!r} is not a number") from None
        if not 0 <= number <= 0xFFFFFFFF:
            raise UsageError(f"--meta {name}: {value} is outside 0..0xffffffff")
        meta[name] = number
    return meta


def wirelen(text: str) -> int:
    value = int(text, 0)  # argparse turns the ValueError into "invalid _wirelen value"
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(text)
    return value


def main_run(argv: Sequence[str]) -> int:
    """``bpfc run PROGRAM PACKET-HEX...``: print the return value for each packet."""
    parser = _parser("run", "Run a program over packets given in hex; print each return value.")
    _add_input(parser)
    parser.add_argument("packets", nargs="*", help="packets in hex (default: one per stdin line)")
    parser.add_argument("--wirelen", type=wirelen, help="wire length (default: the packet length)")
    parser.add_argument(
        "--meta", action="append", default=[], metavar="NAME=VALUE",
        help="Linux ancillary data (e.g. ifindex=2); selects Linux semantics",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.file == "-" and not args.packets:
        raise ValueError("give packets as arguments when the program comes from stdin")
    prog = load_program(
        read_input(args.file), input_format=args.input_format, byteorder=args.byteorder
    )
    meta = _meta(args.meta)
    texts = args.packets or [line for line in sys.stdin.read().splitlines() if line.strip()]
    for text in texts:
        print(prog.run(parse_packet(text), args.wirelen, **meta))
    return 0


def main_validate(argv: Sequence[str]) -> int:
    """``bpfc validate [--strict|--linux] FILE``: exit 0 and say so when the program is valid."""
    parser = _parser("validate", "Check a program against libpcap's (or Linux's) rules.")
    _add_input(parser)
    parser.add_argument(
        "--strict", "--linux", action="store_true", help="the Linux kernel's checker"
    )
    args = parser.parse_args(argv)
    prog = load_program(
        read_input(args.file),
        input_format=args.input_format,
        byteorder=args.byteorder,
        strict=args.strict,
    )
    rules = "Linux" if args.strict else "libpcap"
    print(f"valid ({rules} rules): {len(prog)} instructions")
    return 0
