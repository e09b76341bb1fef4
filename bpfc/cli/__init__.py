"""Command-line entry point: tcpdump-style compiling plus subcommands.

``bpfc [-d|-dd|-ddd] ... EXPRESSION`` compiles like ``tcpdump -d``; a first word
naming a subcommand (``asm``, ``disasm``, ``run``, ...) runs that instead.  Each
subcommand lives in its own module exposing ``main(argv) -> int`` and is imported
only when used, so start-up stays fast.  Every error bpfc raises on purpose becomes
one line on stderr and exit status 1; never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: subcommand name -> (module under bpfc.cli, one-line summary)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "asm": ("machine", "assemble a -d listing or bpf_asm source into a program"),
    "disasm": ("machine", "print a program (raw bytes, -ddd or -d text) in any dump format"),
    "run": ("machine", "run a program over packets given in hex"),
    "validate": ("machine", "check a program against libpcap's or Linux's rules"),
    "filter": ("capture", "filter a pcap/pcapng file like tcpdump -r IN -w OUT"),
    "capture": ("capture", "capture live on a Linux interface with the filter in the kernel"),
    "verify": ("verify", "replay the golden corpus with the bundled interpreter"),
    "cfg": ("compile", "print the control-flow graph as Graphviz dot"),
}


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    from bpfc.errors import BpfcError

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        name = args.pop(0)
        module_name = SUBCOMMANDS[name][0]
        prog = f"bpfc {name}"
    else:
        name, module_name, prog = "", "compile", "bpfc"
    try:
        module = importlib.import_module(f"bpfc.cli.{module_name}")
        entry = getattr(module, f"main_{name}", None) if name else None
        return int((entry or module.main)(args) or 0)
    except BpfcError as err:
        text = err.format_context() if hasattr(err, "format_context") else str(err)
        return _fail(prog, text)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except (OSError, ValueError) as err:
        return _fail(prog, str(err))


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s status."""
    sys.exit(main())
