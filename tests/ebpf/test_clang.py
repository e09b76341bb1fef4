"""The C source, compiled by ``clang -target bpf`` and run in the kernel, behaves the same.

Every Ethernet case of the golden corpus: each program's inline C function
(:meth:`EbpfProgram.c_source`, as one embeds it in one's own program) goes into one C
file with a small XDP wrapper and a small TC wrapper per function, each in a section of
its own (``xdp/N``, ``tc/N``); one clang run compiles them all, and each section is
read from the object (the test's own ELF reader), loaded by the kernel's verifier and
test-run on the case's packets: the verdicts must be the interpreter's.  The generated
``program=True`` wrapper is loaded the same way for a few filters.

Skips where clang or the ``bpf()`` system call is missing (``.ci/run`` installs clang).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import bpfc
from bpfc.corpus.schema import default_root, load
from bpfc.ebpf import kernel
from bpfc.ebpf.translate import translate
from ebpf.test_elf import read_elf

REASON = kernel.unavailable()
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
    pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed"),
]

WRAPPERS = """
SEC("xdp/{n}")
int xdp_{n}(struct xdp_md *ctx)
{{
	return f{n}((void *)(long)ctx->data, (void *)(long)ctx->data_end) ? XDP_PASS : XDP_DROP;
}}

SEC("tc/{n}")
int tc_{n}(struct __sk_buff *skb)
{{
	return f{n}((void *)(long)skb->data, (void *)(long)skb->data_end) ? TC_ACT_OK : TC_ACT_SHOT;
}}
"""

HEADER = """#define SEC(name) __attribute__((section(name), used))
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
"""


def clang_object(source: str, tmp_path: Path) -> bytes:
    """``clang -O2 -target bpf -c`` of ``source``; the object's bytes.

    Each function is called from two wrappers (XDP and TC): were it not inlined (as
    ``linux/stddef.h``'s plain ``__inline__`` would allow), it would be a BPF-to-BPF call
    with a relocation that this test's plain loader does not apply, and loading fails."""
    src, obj = tmp_path / "all.c", tmp_path / "all.o"
    src.write_text(source)
    include = f"-I/usr/include/{os.uname().machine}-linux-gnu"  # asm/types.h
    done = subprocess.run(
        ["clang", "-O2", "-target", "bpf", include, "-c", str(src), "-o", str(obj)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return obj.read_bytes()


def _cases() -> list[tuple[str, bpfc.Program, list[bytes]]]:
    root = default_root()
    if not (root / "expected").is_dir():
        pytest.skip(f"no golden corpus at {root}")
    corpus = load(root)
    out, seen = [], set()
    for case in corpus.cases:
        if case.linktype != "EN10MB":
            continue
        try:
            program = bpfc.compile(case.expr, case.linktype, case.snaplen, True, case.netmask)
        except bpfc.CompileError:  # bpfc's known refusals (corpus/known_failures.txt)
            continue
        if tuple(program) in seen:
            continue
        seen.add(tuple(program))
        frames = [data for data, _ in corpus.packets(case.packets)]
        out.append((case.expr, program, frames))
    return out


def _verdicts(target: str, program: bpfc.Program, frames: list[bytes]) -> list[int | None]:
    accept, reject = (2, 1) if target == "xdp" else (0, 2)
    run = program._filter(False)
    return [accept if run(data, len(data)) else reject for data in frames]


def test_corpus_c_functions_in_the_kernel(tmp_path: Path) -> None:
    cases = _cases()
    parts = [HEADER]
    for n, (_, program, _) in enumerate(cases):
        parts.append(translate(program, "xdp").c_source(f"f{n}"))
        parts.append(WRAPPERS.format(n=n))
    parts.append('char _license[] SEC("license") = "GPL";\n')
    sections, _ = read_elf(clang_object("\n".join(parts), tmp_path))
    runs = 0
    for target in ("xdp", "tc"):
        for n, (expr, program, frames) in enumerate(cases):
            code = sections[f"{target}/{n}"][2]
            assert f".rel{target}/{n}" not in sections  # no relocation to apply
            fd = kernel.load_program(code, target)
            try:
                got = kernel.test_run_many(fd, frames)
            finally:
                kernel.close(fd)
            want = _verdicts(target, program, frames)
            taken = [(g, w) for g, w in zip(got, want, strict=True) if g is not None]
            assert [g for g, _ in taken] == [w for _, w in taken], (target, expr)
            runs += len(taken)
    assert len(cases) > 250 and runs > 100_000


@pytest.mark.parametrize("target", ["xdp", "tc"])
def test_generated_wrapper_loads_and_runs(target: str, tmp_path: Path) -> None:
    from support.vm_strategies import FRAMES

    for expr in ("tcp port 80", "udp or arp", "ip[2:2] / 4 > 10 and len < 1000"):
        program = bpfc.compile(expr)
        source = translate(program, target).c_source("g", program=True)
        sections, _ = read_elf(clang_object(source, tmp_path))
        fd = kernel.load_program(sections[target][2], target)
        try:
            frames = [f for f in FRAMES.values() if len(f) >= kernel.MIN_PACKET]
            got = kernel.test_run_many(fd, frames)
        finally:
            kernel.close(fd)
        want = _verdicts(target, program, frames)
        assert [w for g, w in zip(got, want, strict=True) if g is not None] == [
            g for g in got if g is not None
        ], expr
