"""``compile()`` leaves process-wide interpreter settings as it found them."""

from __future__ import annotations

import gc
import sys
import threading

import bpfc
from bpfc import compiler


def test_settings_restored_after_compile_and_error() -> None:
    limit, collecting = sys.getrecursionlimit(), gc.isenabled()
    bpfc.compile("tcp port 80 or udp")
    try:
        bpfc.compile("tcp port")
    except bpfc.CompileError:
        pass
    assert (sys.getrecursionlimit(), gc.isenabled()) == (limit, collecting)


def test_settings_inside_the_scope() -> None:
    with compiler.compiling():
        assert sys.getrecursionlimit() >= compiler.RECURSION_LIMIT
        assert not gc.isenabled()


def test_concurrent_compiles_restore_once() -> None:
    limit, collecting = sys.getrecursionlimit(), gc.isenabled()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                bpfc.compile("ip and (tcp port 80 or udp port 53)")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert (sys.getrecursionlimit(), gc.isenabled()) == (limit, collecting)


def test_deep_nesting_still_compiles() -> None:
    depth = 3000
    program = bpfc.compile("(" * depth + "ip" + ")" * depth, optimize=False)
    assert len(program) > 2


def test_collector_pause_nests_with_compiling() -> None:
    from bpfc import scope

    collecting = gc.isenabled()
    with scope.paused_collector():
        with scope.compiling():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() == collecting


def test_parse_restores_the_collector() -> None:
    from bpfc.syntax.parse import parse

    collecting = gc.isenabled()
    parse("tcp port 80")
    assert gc.isenabled() == collecting
