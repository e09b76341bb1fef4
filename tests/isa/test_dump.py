"""Dumps: tcpdump-exact -d/-dd/-ddd (libpcap master and 1.10), and the other formats."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc import libpcap
from bpfc.errors import AsmError
from bpfc.isa.dump import FORMATS, dump
from bpfc.isa.listing import OPCODES, Operand, image, is_conditional_jump
from bpfc.isa.opcodes import ANCILLARY_LIBPCAP as ANCILLARY
from bpfc.isa.opcodes import LDX_LEN, SKF_AD_OFF

needs_libpcap = pytest.mark.skipif(not libpcap.available(), reason="system libpcap not found")
needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not found")

TCP80 = [
    (0x28, 0, 0, 12), (0x15, 0, 6, 0x86DD), (0x30, 0, 0, 20), (0x15, 0, 15, 6),
    (0x28, 0, 0, 54), (0x15, 12, 0, 80), (0x28, 0, 0, 56), (0x15, 10, 11, 80),
    (0x15, 0, 10, 0x800), (0x30, 0, 0, 23), (0x15, 0, 8, 6), (0x28, 0, 0, 20),
    (0x45, 6, 0, 0x1FFF), (0xB1, 0, 0, 14), (0x48, 0, 0, 14), (0x15, 2, 0, 80),
    (0x48, 0, 0, 16), (0x15, 0, 1, 80), (0x06, 0, 0, 262144), (0x06, 0, 0, 0),
]  # fmt: skip
"""What libpcap makes of ``tcp port 80`` on EN10MB (tcpdump -ddd)."""


def test_opcode_table_has_the_49_names_libpcap_master_prints():
    assert len(OPCODES) == 49
    assert OPCODES[LDX_LEN] == ("ldx", OPCODES[0x80][1])


def test_enumerate_bpf_image_upstream_case(upstream):
    """libpcap's TESTrun case: every named opcode, k=15, jt=1, jf=0, '%-50s; 0x%04x'."""
    with open(upstream / "libpcap-filtertests.jsonl") as handle:
        case = next(
            rec for rec in map(json.loads, handle) if rec.get("special") == "enumerate_bpf_image"
        )
    expected = case["expected_unopt"]
    codes = [int(line.rsplit("; ", 1)[1], 16) for line in expected]
    assert sorted(codes) == sorted(OPCODES)
    ours = [f"{image((c, 1, 0, 15), n):<50s}; 0x{c:04x}" for n, c in enumerate(codes)]
    assert ours == expected


def test_master_strips_trailing_spaces_and_names_ldx_len():
    assert image((0x16, 0, 0, 0), 3) == "(003) ret"
    assert image((0x16, 0, 0, 0), 3, "1.10") == "(003) ret      "
    assert image((0x07, 0, 0, 0), 0, "1.10") == "(000) tax      "
    assert image((0x81, 0, 0, 0), 0) == "(000) ldx      #pktlen"
    assert image((0x81, 0, 0, 0), 0, "1.10") == "(000) unimp    0x81"


@pytest.mark.parametrize(
    ("insn", "text"),
    [
        ((0x06, 0, 0, 0xFFFFFFFF), "(007) ret      #-1"),
        ((0x20, 0, 0, SKF_AD_OFF), "(007) ld       [proto]"),
        ((0x30, 0, 0, SKF_AD_OFF + 48), "(007) ldb      [vlanp]"),
        ((0x20, 0, 0, SKF_AD_OFF + 1), "(007) ld       [-4095]"),
        ((0x40, 0, 0, SKF_AD_OFF), "(007) ld       [x + -4096]"),
        ((0x05, 0, 0, 3), "(007) ja       11"),
        ((0xB1, 0, 0, 14), "(007) ldxb     4*([14]&0xf)"),
        ((0x45, 1, 2, 0x1FFF), "(007) jset     #0x1fff          jt 9\tjf 10"),
        ((0x1D, 0, 0, 0), "(007) jeq      x                jt 8\tjf 8"),
        ((0x106, 0, 0, 0), "(007) unimp    0x106"),
        ((0x24, 0, 0, 0x80000000), "(007) mul      #-2147483648"),
    ],
)
def test_image_lines(insn, text):
    assert image(insn, 7) == text


@needs_libpcap
@given(
    code=st.sampled_from(sorted(OPCODES)) | st.integers(0, 0xFFFF),
    jt=st.integers(0, 255),
    jf=st.integers(0, 255),
    k=st.integers(0, 0xFFFFFFFF) | st.sampled_from([SKF_AD_OFF + 4 * i for i in range(17)]),
    n=st.integers(0, 5000),
)
def test_image_equals_libpcap_bpf_image(code, jt, jf, k, n):
    """Differential: our 1.10 line is libpcap's; master is it without trailing spaces."""
    theirs = libpcap.bpf_image((code, jt, jf, k), n)
    assert image((code, jt, jf, k), n, "1.10") == theirs
    if code != LDX_LEN:
        assert image((code, jt, jf, k), n) == theirs.rstrip(" ")


