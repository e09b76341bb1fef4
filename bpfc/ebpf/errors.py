"""The error the eBPF translation raises, in a module of its own so that every module of
:mod:`bpfc.ebpf` can raise it without importing the translator."""

from __future__ import annotations

from bpfc.errors import BpfcError

__all__ = ["TranslationError"]


class TranslationError(BpfcError, ValueError):
    """A cBPF program (or an option) that cannot become an eBPF program for the target."""
