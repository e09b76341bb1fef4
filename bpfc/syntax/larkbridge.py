"""The bridge to Lark itself, used to build the tables and when they are stale.

:class:`PcapLexer` feeds bpfc's scanner to a ``Lark`` instance (it lives at module level
so that Lark can pickle it into its cache).  Nothing here is imported on the normal path.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark.lexer import Lexer

from bpfc.syntax.lalr import Token
from bpfc.syntax.lexer import tokenize


class PcapLexer(Lexer):
    """Adapter: Lark asks for tokens, bpfc's flex-style scanner yields them."""

    def __init__(self, lexer_conf: object = None) -> None:
        pass

    def lex(self, data: str) -> Iterator[Token]:  # type: ignore[override]
        return tokenize(data)
