"""Command-line entry point: tcpdump-style compiling plus subcommands.

``bpfc [-d|-dd|-ddd] ... EXPRESSION`` compiles like ``tcpdump -d``; a first word
naming a subcommand (``asm``, ``disasm``, ``run``, ...) runs that instead.  Each
subcommand lives in its own module exposing ``main(argv) -> int`` and is imported
only when used, so start-up stays fast.  Every failure is one line on stderr and exit
status 1, never a traceback: errors bpfc raises on purpose (a compile error adds the
expression and a caret line), usage errors (:mod:`bpfc.cli.args`), operating-system
errors in tcpdump's wording, and, as a last resort, anything else as "internal error
(a bug in bpfc)".  Warnings print as ``bpfc: warning: MESSAGE``.  ``bpfc --version``
prints the version; ``bpfc --help`` lists the subcommands with :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

#: subcommand name -> (module under bpfc.cli, one-line summary)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "asm": ("program_tools", "assemble a -d listing or bpf_asm source into a program"),
    "disasm": ("program_tools", "print a program (raw bytes, -ddd or -d text) in any dump format"),
    "run": ("program_tools", "run a program over packets given in hex"),
    "validate": ("program_tools", "check a program against libpcap's or Linux's rules"),
    "filter": ("capture", "filter a pcap/pcapng file like tcpdump -r IN -w OUT"),
    "capture": ("capture", "capture live on a Linux interface with the filter in the kernel"),
    "verify": ("verify", "replay the golden corpus, a golden directory or stored listings"),
    "golden": ("golden", "record golden files (listings, packets, verdicts) for your filters"),
    "equiv": ("equiv", "are two filters the same? run both over packets, prove it with SMT"),
    "cfg": ("compile", "print the control-flow graph as Graphviz dot"),
}


def _fail(prog: str, message: str, *, context: bool = False) -> int:
    """Print ``PROG: MESSAGE`` on one line (``context``: the message is a compile error's
    :meth:`~bpfc.errors.CompileError.format_context`, whose lines are already safe)."""
    from bpfc.errors import printable, shorten

    text = message if context else printable(shorten(message))
    print(f"{prog}: {text}", file=sys.stderr)
    return 1


def _os_error(err: OSError) -> str:
    """tcpdump's wording: ``can't open FILE: No such file or directory``."""
    if err.filename is not None and err.strerror:
        verb = "read" if isinstance(err, IsADirectoryError) else "can't open"
        return f"{verb} {err.filename}: {err.strerror}"
    return err.strerror or str(err)


def _show_warning(prog: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints ``PROG: warning: MESSAGE``, one line (the
    default shows the source file and line of bpfc that warned, which means nothing to a
    user of the command)."""

    def show(message: Warning | str, *_: object, **__: object) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    import warnings

    from bpfc.errors import BpfcError

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        from bpfc import __version__

        print(f"bpfc {__version__}")
        return 0
    if args and args[0] in SUBCOMMANDS:
        name = args.pop(0)
        module_name = SUBCOMMANDS[name][0]
        prog = f"bpfc {name}"
    else:
        name, module_name, prog = "", "compile", "bpfc"
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning(prog)
        try:
            module = importlib.import_module(f"bpfc.cli.{module_name}")
            entry = getattr(module, f"main_{name}", None) if name else None
            return int((entry or module.main)(args) or 0)
        except BpfcError as err:
            if hasattr(err, "format_context"):
                return _fail(prog, err.format_context(), context=True)
            return _fail(prog, str(err))
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            return 0
        except OSError as err:
            return _fail(prog, _os_error(err))
        except ValueError as err:
            return _fail(prog, str(err))
        except (MemoryError, RecursionError) as err:
            return _fail(prog, f"out of resources: {type(err).__name__}")
        except Exception as err:  # noqa: BLE001 - the last resort: never a traceback
            return _fail(prog, f"internal error (a bug in bpfc): {type(err).__name__}: {err}")


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s status."""
    sys.exit(main())
