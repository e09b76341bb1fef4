"""Tests of bpfc/isa: assembler, dump, dot, validation, opcode literals."""
