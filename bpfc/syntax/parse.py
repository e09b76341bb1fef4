"""Text to parse tree to AST: the Lark LALR parser, built once and cached on disk.

Building the LALR tables from ``grammar/pcap_filter.lark`` takes about a quarter of a
second; Lark's ``cache=`` stores them keyed on the grammar's hash, so a changed grammar
regenerates them automatically.  The cache lives in ``$BPFC_CACHE_DIR`` or
``$XDG_CACHE_HOME/bpfc`` (``~/.cache/bpfc``); when that is not writable bpfc simply
builds the tables in memory.  The parser is created on first use, not at import.

Every failure is a :class:`~bpfc.errors.CompileError` whose ``span`` points at the
offending token (an empty span at the end for a truncated expression).  Syntax errors
carry libpcap's message, ``can't parse filter expression: syntax error``.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from bpfc import ast
from bpfc.errors import CompileError

SYNTAX_ERROR = "can't parse filter expression: syntax error"

_lock = threading.Lock()
_parser: Any = None


def _cache_path() -> str | None:
    import lark

    base = os.environ.get("BPFC_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "bpfc")
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        return None
    if not os.access(base, os.W_OK | os.X_OK):
        return None
    version = f"{sys.version_info[0]}{sys.version_info[1]}"
    return os.path.join(base, f"pcap_filter-lark{lark.__version__}-py{version}.cache")


GRAMMAR_FILE = "pcap_filter.lark"


def grammar_text() -> str:
    """The grammar source: from the installed ``bpfc.grammar`` package, else (a source
    checkout whose install does not map that package) from ``grammar/`` beside ``bpfc/``."""
    try:
        return resources.files("bpfc.grammar").joinpath(GRAMMAR_FILE).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        path = Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_FILE
        return path.read_text("utf-8")


def _build() -> Any:
    from lark import Lark

    from bpfc.syntax.lexer import PcapLexer

    options: dict[str, Any] = {"parser": "lalr", "lexer": PcapLexer, "maybe_placeholders": False}
    path = _cache_path()
    if path is not None:
        try:
            return Lark(grammar_text(), cache=path, **options)
        except OSError:
            pass
    return Lark(grammar_text(), **options)


def get_parser() -> Any:
    """The shared Lark parser (built or loaded on first call; thread-safe)."""
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = _build()
    return _parser


def _describe(tok: Any) -> str:
    if tok.type == "$END":
        return "end of expression"
    return f"'{tok}'"


def parse_tree(expr: str) -> Any:
    """The Lark parse tree of ``expr`` (mostly for tests); raises :class:`CompileError`."""
    from lark.exceptions import UnexpectedInput, UnexpectedToken

    parser = get_parser()
    try:
        return parser.parse(expr)
    except UnexpectedToken as err:
        tok = err.token
        if tok.type == "$END":
            span = (len(expr), len(expr))
        else:
            span = (tok.start_pos, tok.end_pos)
        hint = f"unexpected {_describe(tok)}"
        raise CompileError(SYNTAX_ERROR, expr, span, hint) from None
    except UnexpectedInput as err:  # pragma: no cover - the custom lexer never raises these
        pos = getattr(err, "pos_in_stream", None) or 0
        raise CompileError(SYNTAX_ERROR, expr, (pos, pos + 1)) from None


def parse(expr: str) -> ast.Expr:
    """The AST of a filter expression; an empty expression gives :class:`bpfc.ast.Empty`."""
    from bpfc.syntax.to_ast import to_ast

    if not isinstance(expr, str):
        raise TypeError(f"filter expression must be str, not {type(expr).__name__}")
    # Parsing allocates many small acyclic objects; the cyclic collector would rescan them
    # over and over on long inputs (40% of the time for 100,000 terms), so pause it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return to_ast(parse_tree(expr), expr)
    finally:
        if gc_was_enabled:
            gc.enable()


def cache_file() -> Path | None:
    """Where the parser tables are cached (None when caching is off)."""
    path = _cache_path()
    return None if path is None else Path(path)
