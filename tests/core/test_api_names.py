"""The public names of ``bpfc`` stay the public objects, whatever was imported before.

A submodule is bound as an attribute of its package when it is imported, so a module
``bpfc/validate.py`` replaced the lazily exported function ``bpfc.validate`` as soon as
anything imported it (``bpfc.compile`` does): the README's ``bpfc.validate(prog)`` then
called a module.  No submodule may carry a public name.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import bpfc


def _submodule_names() -> set[str]:
    return {info.name for info in pkgutil.iter_modules(bpfc.__path__)}


def test_no_submodule_is_named_like_a_public_name() -> None:
    clashes = _submodule_names() & set(bpfc.__all__)
    assert not clashes, f"submodules shadow public names once imported: {sorted(clashes)}"


def test_public_names_survive_importing_every_submodule() -> None:
    for name in sorted(_submodule_names()):
        if name != "__main__":
            importlib.import_module(f"bpfc.{name}")
    for name in bpfc.__all__:
        value = getattr(bpfc, name)
        assert not isinstance(value, types.ModuleType), name
    assert callable(bpfc.validate) and callable(bpfc.compile) and callable(bpfc.assemble)


def test_validate_after_compile_in_a_fresh_interpreter() -> None:
    """The user trial's sequence, in a process where nothing else was imported first."""
    code = (
        "import bpfc; p = bpfc.compile('tcp'); bpfc.validate(p, strict=True);"
        "print(bpfc.validate.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "bpfc.isa.validation"


def test_dir_lists_every_public_name() -> None:
    assert set(dir(bpfc)) >= set(bpfc.__all__)
