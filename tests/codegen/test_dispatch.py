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
