"""Tests of bpfc/codegen: code generation per link family, listings, rejections."""
