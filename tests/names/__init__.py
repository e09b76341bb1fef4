"""Tests of bpfc/names: host, network, port and protocol names."""
