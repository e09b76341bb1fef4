"""The argument parser every ``bpfc`` command uses: a usage error is one line, exit 1.

``argparse`` reports a bad command line by printing the whole usage block and exiting
with status 2.  bpfc's rule for every failure is one line on stderr and status 1, so
:meth:`ArgumentParser.error` raises :class:`~bpfc.errors.UsageError` instead, and
:func:`bpfc.cli.main` prints it like any other error (``bpfc: MESSAGE``), pointing at
``--help`` for the full usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from bpfc.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are :class:`UsageError` exceptions."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument call, and each one imports
        # shutil (with bz2, lzma, zlib: ~2 ms of start-up) to ask the terminal's width
        return self.formatter_class(prog=self.prog, width=_help_width())


def _help_width() -> int:
    """What ``argparse`` would use: ``$COLUMNS`` or the terminal's width, less 2."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns - 2, 11)
