"""The exception hierarchy shared by every stage of bpfc.

``BpfcError`` is the root.  Filter expressions that cannot be compiled raise
``CompileError`` (a ``ValueError`` carrying the position of the offending text);
bytecode that breaks a machine rule raises ``ValidationError`` (naming the
instruction index); unreadable listings raise ``AsmError`` (naming the line).
A broken internal invariant raises ``InternalError`` and is a bug in bpfc.
"""

from __future__ import annotations


class BpfcError(Exception):
    """Base class of every error bpfc raises on purpose."""


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
        """The message, then the expression with ``^~~~`` under the offending span."""
        lines = [self.message]
        if self.expr is not None and self.span is not None and "\n" not in self.expr:
            start, end = self.span
            start = max(0, min(start, len(self.expr)))
            end = max(start + 1, min(end, len(self.expr)))
            lines.append("  " + self.expr)
            lines.append("  " + " " * start + "^" + "~" * (end - start - 1))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


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


class InternalError(BpfcError, RuntimeError):
    """A broken invariant inside bpfc: always a bug, never the user's input."""
