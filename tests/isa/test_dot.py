"""Graphviz views of programs (``bpfc cfg``) and the ``--verify`` pass-through."""

from __future__ import annotations

import re

import pytest

import bpfc
from bpfc.cli import main
from bpfc.isa.dot import compare_dot, program_dot


def _nodes_and_edges(dot: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    nodes = set(re.findall(r"^\s*(\w+) \[label=", dot, re.M))
    edges = set(re.findall(r"^\s*(\w+) -> (\w+) \[color=(\w+)", dot, re.M))
    return nodes, edges


def test_blocks_and_edges_of_a_small_program() -> None:
    prog = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), (0x06, 0, 0, 1), (0x06, 0, 0, 0)]
    nodes, edges = _nodes_and_edges(program_dot(prog))
    assert nodes == {"p0", "p2", "p3"}
    assert edges == {("p0", "p2", "green"), ("p0", "p3", "red")}


def test_every_instruction_appears_once_and_every_edge_lands_on_a_block() -> None:
    prog = list(bpfc.compile("tcp port 80 or udp portrange 1-20", optimize=False))
    dot = program_dot(prog)
    for pc in range(len(prog)):
        assert dot.count(f"({pc:03d}) ") == 1
    nodes, edges = _nodes_and_edges(dot)
    assert all(src in nodes and dst in nodes for src, dst, _ in edges)


def test_protochain_backward_ja_is_drawn() -> None:
    prog = list(bpfc.compile("ip6 protochain 17", optimize=False))
    nodes, edges = _nodes_and_edges(program_dot(prog))
    back = [(s, d) for s, d, _ in edges if int(d[1:]) < int(s[1:])]
    assert back and all(d in nodes for _, d in back)


def test_compare_puts_both_programs_side_by_side() -> None:
    before = list(bpfc.compile("host 10.0.0.1 or host 10.0.0.2", optimize=False))
    after = list(bpfc.compile("host 10.0.0.1 or host 10.0.0.2"))
    dot = compare_dot(before, after)
    assert f"unoptimized: {len(before)} instructions" in dot
    assert f"optimized: {len(after)} instructions" in dot
    nodes, _ = _nodes_and_edges(dot)
    assert any(n.startswith("u") for n in nodes) and any(n.startswith("o") for n in nodes)


def test_cfg_command_views(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cfg", "tcp", "port", "80"]) == 0
    both = capsys.readouterr().out
    assert "cluster_u" in both and "cluster_o" in both
    assert main(["cfg", "--after", "ip"]) == 0
    after = capsys.readouterr().out
    assert "cluster" not in after and after.count("(000) ldh      [12]") == 1
    assert main(["cfg", "--graph", "ip"]) == 0
    assert capsys.readouterr().out.startswith("digraph cfg")
    assert main(["cfg", "host"]) == 1
    assert "syntax error" in capsys.readouterr().err


def test_verify_reaches_the_optimizer(monkeypatch: pytest.MonkeyPatch) -> None:
    import bpfc.opt

    seen: list[bool] = []
    real = bpfc.opt.optimize_graph

    def spy(graph, unoptimized, size, **kw):  # type: ignore[no-untyped-def]
        seen.append(kw.get("verify", False))
        return real(graph, unoptimized, size, **kw)

    monkeypatch.setattr(bpfc.opt, "optimize_graph", spy)
    plain = bpfc.compile("tcp port 80")
    checked = bpfc.compile("tcp port 80", verify=True)
    # compile() has one optimizer route: both go through optimize_graph, only one verifies
    assert seen == [False, True] and plain == checked
    assert main(["--verify", "-ddd", "udp"]) == 0
    assert seen[-1] is True
