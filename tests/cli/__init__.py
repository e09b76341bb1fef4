"""Tests of bpfc/cli: the command line."""
