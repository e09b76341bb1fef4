"""Tests of bpfc/corpus: the golden corpus and its tools."""
