"""A small LALR(1) driver over the tables in :mod:`bpfc.syntax._tables`.

It builds the same parse trees Lark would (same rule names, same collapsing of ``?rule``
single children, same splicing of ``_rule`` children) without importing Lark, which would
otherwise dominate bpfc's start-up time.  The loop is iterative: nesting depth costs list
space, never Python stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Token:
    """A scanner token: ``type`` (a grammar terminal), text, and character offsets."""

    __slots__ = ("type", "value", "start_pos", "end_pos")
    line = end_line = 1  # expressions are one line; Lark's error path reads these

    @property
    def column(self) -> int:
        return self.start_pos + 1

    @property
    def end_column(self) -> int:
        return self.end_pos + 1

    def __init__(self, type: str, value: str, start_pos: int, end_pos: int) -> None:  # noqa: A002
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Token):
            return (self.type, self.value) == (other.type, other.value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.type, self.value))


class Tree:
    """A parse-tree node: the rule (or alias) name and the children (trees and tokens)."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list[Any]) -> None:
        self.data = data
        self.children = children

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


class UnexpectedToken(Exception):
    """The parser met ``token`` (type ``$END`` at the end of input) where it cannot be."""

    def __init__(self, token: Token) -> None:
        super().__init__(token)
        self.token = token


def parse(tokens: Iterable[Token], end_pos: int) -> Tree:
    """The parse tree of ``tokens``; raises :class:`UnexpectedToken`."""
    from bpfc.syntax import _tables

    actions, rules = _tables.ACTIONS, _tables.RULES
    states: list[int] = [_tables.START]
    values: list[Any] = []
    end = Token("$END", "", end_pos, end_pos)
    for token in _chain(tokens, end):
        kind = token.type
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise UnexpectedToken(token)
            if action >= 0:
                states.append(action)
                values.append(token)
                break
            origin, size, name, collapse, keep = rules[-1 - action]
            if size:
                children = values[-size:]
                del values[-size:]
                del states[-size:]
            else:
                children = []
            kept: list[Any] = []
            for index, splice in keep:
                if not splice:
                    kept.append(children[index])
                elif kept:
                    kept.extend(children[index].children)
                else:  # a left-recursive list: take it over rather than copy it (O(n), not n^2)
                    kept = children[index].children
            value = kept[0] if collapse and len(kept) == 1 else Tree(name, kept)
            goto = actions[states[-1]][origin]
            states.append(goto)
            values.append(value)
            if kind == "$END" and goto == _tables.END:
                return value  # type: ignore[no-any-return]
    raise AssertionError("unreachable: $END always accepts or raises")  # pragma: no cover


def _chain(tokens: Iterable[Token], end: Token) -> Iterable[Token]:
    yield from tokens
    yield end
