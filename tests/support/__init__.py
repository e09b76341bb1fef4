"""Helpers shared by the tests, tools/ and bench/ (no tests here)."""
