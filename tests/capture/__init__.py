"""Tests of bpfc/capture: capture files, batches, buffers, live capture."""
