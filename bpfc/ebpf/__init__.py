"""eBPF: cBPF programs translated for XDP, TC and socket filters, and their output forms.

* :mod:`~bpfc.ebpf.insn` -- ``struct bpf_insn``, opcode fields, builders, encoding;
* :mod:`~bpfc.ebpf.targets` -- the three program types, verdicts, ``__sk_buff`` fields;
* :mod:`~bpfc.ebpf.flow` -- what the translation needs to know of the cBPF program
  (reachability, reads before writes, where packet guards go);
* :mod:`~bpfc.ebpf.translate` -- :func:`translate`, cBPF to eBPF;
* :mod:`~bpfc.ebpf.program` -- :class:`EbpfProgram` and its outputs;
* :mod:`~bpfc.ebpf.listing` -- the kernel-style listing;
* :mod:`~bpfc.ebpf.csource` / :mod:`~bpfc.ebpf.elf` -- C source and ELF objects;
* :mod:`~bpfc.ebpf.kernel` -- the ``bpf()`` system call (load, test run).

The package is in the machine layer beside :mod:`bpfc.isa` and :mod:`bpfc.vm`: it
imports only those and :mod:`bpfc.errors`, never the compiler.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EbpfInsn", "EbpfProgram", "TranslationError", "translate"]


def __getattr__(name: str) -> Any:
    """The public names, imported on first use."""
    if name == "EbpfInsn":
        from bpfc.ebpf.insn import EbpfInsn

        return EbpfInsn
    if name == "EbpfProgram":
        from bpfc.ebpf.program import EbpfProgram

        return EbpfProgram
    if name == "translate":
        from bpfc.ebpf.translate import translate

        return translate
    if name == "TranslationError":
        from bpfc.ebpf.errors import TranslationError

        return TranslationError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
