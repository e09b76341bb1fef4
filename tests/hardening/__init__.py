"""Fuzzing: expressions, parser, API, CLI, damaged capture files."""
