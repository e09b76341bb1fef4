"""The tests mirror the code (issue 12): a newcomer finds a module's tests by its path.

Rules checked here (tests/README.md states them):

* ``bpfc/<pkg>/<module>.py`` is tested in ``tests/<pkg>/test_<module>.py`` and a top-level
  ``bpfc/<module>.py`` in ``tests/core/test_<module>.py``: a test file named after a module
  must sit in that module's folder (or be listed in ``ELSEWHERE`` with its reason), and inside
  ``tests/<pkg>/`` the package name is not repeated (``test_<module>.py``, not
  ``test_<pkg>_<module>.py``);
* no test file sits flat in ``tests/`` (only ``conftest.py`` does);
* every folder of ``tests/`` that holds Python files is a package (``__init__.py``), so two
  areas may both have a ``test_verify.py`` (pytest imports them as ``opt.test_verify`` and
  ``corpus.test_verify``); ``tests/`` itself is not a package and is on ``pythonpath``;
* every folder is a ``bpfc`` package, ``core``, or one of the cross-cutting folders.

``layout_problems`` takes the two roots as arguments so that the checks are themselves tested
on small planted trees: each rule must catch its breach.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# folders that do not mirror a bpfc package: what each holds is in tests/README.md
CROSS_CUTTING = {
    "core",  # the top-level modules of bpfc (bpfc/<module>.py)
    "upstream",
    "differential",
    "corpus",
    "hardening",
    "project",
    "support",
}

# test files named after a module they do not mirror: path under tests/ -> why
ELSEWHERE: dict[str, str] = {}


def _modules(bpfc_root: Path) -> dict[str, set[str]]:
    """Module stem -> the test folders that mirror a module of that name."""
    out: dict[str, set[str]] = {}
    for path in bpfc_root.rglob("*.py"):
        rel = path.relative_to(bpfc_root)
        if path.stem.startswith("_") or len(rel.parts) > 2:
            continue
        area = rel.parts[0] if len(rel.parts) == 2 else "core"
        out.setdefault(path.stem, set()).add(area)
    return out


def layout_problems(
    bpfc_root: Path, tests_root: Path, elsewhere: dict[str, str] | None = None
) -> list[str]:
    """Every breach of the layout rules under ``tests_root``, one line each (empty: none)."""
    elsewhere = ELSEWHERE if elsewhere is None else elsewhere
    problems: list[str] = []
    modules = _modules(bpfc_root)
    packages = {p.name for p in bpfc_root.iterdir() if (p / "__init__.py").is_file()}

    for path in sorted(tests_root.glob("*.py")):
        if path.name != "conftest.py":
            problems.append(f"{path.name}: flat in tests/; move it to tests/<area>/")

    for folder in sorted(p for p in tests_root.rglob("*") if p.is_dir()):
        rel = folder.relative_to(tests_root)
        if "__pycache__" in rel.parts or not any(folder.glob("*.py")):
            continue
        if not (folder / "__init__.py").is_file():
            problems.append(f"{rel}/: holds Python files but has no __init__.py")
        if len(rel.parts) == 1 and rel.name not in packages | CROSS_CUTTING:
            problems.append(f"{rel}/: neither a bpfc package nor a cross-cutting folder")

    for path in sorted(tests_root.rglob("test_*.py")):
        rel = path.relative_to(tests_root)
        if len(rel.parts) < 2:
            continue
        key, area, stem = rel.as_posix(), rel.parts[0], path.stem.removeprefix("test_")
        if key in elsewhere:
            continue
        homes = modules.get(stem, set())
        if homes and area not in homes:
            want = " or ".join(f"tests/{h}/{path.name}" for h in sorted(homes))
            problems.append(f"{key}: named after a module tested in {want}")
        prefix, _, rest = stem.partition("_")
        if prefix == area and area in modules.get(rest, set()):
            problems.append(f"{key}: repeats its folder; name it tests/{area}/test_{rest}.py")

    for key in sorted(elsewhere):
        if not (tests_root / key).is_file():
            problems.append(f"{key}: listed in ELSEWHERE but absent")
    return problems


def test_the_tests_mirror_the_code() -> None:
    assert layout_problems(ROOT / "bpfc", ROOT / "tests") == []


def _plant(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def _tree(tmp_path: Path, *tests: str) -> list[str]:
    bpfc, tests_root = tmp_path / "bpfc", tmp_path / "tests"
    _plant(bpfc, "__init__.py", "compiler.py", "opt/__init__.py", "opt/thread_jumps.py")
    _plant(bpfc, "corpus/__init__.py", "corpus/verify.py", "opt/verify.py")
    _plant(tests_root, "conftest.py", *tests)
    return layout_problems(bpfc, tests_root, {})


def test_a_mirrored_tree_passes(tmp_path: Path) -> None:
    problems = _tree(
        tmp_path,
        "opt/__init__.py",
        "opt/test_thread_jumps.py",
        "opt/test_verify.py",
        "corpus/__init__.py",
        "corpus/test_verify.py",
        "core/__init__.py",
        "core/test_compiler.py",
        "hardening/__init__.py",
        "hardening/test_fuzz.py",
        "opt/fixtures/x.txt",
    )
    assert problems == []


def test_each_breach_is_caught(tmp_path: Path) -> None:
    problems = _tree(
        tmp_path,
        "test_thread_jumps.py",  # flat
        "codegen/__init__.py",  # not a bpfc package here
        "hardening/__init__.py",
        "hardening/test_thread_jumps.py",  # named after opt.thread_jumps, elsewhere
        "opt/test_opt_verify.py",  # repeats its folder; opt/ lacks __init__.py
        "core/__init__.py",
        "core/test_verify.py",  # verify is opt's and corpus's, not top-level
    )
    text = "\n".join(problems)
    assert "test_thread_jumps.py: flat in tests/" in text
    assert "codegen/: neither a bpfc package" in text
    assert "hardening/test_thread_jumps.py: named after a module tested in " in text
    assert "tests/opt/test_thread_jumps.py" in text
    assert "opt/: holds Python files but has no __init__.py" in text
    assert "opt/test_opt_verify.py: repeats its folder" in text
    assert "core/test_verify.py: named after a module tested in tests/corpus/" in text
    assert len(problems) == 6


def test_elsewhere_excuses_only_what_exists(tmp_path: Path) -> None:
    bpfc, tests_root = tmp_path / "bpfc", tmp_path / "tests"
    _plant(bpfc, "__init__.py", "opt/__init__.py", "opt/thread_jumps.py")
    _plant(tests_root, "hardening/__init__.py", "hardening/test_thread_jumps.py")
    excuse = {"hardening/test_thread_jumps.py": "fuzzes the pass"}
    assert layout_problems(bpfc, tests_root, excuse) == []
    gone = {"hardening/test_gone.py": "was here"}
    assert layout_problems(bpfc, tests_root, {**excuse, **gone}) == [
        "hardening/test_gone.py: listed in ELSEWHERE but absent"
    ]
