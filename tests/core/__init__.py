"""Tests of the top-level modules of bpfc (bpfc/<module>.py)."""
