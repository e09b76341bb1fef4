"""Tests of bpfc/decode: the one-line packet summary against tcpdump."""
