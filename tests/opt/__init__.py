"""Tests of bpfc/opt: the optimizer's passes and their properties (fixtures/ beside)."""
