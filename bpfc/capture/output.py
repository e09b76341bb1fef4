"""Where an output capture goes: a temporary file beside the target, renamed over it at the end.

``bpfc filter -w OUT`` and ``bpfc capture -w OUT`` must never lose data: a run that fails
half-way (a full disk, an error in the program, an interrupt) leaves an existing ``OUT``
exactly as it was, and ``OUT`` never names the file being read (truncating a file that is
mapped for reading kills the reader with ``SIGBUS`` and destroys the input).  So:

* :func:`refuse_same_file` compares device and inode, which sees through symlinks, hard
  links and different spellings of one path;
* :class:`SafeOutput` writes into a fresh temporary file in the target's directory (the
  same file system, so the final ``rename`` is atomic) with the permissions and owner the
  target has (or, for a new file, what ``open`` would give under the umask), and renames it over
  the target on :meth:`SafeOutput.commit`; :meth:`SafeOutput.abort` removes it instead.
  A symlink target is followed: the file it points to is replaced, the link is kept.
* ``-`` is standard output, and a target that exists but is not a regular file (a FIFO,
  ``/dev/null``, ``/dev/full``, a terminal) is written in place, as it cannot be renamed
  over; an error writing it still becomes one line and exit status 1.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from typing import BinaryIO

from bpfc.errors import BpfcError


class OutputError(BpfcError, OSError):
    """The output cannot be written where asked (one line, names the file)."""


def refuse_same_file(output: str, inputs: list[str]) -> None:
    """Raise :class:`OutputError` when ``output`` is the same file as one of ``inputs``.

    Same device and inode: a symlink, a hard link or another spelling of an input path is
    caught as well.  ``-`` (standard input/output) and an output that does not exist yet
    cannot clash.
    """
    if output == "-":
        return
    try:
        out = os.stat(output)
    except OSError:
        return
    for name in inputs:
        try:
            src = os.fstat(sys.stdin.fileno()) if name == "-" else os.stat(name)
        except (OSError, ValueError):
            continue
        if (src.st_dev, src.st_ino) == (out.st_dev, out.st_ino) and stat.S_ISREG(out.st_mode):
            raise OutputError(
                f"{output}: refusing to write the file being read ({name}); "
                "the input would be destroyed"
            )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class SafeOutput:
    """One output file, written to a temporary beside it and renamed into place."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.temp: str | None = None
        self.final = path
        self.closed = False
        if path == "-":
            self.file: BinaryIO = sys.stdout.buffer
            self._own = False
            return
        self._own = True
        try:
            info: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            info = None
        except OSError as err:
            raise OutputError(f"{path}: {err.strerror or err}") from None
        if info is not None and not stat.S_ISREG(info.st_mode):
            self.file = self._open_in_place(path)
            return
        if info is not None and not os.access(path, os.W_OK):
            raise OutputError(f"{path}: Permission denied")
        self.final = os.path.realpath(path)
        folder = os.path.dirname(self.final) or "."
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
        base = os.path.basename(self.final)
        try:
            fd, self.temp = tempfile.mkstemp(prefix=f".{base}.", suffix=".part", dir=folder)
        except OSError as err:
            raise OutputError(f"{path}: cannot create a file beside it: {err.strerror}") from None
        with contextlib.suppress(OSError):  # a file system without modes or owners
            os.fchmod(fd, mode)
            if info is not None and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(fd, info.st_uid, info.st_gid)  # the replaced file's owner stays
        self.file = os.fdopen(fd, "wb")

    def _open_in_place(self, path: str) -> BinaryIO:
        try:
            return open(path, "wb")  # noqa: SIM115 - closed by commit/abort
        except OSError as err:
            raise OutputError(f"{path}: {err.strerror or err}") from None

    def commit(self) -> None:
        """Flush everything and put the file in place; on a write error, :meth:`abort`."""
        if self.closed:
            return
        try:
            self.file.flush()
            if self.temp is not None:
                os.fsync(self.file.fileno())
                self.file.close()
                os.replace(self.temp, self.final)
                self.temp = None
            elif self._own:
                self.file.close()
        except OSError as err:
            self.abort()
            raise OutputError(f"{self.path}: write failed: {err.strerror or err}") from None
        self.closed = True

    def abort(self) -> None:
        """Drop what was written: remove the temporary file (the target is untouched)."""
        if self.closed:
            return
        self.closed = True
        if self._own:
            with contextlib.suppress(OSError):
                self.file.close()
        elif self.path == "-":
            with contextlib.suppress(OSError, ValueError):
                self.file.flush()
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = None


def write_error(path: str, err: OSError) -> OutputError:
    """The one-line error for a failed write to ``path``."""
    return OutputError(f"{path}: write failed: {err.strerror or err}")
