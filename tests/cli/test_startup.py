"""``bpfc -d EXPR`` imports only what compiling needs (start-up time is a feature).

Measured by ``bench/bench_startup.py``; here the regressions that cost the most are kept
out: hashing the grammar on every run (``hashlib``; the freshness of the generated parse
tables is ``tests/syntax/test_grammar.py``'s business), Lark, ``shutil`` (argparse asks it for
the terminal width on every ``add_argument``), and compiling the lexer's address
patterns for a filter without addresses.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import io, json, contextlib, sys
from bpfc.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(sys.argv[1:])
from bpfc.syntax import lexer
lazy = [name for name, value in vars(lexer).items()
        if isinstance(value, lexer._LazyPattern) and value._compiled is not None]
print(json.dumps({"status": status, "modules": sorted(sys.modules), "compiled": lazy}))
"""


def probe(*argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_compiling_a_plain_filter_imports_no_extras() -> None:
    seen = probe("-d", "tcp port 80")
    assert seen["status"] == 0
    modules = set(seen["modules"])
    for name in ("hashlib", "lark", "shutil", "bpfc.syntax.larkbridge", "ctypes", "numpy"):
        assert name not in modules, name
    assert seen["compiled"] == []


def test_address_patterns_compile_when_needed() -> None:
    seen = probe("-d", "ether host 00:11:22:33:44:55 or host 10.0.0.1")
    assert seen["status"] == 0
    assert "_MAC_RE" in seen["compiled"] and "_HID_RE" in seen["compiled"]
