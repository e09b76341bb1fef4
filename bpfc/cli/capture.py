"""``bpfc filter`` and ``bpfc capture``: tcpdump's ``-r``/``-w`` and ``-i`` with our programs.

``bpfc filter -r IN [-w OUT] [-c COUNT] [--count] [-y LINKTYPE] [--program FILE] [--pcapng]
EXPRESSION...`` reads a pcap or pcapng file in place, compiles the expression once per
link type seen (or takes ``--program``), and writes the matching packets (pcap unless
``--pcapng`` or OUT ends in ``.pcapng``), or prints one line per match the way
``tcpdump -n -r IN`` does (:mod:`bpfc.decode`; ``--brief``: packet number, time, captured
length), or only the count.  ``-v`` adds a summary (counts, packets/s) on stderr; a
progress bar goes to stderr when it is a terminal and the file is large.

``bpfc capture -i IFACE [-w OUT] [-c COUNT] EXPRESSION...`` runs the program in the kernel
(compiled for a live Linux socket) and reads a TPACKET_V3 ring.

A corrupt input still writes every complete matching packet; the error then becomes one
line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bpfc.capture.common import Packet

PROGRESS_MIN_BYTES = 64 << 20


def _program_source(
    args: argparse.Namespace, *, linux: bool, reader: Any = None
) -> Callable[[int], Any]:
    """``linktype -> program``: compiled per link type (cached), or the ``--program`` file.

    With ``reader`` (a capture file), link types are the file's LINKTYPE_ values, compiled
    as libpcap compiles for that file: the DLT they open as, the file's snapshot length
    and byte order (savefile mode, :mod:`bpfc.savefile`)."""
    expr = " ".join(args.expression)
    if args.program:
        if expr:
            raise ValueError("give either an expression or --program, not both")
        from bpfc.cli.program_tools import load_program, read_input

        fixed = load_program(read_input(args.program))
        return lambda _linktype: fixed
    import bpfc

    forced = getattr(args, "linktype", None)
    cache: dict[Any, Any] = {}
    options: dict[str, Any] = {"snaplen": args.snaplen}
    if reader is not None:
        from bpfc.linktypes.dltmap import linktype_to_dlt
        from bpfc.savefile import SavefileInfo

        options = {
            "snaplen": reader.compile_snaplen or args.snaplen,
            "savefile": SavefileInfo(reader.byte_order),
        }

    def compiled(linktype: int) -> Any:
        key = forced
        if key is None:
            key = linktype if reader is None else linktype_to_dlt(linktype)
        if key not in cache:
            cache[key] = bpfc.compile(expr or "", linktype=key, netmask=0, linux=linux, **options)
        return cache[key]

    return compiled


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """``SIGTERM`` and ``SIGHUP`` raise ``KeyboardInterrupt`` meanwhile, as Ctrl-C does, so
    that an output is finished or dropped (never a stray temporary file) when a run is
    killed the usual way: ``bpfc capture`` keeps what it captured, ``bpfc filter`` leaves
    an existing target as it was."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _linktype(text: str) -> int | str:
    return int(text) if text.isdigit() else text.upper()


def _line(out: Any, nsec: bool) -> Callable[[int, Packet], None]:
    """``--brief``: ``index epoch caplen``, one line per packet (for scripts)."""

    def emit(index: int, packet: Packet) -> None:
        sec, frac = divmod(packet.ts_ns, 1_000_000_000)
        stamp = f"{sec}.{frac:09d}" if nsec else f"{sec}.{frac // 1000:06d}"
        out.write(f"{index} {stamp} {packet.caplen}\n")

    return emit


def _decoded(out: Any) -> Callable[[int, Packet], None]:
    """tcpdump's default one-line decode (``tcpdump -n``), one summarizer per run."""
    from bpfc.decode import Summarizer

    line = Summarizer().line

    def emit(_index: int, packet: Packet) -> None:
        out.write(line(packet).text + "\n")

    return emit


def _printer(args: argparse.Namespace, nsec: bool) -> Callable[[int, Packet], None]:
    return _line(sys.stdout, nsec) if args.brief else _decoded(sys.stdout)


