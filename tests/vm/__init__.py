"""Tests of bpfc/vm: the cBPF interpreter."""
