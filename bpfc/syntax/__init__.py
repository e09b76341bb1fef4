"""bpfc's front end: pcap-filter text to :mod:`bpfc.ast` (see :func:`parse`)."""

from __future__ import annotations

from bpfc.syntax.parse import SYNTAX_ERROR, parse, parse_tree

__all__ = ["SYNTAX_ERROR", "parse", "parse_tree"]
