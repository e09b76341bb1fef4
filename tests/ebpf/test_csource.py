"""bpfc.ebpf.csource: the C function compiles with clang -target bpf (skipped without
clang) and the object clang makes gives the interpreter's verdicts (run on the strict
eBPF interpreter in tests/support: a load the guards do not cover faults there)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from support.ebpf_vm import run
from support.vm_strategies import FRAMES

import bpfc
from bpfc.ebpf.errors import TranslationError
from bpfc.ebpf.insn import decode
from bpfc.ebpf.translate import translate
from ebpf.test_elf import read_elf

EXPRESSIONS = [
    "tcp port 80",
    "udp port 53 or icmp",
    "tcp[tcpflags] & tcp-syn != 0 or ip6 and udp",
    "vlan 100 and udp",
    "ip[2:2] / 4 > 10 and len < 1000",
    "ether[0] & 1 != 0 or ip[0] & 0xf > 5",
]


def clang_object(source: str, tmp_path: os.PathLike) -> bytes:
    src = os.path.join(tmp_path, "f.c")
    obj = os.path.join(tmp_path, "f.o")
    with open(src, "w") as handle:
        handle.write(source)
    include = f"-I/usr/include/{os.uname().machine}-linux-gnu"
    done = subprocess.run(
        ["clang", "-O2", "-Wall", "-Werror", "-target", "bpf", include, "-c", src, "-o", obj],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with open(obj, "rb") as handle:
        return handle.read()


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
@pytest.mark.parametrize("target", ["xdp", "tc"])
def test_clang_compiles_it_and_it_means_the_same(target: str, tmp_path: os.PathLike) -> None:
    for expr in EXPRESSIONS:
        prog = bpfc.compile(expr)
        source = translate(prog, target).c_source(program=True)
        sections, symbols = read_elf(clang_object(source, tmp_path))
        assert "bpfc_filter_prog" in {s[0] for s in symbols}
        code = decode(sections[target][2])
        accept, reject = (2, 1) if target == "xdp" else (0, 2)
        for name, packet in FRAMES.items():
            want = accept if prog.run(packet) else reject
            assert run(code, target, packet) == want, (expr, name)


def test_the_function_and_its_comments() -> None:
    prog = translate(bpfc.compile("ip"), "xdp")
    text = prog.c_source("is_ip")
    assert "static __always_inline __u32 is_ip(void *data, void *data_end)" in text
    assert "/* ldh [12] */" in text and "if ((char *)data + 14 > (char *)data_end)" in text
    assert "SEC(" not in text  # only with program=True
    whole = prog.c_source("is_ip", program=True)
    assert 'SEC("xdp")' in whole and "return is_ip(data, data_end) ? 2 : 1;" in whole


def test_refusals() -> None:
    with pytest.raises(TranslationError, match="XDP and TC"):
        translate(bpfc.compile("ip"), "socket").c_source()
    with pytest.raises(TranslationError, match="ancillary"):
        translate(bpfc.compile("vlan 5", linux=True), "tc").c_source()
    with pytest.raises(ValueError, match="C identifier"):
        translate(bpfc.compile("ip"), "tc").c_source("not-an-identifier")


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
def test_no_warnings_for_write_only_registers(tmp_path: os.PathLike) -> None:
    # ldh [12]; st M[3]; ret #1: A and M[3] are written and never read
    source = translate([(0x28, 0, 0, 12), (0x02, 0, 0, 3), (0x06, 0, 0, 1)], "tc").c_source(
        program=True
    )
    clang_object(source, tmp_path)


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
def test_a_loop_is_bounded_in_c_too(tmp_path: os.PathLike) -> None:
    from ebpf.test_translate import hop_by_hop_chain

    prog = bpfc.compile("ip6 protochain 6")
    ebpf = prog.to_ebpf("xdp", loop_bound=5)
    source = ebpf.c_source(program=True)
    assert "if (++turns > 5) return 0;" in source
    code = decode(read_elf(clang_object(source, tmp_path))[0]["xdp"][2])
    for count in (0, 1, 4, 5, 6, 8):
        packet = hop_by_hop_chain(count)
        want = 2 if count <= 5 else 1  # the interpreter accepts all; the bound cuts at 5
        assert prog.run(packet) and run(code, "xdp", packet) == want == run(
            ebpf.insns, "xdp", packet
        )
