"""``port`` and ``portrange``: which protocols qualify them, and how a named port or a
port range id becomes port numbers, in libpcap master's order and words.

A port range id is always split at its one hyphen, even where a service name contains one
(``portrange ftp-data`` is the range ``ftp`` to ``data``, and ``data`` is no port); each
half is a number (decimal, hex or octal, any size: the range check comes after) or a
service name; a name alone (``portrange domain``) is no range at all.
"""

from __future__ import annotations

from typing import Any

from bpfc import ast
from bpfc.cfg import Cond
from bpfc.codegen import messages, resolve, transport
from bpfc.codegen.state import CodegenState
from bpfc.errors import CompileError


def check_port_proto(state: CodegenState, proto: str | None, kind: str, span: Any) -> None:
    """Only ``tcp``, ``udp`` and ``sctp`` qualify a port (libpcap checks this first)."""
    if proto not in (None, "tcp", "udp", "sctp"):
        raise state.error(messages.invalid_qual(proto, kind), span)


def gen_port_range(
    state: CodegenState, q: ast.Qualifiers, lo: int, hi: int, proto: str | None, span: Any
) -> Cond:
    """The port test; only the plain directions make sense for ports."""
    kind = q.kind or "port"
    direction = q.dir or "default"
    if direction not in ("default", "src", "dst", "src or dst", "src and dst"):
        raise state.error(messages.invalid_qual(direction, kind), span)
    return transport.gen_port(state, lo, hi, proto or "", direction)


def _service_proto(
    state: CodegenState, wanted: str | None, real: str | None, what: str, span: Any
) -> str | None:
    """The transport protocol of a named port: a service known only as tcp (say) under
    ``udp`` is an error; a service known as both takes the qualifier's protocol."""
    if wanted is not None and real is not None and real != wanted:
        raise state.error(f"{what} is {real}", span)
    return wanted or real


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _is_number(text: str) -> bool:
    """Whether libpcap reads ``text`` as a number (hex after ``0x``, octal digits after a
    leading ``0``, else decimal) rather than look it up as a service name."""
    if text[:2] in ("0x", "0X"):
        return len(text) > 2 and set(text[2:]) <= _HEX_DIGITS
    if text.startswith("0"):
        return set(text) <= set("01234567")
    return text.isdigit()


def _range_port(state: CodegenState, text: str, span: Any) -> tuple[int, str | None]:
    """One end of a port range: a number (any size: checked later; overflowing 32 bits is
    an error) or a service name; a numeric service string (``08``) is its decimal value."""
    if _is_number(text):
        from bpfc.syntax.lexer import number_value

        try:
            return number_value(text), None
        except CompileError as err:
            raise state.error(err.message, span) from None
    found = resolve.nametoport(text)
    if found is not None:
        return found[0], found[1]
    if text.isdigit():
        return int(text, 10), None
    raise state.error(f"'{text}' is not a valid port", span)


def gen_port_name(state: CodegenState, q: ast.Qualifiers, ident: ast.NameId, span: Any) -> Cond:
    """``port NAME`` (a service) and ``portrange LO-HI`` (numbers or services)."""
    kind = q.kind or "port"
    proto = q.proto
    check_port_proto(state, proto, kind, span)
    text = ident.text
    if kind == "port":
        found = resolve.nametoport(text)
        if found is None:
            raise state.error(f"unknown port '{text}'", span)
        real = _service_proto(state, proto, found[1], f"port '{text}'", span)
        return gen_port_range(state, q, found[0], found[0], real, span)
    # a port range is always split at its one hyphen, even where a service name has one
    first, hyphen, second = text.partition("-")
    if not hyphen:
        raise state.error(f"port range '{text}' contains no hyphen", span)
    if "-" in second:
        raise state.error(f"port range '{text}' contains more than one hyphen", span)
    if not first:
        raise state.error(f"port range '{text}' has no starting port", span)
    lo, real_lo = _range_port(state, first, span)
    if not second:
        raise state.error(f"port range '{text}' has no ending port", span)
    hi, real_hi = _range_port(state, second, span)
    real = real_lo if real_lo == real_hi else None
    real = _service_proto(state, proto, real, f"port in range '{text}'", span)
    for value in (lo, hi):
        if value > 65535:
            raise state.error(messages.port_too_big(value), span)
    return gen_port_range(state, q, lo, hi, real, span)


#: how libpcap names the link-layer protocol field, per framing, in range errors
