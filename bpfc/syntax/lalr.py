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


class ScanError(Exception):
    """The scanner refused the text at the next token (``error``, a CompileError).

    libpcap's scanner records its error and hands the parser a token no rule accepts, so
    ``values`` is the stack after the default reductions on it, as for
    :class:`UnexpectedToken`: code generation's errors in those replace the scanner's.
    ``early_end`` is where the text reduced *before* the scanner was asked for that token
    ends (bison reduces without reading ahead in a state whose one action is a
    reduction): errors from there were recorded first, whatever their kind."""

    def __init__(self, error: Exception, values: list[Any], early_end: int) -> None:
        super().__init__(error)
        self.error = error
        self.values = values
        self.early_end = early_end


class UnexpectedToken(Exception):
    """The parser met ``token`` (type ``$END`` at the end of input) where it cannot be.

    ``values`` is the parse stack (trees and tokens, left to right) after the reductions
    bison's parser would still have made on that token: bison reduces by a state's
    *default reduction* whatever the lookahead, and only notices the error in a state that
    has none.  libpcap generates code (and reports semantic errors) as it reduces, so those
    reductions decide which error a filter gets."""

    def __init__(self, token: Token, values: list[Any] | None = None) -> None:
        super().__init__(token)
        self.token = token
        self.values = values or []


def parse(tokens: Iterable[Token], end_pos: int) -> Tree:
    """The parse tree of ``tokens``; raises :class:`UnexpectedToken` (the grammar refuses
    a token) or :class:`ScanError` (the scanner refuses the text).  ``$END`` always
    accepts or raises, so the loop ends."""
    from bpfc.syntax import _tables

    actions, rules = _tables.ACTIONS, _tables.RULES
    states: list[int] = [_tables.START]
    values: list[Any] = []
    end = Token("$END", "", end_pos, end_pos)
    stream = iter(_chain(tokens, end))
    while True:
        try:
            token = next(stream)
        except ValueError as err:  # the scanner's CompileError (a ValueError)
            _default_reductions(states, values, consistent_only=True)
            early_end = max((_end_of(v) for v in values if isinstance(v, Tree)), default=-1)
            _default_reductions(states, values)
            raise ScanError(err, values, early_end) from None
        kind = token.type
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                _default_reductions(states, values)
                raise UnexpectedToken(token, values)
            if action >= 0:
                states.append(action)
                values.append(token)
                break
            # (the reduction, inline: this loop is the parser's hot path; _reduce below
            # is the same step for the error path)
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
                else:  # a left-recursive list: take it over rather than copy it (O(n))
                    kept = children[index].children
            value = kept[0] if collapse and len(kept) == 1 else Tree(name, kept)
            goto = actions[states[-1]][origin]
            states.append(goto)
            values.append(value)
            if kind == "$END" and goto == _tables.END:
                return value  # type: ignore[no-any-return]


def _end_of(tree: Tree) -> int:
    """Where the text of a (non-empty) parse tree ends; -1 for an empty one."""
    while tree.children:
        last = tree.children[-1]
        if isinstance(last, Token):
            return last.end_pos
        tree = last
    return -1


def _reduce(rule: Any, actions: Any, states: list[int], values: list[Any]) -> int:
    """Reduce the top of the stack by ``rule``; push and return the goto state."""
    origin, size, name, collapse, keep = rule
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
    goto: int = actions[states[-1]][origin]
    states.append(goto)
    values.append(value)
    return goto


_default_reduction: dict[int, int | None] = {}
_consistent: dict[int, bool] = {}


def _default_of(state: int) -> int | None:
    """bison's default reduction of ``state``: the reduce action taken on the most
    lookaheads (the earliest rule on ties), or None when the state only shifts."""
    if state not in _default_reduction:
        from bpfc.syntax import _tables

        counts: dict[int, int] = {}
        shifts = False
        for key, action in _tables.ACTIONS[state].items():
            if action < 0:
                counts[action] = counts.get(action, 0) + 1
            elif key.isupper() or key == "$END":  # a terminal's shift, not a goto
                shifts = True
        best = max(counts.items(), key=lambda item: (item[1], item[0]), default=None)
        _default_reduction[state] = None if best is None else best[0]
        _consistent[state] = len(counts) == 1 and not shifts
    return _default_reduction[state]


def _default_reductions(
    states: list[int], values: list[Any], consistent_only: bool = False
) -> None:
    """Make the reductions bison would make before it sees that the lookahead is wrong
    (``consistent_only``: those it makes before it even reads the lookahead)."""
    from bpfc.syntax import _tables

    for _ in range(4 * len(states) + 16):  # each step reduces; bounded all the same
        action = _default_of(states[-1])
        if action is None or states[-1] == _tables.END:
            return
        if consistent_only and not _consistent[states[-1]]:
            return
        _reduce(_tables.RULES[-1 - action], _tables.ACTIONS, states, values)


def _chain(tokens: Iterable[Token], end: Token) -> Iterable[Token]:
    yield from tokens
    yield end
