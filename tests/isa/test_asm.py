"""The assembler: format detection, every reader, round trips and fuzzing."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.machine_programs import programs

from bpfc.errors import AsmError, ValidationError
from bpfc.isa.asm import assemble, detect, read
from bpfc.isa.dump import FORMATS, dump
from bpfc.isa.insn import Insn
from bpfc.isa.listing import OPCODES, Operand, image, is_conditional_jump
from bpfc.isa.listing_reader import parse_listing, parse_number
from bpfc.isa.opcodes import SKF_AD_OFF

ARP = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x806), (0x06, 0, 0, 0xFFFFFFFF), (0x06, 0, 0, 0)]


def canonical(insn: tuple[int, int, int, int]) -> Insn:
    """What a -d listing keeps of an instruction."""
    code, jt, jf, k = insn
    kind = OPCODES[code][1]
    if not is_conditional_jump(code):
        jt = jf = 0
    if kind in (Operand.NONE, Operand.X, Operand.LEN):
        k = 0
    return Insn(code, jt, jf, k)


# --- detection and the readers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("(000) ldh      [12]\n(001) ret      #0\n", "d"),
        ("ldh [12]\nret #0", "asm"),
        ("  l1: ret #0", "asm"),
        ("2\n40 0 0 12\n6 0 0 0\n", "ddd"),
        ("40 0 0 12\n6 0 0 0\n", "ddd"),
        ("{ 0x28, 0, 0, 0x0000000c },\n", "dd"),
        ("struct sock_filter f[] = {\n{ 0x6, 0, 0, 0 },\n};\n", "dd"),
        ("2,40 0 0 12,6 0 0 0", "xt_bpf"),
        ('[{"code": 6, "jt": 0, "jf": 0, "k": 0}]', "json"),
        ("[[6, 0, 0, 0]]", "json"),
    ],
)
def test_detect(text, fmt):
    assert detect(text) == fmt


def test_bpf_asm_arp_example_with_jne_and_labels():
    src = "; ARP only\n  ldh [12]\n  jne #0x806, drop\n  ret #-1\n  drop: ret #0\n"
    assert assemble(src) == ARP


def test_bpf_asm_syntax_features():
    src = """/* every operand form
               bpf_asm knows */
# column-0 comment
start:
    LDI 0b101            ; binary immediate
    ldxi #010            ; octal immediate = 8
    ld [%x + 2]
    ldb #proto
    ldh vlan_tci
    ld #len
    ldx len
    ldx 4*([14]&0xf)
    ld M[15]
    st M[0]
    add %x
    jlt #5, big
    jle x, big
    jeq #1, big
    jmp big
big: jset #0x10, l_a, l_b
l_a: ret a
l_b: ret #0x40000
"""
    prog = read(src)
    assert prog == [
        (0x00, 0, 0, 5), (0x01, 0, 0, 8), (0x40, 0, 0, 2), (0x30, 0, 0, SKF_AD_OFF),
        (0x28, 0, 0, SKF_AD_OFF + 44), (0x80, 0, 0, 0), (0x81, 0, 0, 0), (0xB1, 0, 0, 14),
        (0x60, 0, 0, 15), (0x02, 0, 0, 0), (0x0C, 0, 0, 0), (0x35, 0, 3, 5),
        (0x2D, 0, 2, 0), (0x15, 1, 0, 1), (0x05, 0, 0, 0), (0x45, 0, 1, 0x10),
        (0x16, 0, 0, 0), (0x06, 0, 0, 0x40000),
    ]  # fmt: skip


def test_d_listing_with_suffixes_and_1_10_spacing():
    text = (
        "(000) ldh      [12]                               ; 0x0028\n"
        "(001) jeq      #0x806           jt 2\tjf 3       ; 0x0015\n"
        "(002) ret      #-1      \n"
        "(003) ret      #0\n"
    )
    assert assemble(text) == ARP
    assert assemble(dump(ARP, "d", "1.10")) == ARP


def test_d_listing_without_numbers_uses_absolute_targets():
    text = "ldh [12]\njeq #0x806 jt 2 jf 3\nret #-1\nret #0\n"
    assert assemble(text) == ARP


def test_json_objects_lists_and_wrapper():
    objs = [{"code": c, "jt": jt, "jf": jf, "k": k} for c, jt, jf, k in ARP]
    assert assemble(json.dumps(objs)) == ARP
    assert assemble(json.dumps([list(i) for i in ARP])) == ARP
    assert assemble(json.dumps({"insns": objs})) == ARP


def test_bpf_asm_outputs_read_back():
    """bpf_asm's default one-liner ends in a comma; its -c lines pad with %#04x/%2u/%#010x."""
    assert assemble("4,40 0 0 12,21 0 1 2054,6 0 0 4294967295,6 0 0 0,\n") == ARP
    c_lines = (
        "{ 0x28,  0,  0, 0x0000000c },\n{ 0x15,  0,  1, 0x00000806 },\n"
        "{ 0x06,  0,  0, 0xffffffff },\n{ 0x06,  0,  0, 0000000000 },\n"
    )
    assert assemble(c_lines) == ARP


