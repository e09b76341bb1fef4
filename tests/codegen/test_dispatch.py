"""The code-generation table does not depend on import order.

``bpfc.codegen.dispatch.GENERATORS`` maps each AST node type to one function that
chooses by the link-type row.  These tests import the codegen modules in random
orders, each in a fresh interpreter, and check that the same expressions compile to
the same listings (and the same errors) on link types of every family; and that no
family module reaches back into the dispatcher to register or wrap handlers.
"""

from __future__ import annotations

import ast as pyast
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

CODEGEN = Path(__file__).resolve().parents[2] / "bpfc" / "codegen"
MODULES = sorted(f"bpfc.codegen.{p.stem}" for p in CODEGEN.glob("*.py") if p.stem != "__init__")

#: one expression or more per AST node type (and the check_reduced path)
EXPRS = [
    "ip and not tcp or udp", "host 10.0.0.1", "$0e", "link host $0e", "ip6", "broadcast",
    "multicast", "ip broadcast", "llc", "llc i", "inbound", "outbound", "ifindex 3",
    "less 100", "greater 100", "byte 2 & 3", "ip[2:2] > 20", "vlan 10 and ip", "mpls 5",
    "pppoes 3 and ip", "pppoed", "geneve and ip", "vxlan 5", "pf ifname em0", "pf rnr 3",
    "pf action pass", "type mgt", "type data subtype qos-data", "subtype beacon",
    "dir tods", "fisu", "sio 3", "vpi 3", "oamf4", "lane and ip", "iso proto 5", "stp",
    "pf ifname em0 and (", "inbound and $0e and (",
]  # fmt: skip

#: a row of each family: Ethernet, 802.11 (+radio), ARCnet, BACnet MS/TP, DSA, Juniper,
#: Frame Relay, SunATM, ATM LLC, SS7, pflog, Linux cooked, raw IP, null
LINKTYPES = [
    "EN10MB", "IEEE802_11", "IEEE802_11_RADIO", "ARCNET", "BACNET_MS_TP", "DSA_TAG_BRCM",
    "JUNIPER_ETHER", "FRELAY", "SUNATM", "ATM_RFC1483", "MTP2", "PFLOG", "LINUX_SLL",
    "RAW", "NULL",
]  # fmt: skip

SCRIPT = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
import bpfc
out = {}
for lt in json.loads(sys.argv[2]):
    for expr in json.loads(sys.argv[3]):
        for linux in (False, True):
            try:
                text = bpfc.compile(expr, lt, optimize=False, linux=linux).dump()
            except Exception as err:
                text = f"{type(err).__name__}: {err}"
            out[f"{lt}|{expr}|{linux}"] = text
print(json.dumps(out, sort_keys=True))
"""


def _programs(order: list[str]) -> dict[str, str]:
    args = [json.dumps(order), json.dumps(LINKTYPES), json.dumps(EXPRS)]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_link_types_exist() -> None:
    from bpfc import linktypes

    for name in LINKTYPES:
        assert linktypes.lookup(name).name == name


def test_import_order_does_not_change_programs() -> None:
    baseline = _programs(MODULES)
    assert sum("Error" not in text[:30] for text in baseline.values()) > len(baseline) // 4
    rng = random.Random(12)
    for _ in range(3):
        order = MODULES[:]
        rng.shuffle(order)
        programs = _programs(order)
        differ = [key for key in baseline if programs[key] != baseline[key]]
        assert not differ, f"import order {order} changed {differ[:5]}"


def test_every_generator_module_is_imported_by_the_table() -> None:
    """Family modules never import the dispatcher (no registration, no cycle)."""
    for path in CODEGEN.glob("*.py"):
        if path.stem == "dispatch":
            continue
        for node in pyast.walk(pyast.parse(path.read_text())):
            if isinstance(node, pyast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                assert "bpfc.codegen.dispatch" not in names, path.name
            elif isinstance(node, pyast.Import):
                assert all(a.name != "bpfc.codegen.dispatch" for a in node.names), path.name


@pytest.mark.parametrize("node_type", ["Vlan", "Llc", "Primitive", "WlanType", "PfRnr"])
def test_table_has_one_function_per_node(node_type: str) -> None:
    from bpfc import ast
    from bpfc.codegen import dispatch

    fn = dispatch.GENERATORS[getattr(ast, node_type)]
    assert fn.__closure__ is None  # a plain function, not a wrapper around another


#: in a fresh interpreter: load a module's bpfc dependencies, fingerprint every table
#: (dict, list, set) of every loaded bpfc module, import the module, fingerprint again
TABLES_SCRIPT = """
import importlib, json, sys
def fingerprint():
    out = {}
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith("bpfc") or mod is None:
            continue
        for name, value in vars(mod).items():
            if isinstance(value, dict):
                items = sorted((repr(k), id(v)) for k, v in value.items())
                out[f"{modname}.{name}"] = repr(items)
            elif isinstance(value, (list, set)):
                out[f"{modname}.{name}"] = repr(sorted(map(id, value)))
    return out
target, deps = sys.argv[1], json.loads(sys.argv[2])
for dep in deps:
    importlib.import_module(dep)
before = fingerprint()
importlib.import_module(target)
after = fingerprint()
print(json.dumps(sorted(k for k in before if after.get(k) != before[k])))
"""


def _is_module(package: str | None, name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(f"{package}.{name}") is not None
    except ModuleNotFoundError:  # ``package`` is a module, ``name`` a name in it
        return False


def _bpfc_imports(module: str) -> list[str]:
    """The bpfc modules ``module`` imports (``from bpfc.x import y``: x, and x.y if a module)."""
    import importlib.util

    path = Path(importlib.util.find_spec(module).origin)  # type: ignore[union-attr, arg-type]
    found: list[str] = []
    for node in pyast.walk(pyast.parse(path.read_text())):
        if isinstance(node, pyast.ImportFrom) and (node.module or "").startswith("bpfc"):
            found.append(node.module)  # type: ignore[arg-type]
            found += [
                f"{node.module}.{a.name}" for a in node.names if _is_module(node.module, a.name)
            ]
        elif isinstance(node, pyast.Import):
            found += [a.name for a in node.names if a.name.startswith("bpfc")]
    return found


@pytest.mark.parametrize("module", MODULES)
def test_importing_a_module_changes_no_other_modules_table(module: str) -> None:
    """No registration at import time: with its dependencies loaded first, importing a
    codegen module leaves every table of every already-loaded bpfc module as it was."""
    deps = _bpfc_imports(module)
    done = subprocess.run(
        [sys.executable, "-c", TABLES_SCRIPT, module, json.dumps(deps)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == [], f"importing {module} changed these tables"


def test_tables_reach_every_framing() -> None:
    """Every framing a link-type row names has a generator in the explicit table the
    compiler hands to the state (none left to an import side effect)."""
    from bpfc import linktypes
    from bpfc.codegen import dispatch

    framings = {row.framing for row in linktypes.filterable()}
    assert framings <= set(dispatch.FRAMINGS), framings - set(dispatch.FRAMINGS)
