"""docs/architecture.md stays true: the names it gives exist, and bpfc's import graph,
computed from the source with ``ast``, has no cycle and no import up the layers the
document's table lists (function-level imports count; ``if TYPE_CHECKING:`` ones do not).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def layer_table(text: str) -> list[list[str]]:
    """The layers, bottom first: the modules named in each row of the marked table."""
    body = text.split("<!-- layers:", 1)[1].split("<!-- /layers -->", 1)[0]
    layers = []
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("layer", "---") or not line.startswith("|"):
            continue
        layers.append(re.findall(r"`(bpfc[\w.]*)`", cells[1]))
    return layers


def module_files() -> dict[str, Path]:
    """Every module of the ``bpfc`` package, by dotted name (packages by their name)."""
    out = {}
    for path in (ROOT / "bpfc").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The bpfc modules ``name`` imports anywhere in its source, except under
    ``if TYPE_CHECKING:``; ``from P import X`` counts as importing ``P.X`` when that is
    a module, else ``P``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    names = set(files)
    return {name: imports_of(name, path, names) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.add(tuple(sorted(component)))
    return found


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """The layer of the longest listed name that is ``module`` or a package above it
    (``bpfc`` itself, the facade, only as itself)."""
    best: tuple[int, int] | None = None
    for number, names in enumerate(layers):
        for listed in names:
            if module == listed or (listed != "bpfc" and module.startswith(listed + ".")):
                if best is None or len(listed) > best[0]:
                    best = (len(listed), number)
    return None if best is None else best[1]


def upward_imports(graph: dict[str, set[str]], layers: list[list[str]]) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        here = layer_of(module, layers)
        for target in sorted(targets):
            there = layer_of(target, layers)
            if here is not None and there is not None and there > here:
                out.append(f"{module} (layer {here}) imports {target} (layer {there})")
    return out


LAYERS = layer_table(DOC.read_text(encoding="utf-8"))
GRAPH = import_graph()


def test_layer_table_is_read() -> None:
    assert len(LAYERS) >= 5
    assert all(LAYERS), "every layer row names modules"


def test_every_name_in_the_document_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in re.findall(r"`(bpfc(?:\.\w+)*)`", text):
        assert name in GRAPH, f"docs/architecture.md names {name}, which does not exist"
    for path in re.findall(r"`((?:bpfc|grammar|docs)/[\w/.]+)`", text):
        assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"


def test_every_module_has_a_layer() -> None:
    missing = [m for m in sorted(GRAPH) if layer_of(m, LAYERS) is None]
    assert not missing, f"modules in no layer of docs/architecture.md: {missing}"


def test_no_import_cycles() -> None:
    """None at all: recursion between layers of a protocol (GRE carries IP, which
    carries GRE) goes through a parameter (``Out.payloads``), not an import."""
    assert cycles(GRAPH) == set(), f"import cycles: {sorted(cycles(GRAPH))}"


def test_no_import_runs_up_the_layers() -> None:
    assert upward_imports(GRAPH, LAYERS) == []


# -- the checks can fail -------------------------------------------------------------------


def test_selftest_cycle_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert cycles(graph) == {("a", "b", "c")}
    assert cycles({"a": {"b"}, "b": set()}) == set()


def test_selftest_upward_import_found() -> None:
    layers = [["bpfc.low"], ["bpfc.high"]]
    graph = {"bpfc.low.x": {"bpfc.high"}, "bpfc.high": {"bpfc.low.x"}}
    assert upward_imports(graph, layers) == ["bpfc.low.x (layer 0) imports bpfc.high (layer 1)"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import bpfc.cfg\n", {"bpfc.cfg"}),
        ("def f():\n    from bpfc import cfg\n", {"bpfc.cfg"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bpfc.cfg\n", set()),
        ("from bpfc.cfg import Cond\n", {"bpfc.cfg"}),
    ],
)
def test_selftest_imports_read(tmp_path: Path, source: str, expected: set[str]) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert imports_of("bpfc.m", path, {"bpfc.cfg", "bpfc.m"}) == expected