def test_c_array_with_comments():
    text = "/* arp */\nstruct sock_filter code[] = {\n" + dump(ARP, "dd") + "};\n"
    assert assemble(text) == ARP


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ldh [12]\nfrob #1\nret #0", "line 2: unknown mnemonic 'frob'"),
        ("st #1\nret #0", "line 1: 'st' cannot take operand '#1'"),
        ("ld [12\nret #0", "line 1: cannot read operand '[12'"),
        ("jeq #1\nret #0", "line 1: 'jeq' needs one or two jump targets"),
        ("jeq #1, nowhere\nret #0", "line 1: no such label 'nowhere'"),
        ("a1: ret #0\na1: ret #0", "line 2: label 'a1' defined twice"),
        ("ret #0x100000000", "line 1: immediate 0x100000000 does not fit in 32 bits"),
        ("ld #99999999999\nret #0", "line 1: immediate 99999999999 does not fit in 32 bits"),
        ("(000) ret #0\n(002) ret #0", "line 2: listing number (002) where instruction 1"),
        ("ret #0\njeq #1 jt 0 jf 2", "line 2: jump from insn 1 to insn 0 goes backwards"),
        ("(000) unimp 0x21\n", "line 1: 'unimp' lines lost"),
        ("ldx 2*([14]&0xf)\nret #0", "line 1: only 4*([k]&0xf)"),
        ("ret #0, l1", "line 1: 'ret' takes no jump targets"),
        ("/* open\nret #0", "line 1: unterminated /* comment"),
        ("3\n6 0 0 0\n", "line 1: count says 3 instructions but 1 follow"),
        ("2\n6 0 0\n", "line 2: expected 'code jt jf k' in decimal"),
        ("1\n6 0 256 0\n", "line 2: jf 256 is not an integer in 0..255"),
        ("{ 0x6, 0, 0 },", "line 1: expected '{ code, jt, jf, k },'"),
        ("2,6 0 0 0", "line 1: count says 2 instructions but 1 follow"),
        ("1,6 0 0 x", "line 1: field 1: expected 'code jt jf k'"),
        ('[{"code": 6}]', "JSON instruction 0 lacks jt, jf, k"),
        ("[[6, 0, 0, -1]]", "JSON instruction 0: k -1 is not an integer"),
        ("[1, 2", "bad JSON"),
        ("  ; only a comment\n", "no instructions found"),
    ],
)
def test_malformed_input_names_the_line(text, message):
    with pytest.raises(AsmError, match=re.escape(message)):
        assemble(text)


def test_ja_may_wrap_backwards_as_libpcap_protochain_code_does():
    text = "(000) ldb [0]\n(001) jeq #0 jt 3 jf 2\n(002) ja 1\n(003) ret #0\n"
    prog = assemble(text)
    assert prog[2] == (0x05, 0, 0, 0xFFFFFFFE)
    assert prog.dump().splitlines()[2] == "(002) ja       1"
    assert assemble(prog.dump()) == prog
    assert assemble(prog.dump("asm")) == prog
    assert "l1:" in prog.dump("asm") and "ja l1" in prog.dump("asm")


def test_upstream_listings_read_back_and_print_identically(upstream):
    """Every expected -d listing in libpcap's test suite (4,400+) survives assemble + dump."""
    count = 0
    with open(upstream / "libpcap-filtertests.jsonl") as handle:
        for record in map(json.loads, handle):
            if record["kind"] != "accept" or record.get("special"):
                continue
            for key in ("expected_unopt", "expected_opt"):
                if record.get(key):
                    text = "\n".join(record[key]) + "\n"
                    assert assemble(text).dump("d") == text, (record["id"], key)
                    count += 1
    assert count > 4000


