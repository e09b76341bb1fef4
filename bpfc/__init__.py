"""bpfc: compile tcpdump / pcap-filter(7) expressions to classic BPF, in pure Python.

Public names are imported lazily so that ``import bpfc`` (and the CLI) start fast:

>>> import bpfc
>>> bpfc.Insn(0x06, 0, 0, 262144)
Insn(code=6, jt=0, jf=0, k=262144)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Insn": "bpfc.isa.insn",
    "Program": "bpfc.program",
    "assemble": "bpfc.isa.asm",
    "validate": "bpfc.isa.validation",
    "compile": "bpfc.compiler",
    "pcap_compile": "bpfc.pcap_compat",
    "SavefileInfo": "bpfc.savefile",
    "BpfcError": "bpfc.errors",
    "CompileError": "bpfc.errors",
    "ValidationError": "bpfc.errors",
    "AsmError": "bpfc.errors",
    "InternalError": "bpfc.errors",
}

__all__ = [
    "AsmError",
    "BpfcError",
    "CompileError",
    "Insn",
    "InternalError",
    "Program",
    "SavefileInfo",
    "ValidationError",
    "__version__",
    "assemble",
    "compile",
    "pcap_compile",
    "validate",
]

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.compiler import compile
    from bpfc.errors import AsmError, BpfcError, CompileError, InternalError, ValidationError
    from bpfc.isa.asm import assemble
    from bpfc.isa.insn import Insn
    from bpfc.isa.validation import validate
    from bpfc.pcap_compat import pcap_compile
    from bpfc.program import Program
    from bpfc.savefile import SavefileInfo


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bpfc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
