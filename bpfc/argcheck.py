"""Checks on the arguments of the public API, with messages that name the argument.

A wrong argument should fail where it is passed, as ``TypeError`` (wrong kind) or
``ValueError`` (right kind, wrong value), saying which argument and what it may be,
instead of surfacing later as some internal ``AttributeError`` or comparison error.
``bool`` is refused where an ``int`` is meant (``snaplen=True`` is a mistake), but a
flag accepts any ``bool`` or the integers 0 and 1 (C callers' habit).
"""

from __future__ import annotations

from typing import Any


def _kind(value: object) -> str:
    return type(value).__name__


def check_int(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in ``low..high``; TypeError unless an int, ValueError if outside."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {_kind(value)}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return int(value)


def check_flag(name: str, value: object) -> bool:
    """``value`` as a bool (``True``/``False``, or the ints 0 and 1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {value!r}"[:200])


def check_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {_kind(value)}")
    return value


def check_optional_str(name: str, value: object) -> str | None:
    return None if value is None else check_str(name, value)


def check_linktype(value: object) -> str | int:
    """A DLT name or number (its existence is checked by :func:`bpfc.linktypes.lookup`)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"linktype must be a DLT name (str) or number (int), not {_kind(value)}")
    if isinstance(value, int) and not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"linktype must be between 0 and 4294967295, not {value}")
    return value


def check_bytes_like(name: str, value: Any) -> memoryview:
    """A byte view of ``value`` (bytes, bytearray, memoryview, array...)."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be bytes-like, not str (use bytes.fromhex for hex text)")
    try:
        return memoryview(value).cast("B")
    except TypeError:
        raise TypeError(f"{name} must be bytes-like, not {_kind(value)}") from None


RESOLVER_METHODS = ("host", "ether", "network", "service", "protocol")
"""What a resolver may answer (:class:`bpfc.names.resolver.Resolver`); any subset will do."""


def check_resolver(value: object) -> None:
    """None, or an object with at least one resolver method (a partial resolver is fine)."""
    if value is None:
        return
    if not any(callable(getattr(value, name, None)) for name in RESOLVER_METHODS):
        raise TypeError(
            f"resolver must have host()/ether()/network()/service() methods, not {_kind(value)}"
        )
