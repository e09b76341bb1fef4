"""The argument parser every ``bpfc`` command uses: a usage error is one line, exit 1.

``argparse`` reports a bad command line by printing the whole usage block and exiting
with status 2.  bpfc's rule for every failure is one line on stderr and status 1, so
:meth:`ArgumentParser.error` raises :class:`~bpfc.errors.UsageError` instead, and
:func:`bpfc.cli.main` prints it like any other error (``bpfc: MESSAGE``), pointing at
``--help`` for the full usage.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from bpfc.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are :class:`UsageError` exceptions."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")
