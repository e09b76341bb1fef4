"""Text to parse tree to AST, with libpcap's error messages and the offending span.

Two engines build the same parse tree from ``grammar/pcap_filter.lark``:

* always, unless asked otherwise, :mod:`bpfc.syntax.lalr`, a small LALR driver over
  tables generated from the grammar by Lark (``python -m bpfc.syntax.gen_tables``) — no
  Lark import at run time.  Whether those tables are fresh (their recorded grammar hash
  equals the grammar's: :func:`tables_are_fresh`) is a test's business, not every run's:
  hashing the grammar cost a tenth of ``bpfc -d``'s start-up;
* with ``engine="lark"`` (or ``BPFC_PARSER=lark`` in the environment, for someone editing
  the grammar before regenerating the tables), Lark itself (``parser="lalr"``, strict), its
  tables cached on disk keyed on the grammar (``$BPFC_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/bpfc`` or ``~/.cache/bpfc``; no cache when that is not writable).

Every failure is a :class:`~bpfc.errors.CompileError` whose ``span`` points at the
offending token (an empty span at the end for a truncated expression).  Syntax errors
carry libpcap's message, ``can't parse filter expression: syntax error``.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from bpfc import ast
from bpfc.errors import CompileError
from bpfc.scope import paused_collector

SYNTAX_ERROR = "can't parse filter expression: syntax error"
GRAMMAR_FILE = "pcap_filter.lark"

_lock = threading.Lock()
_lark_parser: Any = None
_tables_fresh: bool | None = None


def _grammar_path() -> str | None:
    """The grammar file on disk: ``bpfc/grammar/`` when installed, ``grammar/`` beside
    ``bpfc/`` in a source checkout (whose editable install may not map ``bpfc.grammar``)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder in (os.path.join(package, "grammar"), os.path.join(package, "..", "grammar")):
        path = os.path.join(folder, GRAMMAR_FILE)
        if os.path.isfile(path):
            return path
    return None


def grammar_text() -> str:
    """The grammar source (from the file system, else through ``importlib.resources``)."""
    path = _grammar_path()
    if path is not None:
        with open(path, encoding="utf-8") as f:
            return f.read()
    from importlib import resources

    return resources.files("bpfc.grammar").joinpath(GRAMMAR_FILE).read_text("utf-8")


def tables_are_fresh() -> bool:
    """True when the generated LALR tables were built from the current grammar (or when the
    grammar file is not installed, so only the tables can be used)."""
    global _tables_fresh
    if _tables_fresh is None:
        import hashlib

        from bpfc.syntax import _tables

        try:
            text = grammar_text()
        except (OSError, ModuleNotFoundError):  # an install without the grammar file
            _tables_fresh = True
            return True
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        _tables_fresh = digest == _tables.GRAMMAR_SHA256
    return _tables_fresh


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


def _build_lark() -> Any:
    from lark import Lark

    from bpfc.syntax.larkbridge import PcapLexer

    options: dict[str, Any] = {"parser": "lalr", "lexer": PcapLexer, "maybe_placeholders": False}
    path = _cache_path()
    if path is not None:
        try:
            return Lark(grammar_text(), cache=path, **options)
        except OSError:
            pass
    return Lark(grammar_text(), **options)


def get_lark_parser() -> Any:
    """The shared Lark parser (built or loaded from the cache on first call; thread-safe)."""
    global _lark_parser
    if _lark_parser is None:
        with _lock:
            if _lark_parser is None:
                _lark_parser = _build_lark()
    return _lark_parser


class FilterSyntaxError(CompileError):
    """libpcap's syntax error, with ``reduced``: the AST nodes (tests and arithmetic, in
    source order) that libpcap's parser had reduced, so generated code for, before it met
    the error.  A semantic error in one of those is what libpcap reports instead, so the
    compiler checks them (:func:`bpfc.codegen.dispatch.check_reduced`) before giving up
    with the syntax error."""

    def __init__(self, expr: str, span: tuple[int, int], hint: str, reduced: list[Any]) -> None:
        super().__init__(SYNTAX_ERROR, expr, span, hint)
        self.reduced = reduced


def _syntax_error(expr: str, tok: Any, values: list[Any] | None = None) -> CompileError:
    reduced: list[Any] = []
    if values:
        from bpfc.syntax.to_ast import reduced_prefix

        reduced = reduced_prefix(values, expr)
    if tok.type == "$END":
        return FilterSyntaxError(expr, (len(expr), len(expr)), "unexpected end", reduced)
    span = (tok.start_pos, tok.end_pos)
    return FilterSyntaxError(expr, span, f"unexpected '{tok}'", reduced)


def parse_tree(expr: str, engine: str | None = None) -> Any:
    """The parse tree of ``expr``; ``engine`` ``"tables"`` or ``"lark"`` forces one (the
    default is the tables, or ``$BPFC_PARSER``).  Raises :class:`CompileError`."""
    from bpfc.syntax.lexer import tokenize

    if engine is None:
        engine = os.environ.get("BPFC_PARSER") or "tables"
    if engine == "tables":
        from bpfc.syntax import lalr

        try:
            return lalr.parse(tokenize(expr), len(expr))
        except lalr.UnexpectedToken as err:
            raise _syntax_error(expr, err.token, err.values) from None
        except lalr.ScanError as err:  # the scanner's own error, after what was reduced
            error = err.error
            if err.values:
                from bpfc.syntax.to_ast import reduced_prefix

                error.reduced = reduced_prefix(err.values, expr)  # type: ignore[attr-defined]
                error.early_end = err.early_end  # type: ignore[attr-defined]
            raise error from None
    from lark.exceptions import UnexpectedToken

    try:
        return get_lark_parser().parse(expr)
    except UnexpectedToken as err:
        raise _syntax_error(expr, err.token) from None


def parse(expr: str, engine: str | None = None) -> ast.Expr:
    """The AST of a filter expression; an empty expression gives :class:`bpfc.ast.Empty`."""
    from bpfc.syntax.to_ast import to_ast

    if not isinstance(expr, str):
        raise TypeError(f"filter expression must be str, not {type(expr).__name__}")
    # Parsing allocates many small acyclic objects; the cyclic collector would rescan them
    # over and over on long inputs (40% of the time for 100,000 terms), so pause it.
    with paused_collector():
        return to_ast(parse_tree(expr, engine), expr)


def cache_file() -> str | None:
    """Where Lark's tables are cached for the fallback engine (None when caching is off)."""
    return _cache_path()