def _output_flags(parser: argparse.ArgumentParser) -> None:
    """The printing flags ``filter`` and ``capture`` share."""
    parser.add_argument(
        "--brief",
        action="store_true",
        help="print 'index epoch caplen' per packet instead of the tcpdump-style decode",
    )
    parser.add_argument(
        "-v", dest="verbose", action="store_true", help="print a summary (counts, rate) on stderr"
    )
    parser.add_argument(
        "-q", dest="quiet", action="store_true", help="no summary on stderr (the default)"
    )


DECODE_HELP = (
    "Without -w, each packet is printed on one line as 'tcpdump -n' prints it (numeric "
    "addresses and ports: bpfc never looks names up); see docs/capture.md."
)


class _Bar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, position: int, total: int, packets: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        if position >= 0 and total:
            done = position / total
            bar = "#" * int(done * 30)
            sys.stderr.write(f"\r[{bar:<30}] {done:4.0%} {packets:,} packets")
        else:
            sys.stderr.write(f"\r{packets:,} packets")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.last:
            sys.stderr.write("\r" + " " * 60 + "\r")


def _filter_parser() -> argparse.ArgumentParser:
    from bpfc.cli.args import ArgumentParser  # usage errors: one line, exit 1

    parser = ArgumentParser(
        prog="bpfc filter",
        description="Filter a pcap/pcapng file like tcpdump -r IN -w OUT.",
        epilog=DECODE_HELP,
    )
    parser.add_argument("-r", dest="input", required=True, help="capture file to read")
    parser.add_argument("-w", dest="output", help="write matching packets here (- = stdout)")
    parser.add_argument("-c", dest="limit", type=int, help="stop after COUNT matching packets")
    parser.add_argument("--count", action="store_true", help="print only the number of matches")
    parser.add_argument("-y", dest="linktype", type=_linktype, help="compile for this link type")
    parser.add_argument("--program", help="a program file (any text form, or raw bytes)")
    parser.add_argument("--pcapng", action="store_true", help="write pcapng instead of pcap")
    parser.add_argument(
        "--engine",
        choices=("auto", "batch", "packet"),
        default="auto",
        help="batch (numpy) or per-packet evaluation (default: batch when possible)",
    )
    parser.add_argument(
        "--time-stamp-precision",
        dest="precision",
        choices=("micro", "nano"),
        default="micro",
        help="time stamps of the pcap output, as tcpdump's option: micro (the default, what "
        "tcpdump writes for any input) or nano",
    )
    _output_flags(parser)
    parser.add_argument("expression", nargs="*", help="filter expression (default: all)")
    return parser


def main_filter(argv: Sequence[str]) -> int:
    """``bpfc filter``: see the module docstring.

    Everything that can be refused is refused before the output is touched: the input is
    opened, ``-w`` is checked not to be the input, and the program for the input's link
    type is compiled (or loaded) and validated.  Only then is the output created, as a
    temporary file renamed over the target at the end (:mod:`bpfc.capture.output`).
    """
    from bpfc.capture.engine import filter_capture
    from bpfc.capture.output import refuse_same_file
    from bpfc.capture.reader import open_capture
    from bpfc.isa.validation import validate

    args = _filter_parser().parse_args(list(argv))
    if args.limit is not None and args.limit <= 0:
        raise ValueError(f"-c needs a positive count, not {args.limit}")
    if args.output:
        refuse_same_file(args.output, [args.input])
    with open_capture(args.input) as reader:
        args.snaplen = reader.snapshot  # as libpcap adjusts it: 0 or > INT_MAX is the maximum
        # no expression compiles "" for the file's link type, as tcpdump does: an accept-all
        # program, or libpcap's refusal of a link type it cannot compile for
        program_for = _program_source(args, linux=False, reader=reader)
        if reader.linktype is not None:  # a bad expression or -y fails before any output
            validate(program_for(reader.linktype))
        writer = _open_writer(args, reader) if args.output else None
        emit = None if (writer is not None or args.count) else _printer(args, reader.nsec)
        # no bar over packet lines printed to the same terminal
        drawn = sys.stderr.isatty() and not (emit is not None and sys.stdout.isatty())
        bar = _Bar() if drawn and len(reader.buffer) >= PROGRESS_MIN_BYTES else None
        try:
            with _stop_signals_interrupt():
                stats = filter_capture(
                    reader,
                    program_for,
                    writer=writer,
                    emit=emit,
                    limit=args.limit,
                    engine=args.engine,
                    progress=bar,
                )
        except BaseException:
            if writer is not None:
                writer.abort()  # an existing target stays exactly as it was
            raise
        finally:
            if bar is not None:
                bar.clear()
        if writer is not None:  # complete, or every packet before a damaged record
            writer.close()
    if args.count:
        print(f"{stats.matched} packet{'' if stats.matched == 1 else 's'}")
    if args.verbose and not args.quiet:
        rate = stats.read / stats.seconds if stats.seconds else 0.0
        cpu_rate = stats.read / stats.cpu_seconds if stats.cpu_seconds else 0.0
        print(
            f"bpfc filter: {stats.read} packets read, {stats.matched} matched"
            f" ({stats.engine} engine, {stats.seconds:.3f} s, {rate:,.0f} packets/s;"
            f" cpu {stats.cpu_seconds:.3f} s, {cpu_rate:,.0f} packets/s)",
            file=sys.stderr,
        )
    if stats.error is not None:
        raise stats.error
    return 0


