"""The exception hierarchy shared by every stage of bpfc.

``BpfcError`` is the root.  Filter expressions that cannot be compiled raise
``CompileError`` (a ``ValueError`` carrying the position of the offending text);
bytecode that breaks a machine rule raises ``ValidationError`` (naming the
instruction index); unreadable listings raise ``AsmError`` (naming the line).
A broken internal invariant raises ``InternalError`` and is a bug in bpfc.  A command
line that cannot be run as given raises ``UsageError``.
"""

from __future__ import annotations


class BpfcError(Exception):
    """Base class of every error bpfc raises on purpose."""


REJECTS_ALL = "expression rejects all packets"
"""libpcap's refusal of a filter its optimizer reduces to ``ret #0`` (bpfc says it too)."""


class CompileError(BpfcError, ValueError):
    """A filter expression that libpcap would reject, or that bpfc cannot compile.

    ``message`` is one line, lowercase, no final period (libpcap's wording where it
    is clear); ``expr`` the whole expression; ``span`` the ``(start, end)`` character
    offsets of the offending text, or ``None`` when the error concerns the whole
    expression.  ``position`` is ``span[0]`` (or ``None``).  ``str(err)`` is the
    message alone; :meth:`format_context` adds the expression with a caret line.
    """

    def __init__(
        self,
        message: str,
        expr: str | None = None,
        span: tuple[int, int] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expr = expr
        self.span = span
        self.hint = hint

    @property
    def position(self) -> int | None:
        return None if self.span is None else self.span[0]

    def __str__(self) -> str:
        return self.message

    def format_context(self) -> str:
        """The message, then the expression with ``^~~~`` under the offending span.

        Only the line holding the span is shown, and of a long line only about
        :data:`CONTEXT_WIDTH` columns around the caret (``...`` marks what is cut), so a
        100 KB token does not echo 100 KB of text."""
        lines = [printable(shorten(self.message))]
        if self.expr is not None and self.span is not None:
            start, end = self.span
            start = max(0, min(start, len(self.expr)))
            end = max(start + 1, min(end, len(self.expr)))
            line_start = self.expr.rfind("\n", 0, start) + 1
            line_end = self.expr.find("\n", start)
            line_end = len(self.expr) if line_end < 0 else line_end
            text, column, width = _window(self.expr[line_start:line_end], start - line_start)
            width = min(end - start, width)
            lines.append("  " + "".join(ch if ch.isprintable() else _BLANK(ch) for ch in text))
            lines.append("  " + " " * column + "^" + "~" * (width - 1))
        if self.hint:
            lines.append(f"hint: {printable(shorten(self.hint))}")
        return "\n".join(lines)


CONTEXT_WIDTH = 72
"""Columns of expression an error shows around its caret (without the ``...`` marks)."""

_QUOTED_LIMIT = 160
"""A token in a message longer than this is cut (see :func:`shorten`); long enough for
any reasonable file path."""


def _window(line: str, column: int) -> tuple[str, int, int]:
    """``(shown text, caret column in it, columns left from the caret to the cut)``."""
    if len(line) <= CONTEXT_WIDTH:
        return line, column, len(line) - column + 1
    low = max(0, min(column - CONTEXT_WIDTH // 3, len(line) - CONTEXT_WIDTH))
    high = min(len(line), low + CONTEXT_WIDTH)
    head = "..." if low > 0 else ""
    tail = "..." if high < len(line) else ""
    return head + line[low:high] + tail, len(head) + column - low, max(1, high - column)


def _BLANK(ch: str) -> str:  # noqa: N802 - a constant-like helper
    """One column standing for an unprintable character in the shown expression."""
    return " " if ch == "\t" else "?"


def printable(text: str) -> str:
    """``text`` with unprintable characters escaped (``\\x1e``): an error stays on its
    lines even when the input held line or record separators."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def shorten(message: str) -> str:
    """``message`` with every run of more than 160 characters without a space or quote cut
    to its start and ``...``: messages quote the offending token, which may be huge."""
    if len(message) <= _QUOTED_LIMIT:
        return message
    import re

    return re.sub(
        rf"[^\s'\"]{{{_QUOTED_LIMIT + 1},}}",
        lambda match: match.group(0)[: _QUOTED_LIMIT // 2] + "...",
        message,
    )


class ValidationError(BpfcError, ValueError):
    """A program that breaks a cBPF rule; ``index`` is the instruction (or None)."""

    def __init__(self, message: str, index: int | None = None, rule: str | None = None) -> None:
        text = message if index is None else f"insn {index}: {message}"
        super().__init__(text)
        self.message = message
        self.index = index
        self.rule = rule


class AsmError(BpfcError, ValueError):
    """A listing or byte string that cannot be read as a program; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None = None, source: str | None = None) -> None:
        where = "" if line is None else f"line {line}: "
        super().__init__(f"{where}{message}")
        self.message = message
        self.line = line
        self.source = source


class UsageError(BpfcError, ValueError):
    """A command line bpfc cannot run as given (unknown option, bad option value...)."""


class InternalError(BpfcError, RuntimeError):
    """A broken invariant inside bpfc: always a bug, never the user's input."""