def test_ancillary_names_match_libpcap():
    if not libpcap.available():
        pytest.skip("system libpcap not found")
    for off, name in ANCILLARY.items():
        assert libpcap.bpf_image((0x20, 0, 0, SKF_AD_OFF + off), 0).endswith(f"[{name}]")


EXPRESSIONS = [
    "tcp port 80",
    "host 10.0.0.1 and not port 22",
    "vlan 100 and udp port 53",
    "ip[2:2] > 100 and len < 300 or icmp",
    "ether proto 0x88cc or arp or (ip6 and tcp[tcpflags] & tcp-syn != 0)",
]


@needs_tcpdump
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_flavor_1_10_is_byte_identical_to_local_tcpdump(expr):
    def tcpdump(flag: str) -> str:
        cmd = ["tcpdump", "-y", "EN10MB", flag, expr]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    ddd = tcpdump("-ddd")
    insns = [tuple(map(int, line.split())) for line in ddd.splitlines()[1:]]
    assert dump(insns, "ddd", "1.10") == ddd
    assert dump(insns, "dd", "1.10") == tcpdump("-dd")
    assert dump(insns, "d", "1.10") == tcpdump("-d")
    from bpfc.isa.asm import assemble

    assert dump(assemble(ddd), "d", "1.10") == tcpdump("-d")


def test_dd_ddd_xt_bpf_json_c_text():
    prog = TCP80[:2] + [(0x06, 0, 0, 0xFFFFFFFF)]
    assert dump(prog, "dd") == (
        "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 6, 0x000086dd },\n{ 0x6, 0, 0, 0xffffffff },\n"
    )
    assert dump(prog, "ddd") == "3\n40 0 0 12\n21 0 6 34525\n6 0 0 4294967295\n"
    assert dump(prog, "xt_bpf") == "3,40 0 0 12,21 0 6 34525,6 0 0 4294967295\n"
    assert json.loads(dump(prog, "json"))[1] == {"code": 21, "jt": 0, "jf": 6, "k": 34525}
    c_text = dump(prog, "c")
    assert c_text.startswith("struct sock_filter code[] = {\n\t{ 0x28, 0, 0, 0x0000000c },\n")
    assert c_text.endswith("};\n")


def test_asm_format_uses_labels_and_bpf_asm_keywords():
    text = dump(TCP80, "asm")
    lines = text.splitlines()
    assert lines[0].split() == ["ldh", "[12]"]
    assert lines[1].split() == ["jeq", "#0x86dd,", "l2,", "l8"]
    assert lines[13].split() == ["l13:", "ldxb", "4*([14]&0xf)"]
    assert lines[18].split() == ["l18:", "ret", "#262144"]
    special = [(0x20, 0, 0, SKF_AD_OFF + 48), (0x80, 0, 0, 0), (0x81, 0, 0, 0), (0x16, 0, 0, 0)]
    assert [line.strip() for line in dump(special, "asm").splitlines()] == [
        "ld #vlan_avail",
        "ld #len",
        "ldx #len",
        "ret a",
    ]


def _bpf_asm() -> str | None:
    return os.environ.get("BPFC_BPF_ASM") or shutil.which("bpf_asm")


@pytest.mark.skipif(_bpf_asm() is None, reason="no bpf_asm (set BPFC_BPF_ASM=path)")
def test_asm_format_is_what_the_kernel_bpf_asm_assembles(tmp_path):
    """Every named opcode plus a few ancillary loads, through Linux tools/bpf/bpf_asm."""
    from bpfc.isa.asm import assemble

    prog = [(0x20, 0, 0, SKF_AD_OFF + off) for off in (0, 4, 8, 44, 52)]
    for code, (_, kind) in OPCODES.items():  # ja #15 and jt 1 land among the final rets
        k = 0 if kind in (Operand.NONE, Operand.X, Operand.LEN) else 15
        prog.append((code, 1 if is_conditional_jump(code) else 0, 0, k))
    prog += [(0x06, 0, 0, 0)] * 16
    source = tmp_path / "prog.s"
    source.write_text(dump(prog, "asm"))
    result = subprocess.run([_bpf_asm(), str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert assemble(result.stdout, fmt="xt_bpf") == prog


def test_asm_format_refuses_opcodes_it_cannot_spell():
    with pytest.raises(AsmError, match=r"insn 1: opcode 0x21 has no bpf_asm syntax"):
        dump([(0x00, 0, 0, 0), (0x21, 0, 0, 0), (0x06, 0, 0, 0)], "asm")


def test_unknown_format_and_flavor_are_clear_errors():
    with pytest.raises(ValueError, match="unknown dump format 'x'"):
        dump(TCP80, "x")
    with pytest.raises(ValueError, match="unknown libpcap flavor"):
        dump(TCP80, "d", "1.9")


def test_every_format_ends_with_a_newline():
    for fmt in FORMATS:
        assert dump(TCP80, fmt).endswith("\n")