def _open_writer(args: argparse.Namespace, reader: Any) -> Any:
    """The output of ``bpfc filter -w``: pcap like tcpdump's (microsecond time stamps unless
    ``--time-stamp-precision nano``, whatever the input's, as tcpdump writes them), or pcapng
    when asked."""
    from bpfc.capture.writer import CaptureWriter

    pcapng = args.pcapng or args.output.endswith(".pcapng")
    return CaptureWriter(
        args.output, pcapng=pcapng, snaplen=reader.snapshot, nsec=args.precision == "nano"
    )


def main_capture(argv: Sequence[str]) -> int:
    """``bpfc capture -i IFACE [-w OUT] [-c COUNT] EXPRESSION...``: live, filter in the kernel."""
    from bpfc.capture.live import LiveCapture
    from bpfc.capture.writer import CaptureWriter
    from bpfc.cli.args import ArgumentParser  # usage errors: one line, exit 1

    parser = ArgumentParser(
        prog="bpfc capture",
        description="Capture on a Linux interface, the filter in the kernel.",
        epilog=DECODE_HELP,
    )
    parser.add_argument("-i", dest="iface", required=True, help="interface to capture on")
    parser.add_argument("-w", dest="output", help="write packets here (- = stdout)")
    parser.add_argument("-c", dest="limit", type=int, help="stop after COUNT packets")
    parser.add_argument("-p", dest="no_promisc", action="store_true", help="not promiscuous")
    parser.add_argument("--program", help="a program file (any text form, or raw bytes)")
    parser.add_argument("--pcapng", action="store_true", help="write pcapng instead of pcap")
    parser.add_argument("--timeout", type=float, help="stop after this many idle seconds")
    _output_flags(parser)
    parser.add_argument("expression", nargs="*", help="filter expression (default: all)")
    args = parser.parse_args(list(argv))
    args.snaplen, args.linktype = 262144, None
    program = None
    if args.expression or args.program:
        program = _program_source(args, linux=True)(1)
    emit = _printer(args, True)
    count = 0
    capture = LiveCapture(args.iface, program, promiscuous=not args.no_promisc)
    writer = None
    if args.output:  # only once the program and the interface were accepted
        pcapng = args.pcapng or args.output.endswith(".pcapng")
        try:
            writer = CaptureWriter(args.output, pcapng=pcapng, nsec=True)
            writer.start(1)
        except BaseException:
            capture.close()
            raise
    try:
        with _stop_signals_interrupt():
            for packet in capture.packets(args.limit, args.timeout):
                count += 1
                if writer is not None:
                    writer.write(packet)
                else:
                    emit(count, packet)
                    sys.stdout.flush()
    except KeyboardInterrupt:
        pass  # the usual way to stop: what was captured is kept
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        kernel_seen, kernel_drops = capture.stats()
        capture.close()
    if writer is not None:
        writer.close()
    if args.verbose and not args.quiet:
        print(
            f"bpfc capture: {count} packets captured, {kernel_drops} dropped by the kernel",
            file=sys.stderr,
        )
    del kernel_seen
    return 0
