"""Tests of bpfc/syntax: lexer, LALR tables and parser."""