def test_jump_farther_than_255_is_an_asm_error():
    text = "jeq #1, far, far\n" + "ld #0\n" * 300 + "far: ret #0\n"
    with pytest.raises(AsmError, match=r"line 1: true branch jumps 300 insns, more than 255"):
        assemble(text)


@pytest.mark.parametrize(
    "text",
    [
        "jeq #1" + " " * 50_000 + "x\nret #0",  # once quadratic: the jt/jf split
        "jeq #1," + " " * 50_000 + ",\nret #0",
        "/* " * 50_000,  # once quadratic: unterminated block comments
        "{ /* " * 50_000,
        "ld " + "[" * 50_000,
        "4*(" + "[" * 50_000 + "]&0xf)",
        "a" * 50_000 + "b" * 50_000,
    ],
)
def test_pathological_lines_fail_fast(text):
    start = time.perf_counter()
    with pytest.raises(AsmError):
        assemble(text)
    assert time.perf_counter() - start < 5  # linear: milliseconds; quadratic: minutes


def test_well_formed_but_invalid_program_is_a_validation_error():
    with pytest.raises(ValidationError) as info:
        assemble("ld M[16]\nret #0")
    assert info.value.index == 0
    with pytest.raises(ValidationError):
        assemble("ld #1")  # no final ret


# --- round trips ---------------------------------------------------------------------------


def test_every_16_bit_code_decodes_and_named_ones_round_trip():
    """All 65,536 codes: each prints; every named one reads back from its own -d line."""
    named = 0
    for code in range(0x10000):
        insn = (code, 1, 2, 0x12345)
        line = image(insn, 0)
        if code in OPCODES:
            named += 1
            assert parse_listing(line) == [canonical(insn)], line
        else:
            assert line.startswith(f"(000) unimp    0x{code:x}")
    assert named == 49


def test_every_16_bit_code_round_trips_through_numeric_formats():
    insns = [Insn(code, code & 0xFF, code >> 8, code * 65537) for code in range(0x10000)]
    for fmt in ("dd", "ddd", "xt_bpf", "json"):
        assert read(dump(insns, fmt), fmt) == insns


@given(programs(canonical=True, backward_ja=True))
def test_text_formats_round_trip_canonical_programs(prog):
    for fmt in FORMATS:
        assert assemble(dump(prog, fmt)) == prog, fmt
    if all(insn.code != 0x81 for insn in prog):  # 1.10 prints ldx #pktlen as unimp
        assert assemble(dump(prog, "d", "1.10")) == prog


@given(programs(canonical=False))
def test_numeric_formats_round_trip_any_valid_program(prog):
    for fmt in ("dd", "ddd", "xt_bpf", "json", "c"):
        assert assemble(dump(prog, fmt)) == prog, fmt


@given(st.integers(-(1 << 31), (1 << 32) - 1), st.sampled_from(["{:d}", "{:#x}", "{:#o}", "{:#b}"]))
def test_numbers_in_every_base(value, pattern):
    text = pattern.format(value).replace("0o", "0")
    if value < 0 and pattern != "{:d}":
        text = "-" + pattern.format(-value).replace("0o", "0")
    assert parse_number(text, 1) == value & 0xFFFFFFFF


# --- fuzzing -----------------------------------------------------------------------------

FRAGMENTS = [
    "ld", "ldh", "ldb", "ldx", "ldxb", "jeq", "jne", "ja", "ret", "st", "M[", "]", "[", "x",
    "#", "0x", "1", "-7", "4294967296", "4*(", "&0xf)", ",", " ", "\n", ":", "l1", "jt",
    "jf", "(000)", ";", "/*", "*/", "{", "}", "[[", "\"code\"", "%", "+", "#len", "proto",
    "\u00b2", "\u0663", "\x00",
]  # fmt: skip


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join) | st.text(max_size=80))
def test_fuzz_assemble_raises_only_our_errors(text):
    try:
        assemble(text)
    except (AsmError, ValidationError):
        pass


@given(programs(canonical=False), st.sampled_from(sorted(FORMATS)), st.data())
def test_fuzz_mutated_dumps(prog, fmt, data):
    text = dump(prog, fmt)
    pos = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(max_size=3))
    try:
        assemble(text[:pos] + junk + text[pos + data.draw(st.integers(0, 3)) :])
    except (AsmError, ValidationError):
        pass
