"""SS7 (MTP2/MTP3): listings as libpcap master's, its refusals, the savefile results, verdicts
as a model of the signal unit says, and as the system libpcap's where 1.10.3 agrees."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("bpfc.syntax.parse")

from support.differential import require_libpcap  # noqa: E402
from support.linkfield_helpers import SNAPLEN, corpus_cases, disagreements, listing, verdict  # noqa: E402
from support.strategies import compositions  # noqa: E402
from support.upstream_cases import cases, evaluate_apply  # noqa: E402

from bpfc.errors import CompileError  # noqa: E402
from bpfc.packetgen.mtp import hsl_unit, mtp2_frames, routing_label, signal_unit  # noqa: E402

SS7_WORDS = ("fisu", "lssu", "lsu", "msu", "hfisu", "hlssu", "hmsu", "sio", "opc", "dpc", "sls",
             "hsio", "hopc", "hdpc", "hsls")  # fmt: skip
FIELD_LIMITS = {"sio": 255, "opc": 16383, "dpc": 16383, "sls": 15}


def test_upstream_listings_are_masters(upstream) -> None:  # noqa: ANN001
    recs = corpus_cases(upstream, "accept", dlts=["MTP2"])
    assert len(recs) >= 87
    wrong = [r["id"] for r in recs if listing(r["expr"], "MTP2", upstream) != r["expected_unopt"]]
    assert not wrong


def test_upstream_rejects_have_masters_message(upstream) -> None:  # noqa: ANN001
    recs = corpus_cases(upstream, "reject", dlts=["MTP2", "MTP2_WITH_PHDR", "ERF"], words=SS7_WORDS)
    assert len(recs) > 150
    for rec in recs:
        with pytest.raises(CompileError) as info:
            listing(rec["expr"], rec["dlt"], upstream, optimize=True)
        assert rec["errstr"] in info.value.message, rec["id"]


def test_savefile_results_are_masters(upstream) -> None:  # noqa: ANN001
    recs = [
        r for r in cases(upstream, "apply") if r["savefile"].endswith("isup_load_generator.pcap")
    ]
    assert len(recs) >= 13
    assert {r["id"]: evaluate_apply(r, upstream) for r in recs} == {r["id"]: None for r in recs}


# -- refusals and offsets ------------------------------------------------------------------


@pytest.mark.parametrize("word", SS7_WORDS)
@pytest.mark.parametrize("dlt", ["EN10MB", "SUNATM", "PFLOG", "MTP3"])
def test_refused_off_ss7(word: str, dlt: str) -> None:
    base = word.removeprefix("h")
    expr = f"{word} 1" if base in FIELD_LIMITS else word
    with pytest.raises(CompileError) as info:
        listing(expr, dlt)
    assert info.value.message == f"'{'lssu' if word == 'lsu' else word}' supported only on SS7"


@pytest.mark.parametrize("field", sorted(FIELD_LIMITS) + ["h" + f for f in sorted(FIELD_LIMITS)])
def test_values_out_of_range(field: str) -> None:
    limit = FIELD_LIMITS[field.removeprefix("h")]
    assert listing(f"{field} {limit}", "MTP2")
    with pytest.raises(CompileError, match=f"^{field} {limit + 1} greater than maximum {limit}$"):
        listing(f"{field} > {limit + 1}", "MTP2")
    with pytest.raises(CompileError, match="supported only on SS7"):
        listing(f"{field} {limit + 1}", "EN10MB")  # the link type is checked first


@pytest.mark.parametrize(("dlt", "shift"), [("MTP2", 0), ("MTP2_WITH_PHDR", 4), ("ERF", 20)])
def test_pseudo_headers_shift_every_field(dlt: str, shift: int) -> None:
    assert listing("fisu", dlt)[0] == f"(000) ldb      [{2 + shift}]"
    assert listing("hmsu", dlt)[0] == f"(000) ldh      [{4 + shift}]"
    assert listing("sio 3", dlt)[0] == f"(000) ldb      [{3 + shift}]"
    assert listing("hopc 3", dlt)[0] == f"(000) ld       [{7 + shift}]"
    assert listing("sls 3", dlt)[0] == f"(000) ldb      [{7 + shift}]"


@pytest.mark.parametrize("expr", ["ip", "tcp port 80", "broadcast", "llc"])
def test_no_network_layer(expr: str) -> None:
    with pytest.raises(CompileError, match="DLT_MTP2"):
        listing(expr, "MTP2")


# -- model: verdicts from the signal unit --------------------------------------------------

OPS = {"=": int.__eq__, "!=": int.__ne__, ">": int.__gt__, ">=": int.__ge__,
       "<": int.__lt__, "<=": int.__le__}  # fmt: skip


def _swap(value: int, size: int) -> int:
    return int.from_bytes(value.to_bytes(size, "little"), "big")


def _label(unit: bytes, offset: int) -> dict[str, int] | None:
    """sio and the routing label's fields of a unit whose SIO is at ``offset``."""
    if len(unit) < offset + 5:
        return None
    value = int.from_bytes(unit[offset + 1 : offset + 5], "little")
    return {"sio": unit[offset], "dpc": value & 0x3FFF, "opc": (value >> 14) & 0x3FFF,
            "sls": value >> 28}  # fmt: skip


UNITS = st.builds(
    lambda high, li, sio, dpc, opc, sls: (
        hsl_unit(li, sio, routing_label(dpc, opc, sls))
        if high
        else signal_unit(li, sio, routing_label(dpc, opc, sls), bytes(4))
    ),
    st.booleans(),
    st.sampled_from([0, 1, 2, 3, 20, 63]),
    st.integers(0, 255),
    st.sampled_from([0, 1, 0x3FFF]) | st.integers(0, 0x3FFF),
    st.sampled_from([0, 1, 0x3FFF]) | st.integers(0, 0x3FFF),
    st.integers(0, 15),
)


@given(UNITS, st.sampled_from(sorted(FIELD_LIMITS)), st.sampled_from(sorted(OPS)), st.data())
def test_fields_follow_the_routing_label(unit: bytes, field: str, op: str, data) -> None:  # noqa: ANN001
    """``=``/``!=`` and, on ``sio``/``sls``, every relation compare the field's value;
    libpcap compares ``opc``/``dpc`` with ``<``/``>`` in wire byte order, and so do we."""
    high = unit[:2] == b"\x80\x00"
    name = f"h{field}" if high else field
    fields = _label(unit, 6 if high else 3)
    actual = 0 if fields is None else fields[field]
    value = data.draw(
        st.sampled_from([actual, max(actual - 1, 0)]) | st.integers(0, FIELD_LIMITS[field])
    )
    if fields is None:
        expected = False  # the load fails: the program returns 0
    elif op in ("=", "!=") or field in ("sio", "sls"):
        expected = OPS[op](actual, value)
    else:
        size = 2 if field == "dpc" else 4
        shift = 0 if field == "dpc" else 14
        expected = OPS[op](_swap(actual << shift, size), _swap(value << shift, size))
    for optimize in (False, True):
        try:
            got = verdict(f"{name} {op} {value}", "MTP2", unit, optimize)
        except CompileError as err:  # always false (e.g. sio > 255 impossible): refused
            assert optimize and "rejects all packets" in err.message
            continue
        assert got == (SNAPLEN if expected else 0), (name, op, value, unit.hex())


@given(UNITS, st.sampled_from(["fisu", "lssu", "msu"]))
def test_unit_types_follow_the_length_indicator(unit: bytes, kind: str) -> None:
    high = unit[:2] == b"\x80\x00"
    li = int.from_bytes(unit[4:6], "big") >> 7 if high else unit[2] & 0x3F
    expected = {"fisu": li == 0, "lssu": 1 <= li <= 2, "msu": li >= 3}[kind]
    assert verdict(("h" if high else "") + kind, "MTP2", unit) == (SNAPLEN if expected else 0)


# -- differential: the system libpcap (1.10.3 compiled ``!=`` as ``==`` and loaded ``dpc``
# differently: those are left out) --------------------------------------------------------

DIFF_EXPRS = [
    "fisu", "lssu", "msu", "hfisu", "hlssu", "hmsu", "sio 3", "sio > 0xa1", "sio <= 0x83",
    "sio (3 or 5 or 0x83)", "opc 2", "opc > 0x607", "opc <= 1", "opc (1 or 2 or 3)", "sls 9",
    "sls >= 2", "sls < 5", "hsio 0x41", "hsio > 3", "hopc 0x3aba", "hopc < 9000", "hsls 5",
    "hsls > 6", "msu and sio 0x83 and opc 2", "lssu or (msu and sls 3)", "not fisu",
    "link[2] & 0x3f > 2 and sio 3",
]  # fmt: skip


@pytest.mark.parametrize("expr", DIFF_EXPRS)
def test_agrees_with_libpcap(expr: str) -> None:
    require_libpcap()
    numbers = [1, 2, 3, 5, 9, 0x41, 0x83, 0xA1, 0x607, 9000, 0x3ABA]
    frames = [data for data, _label in mtp2_frames(numbers)]
    problems = disagreements(expr, "MTP2", frames)
    assert not problems, "\n".join(problems[:3])


# -- compositions --------------------------------------------------------------------------

COMPOSITION_POOL = [
    "fisu", "lssu", "msu", "hmsu", "sio 3", "sio > 0xa1", "opc 2", "opc > 0x607", "sls 9",
    "sls < 5", "hsio 0x41", "hopc 0x3aba", "hsls > 6", "link[0] = 0x80", "len > 20",
]  # fmt: skip


@settings(max_examples=100)  # each example compiles twice and runs ~100 packets
@given(compositions(COMPOSITION_POOL, max_leaves=5))
def test_compositions_agree_with_libpcap(expr: str) -> None:
    require_libpcap()
    numbers = [1, 2, 3, 5, 9, 0x41, 0x83, 0xA1, 0x607, 0x3ABA]
    frames = [data for data, _label in mtp2_frames(numbers)]
    problems = disagreements(expr, "MTP2", frames, optimize=(False,))
    assert not problems, problems[0]


@pytest.mark.parametrize(("dlt", "shift"), [("MTP2_WITH_PHDR", 4), ("ERF", 20)])
@pytest.mark.parametrize("expr", ["fisu", "hlssu", "sio 3", "opc > 0x607", "sls < 5",
                                  "hsio 0x41", "hopc 0x3aba", "msu and hsls > 6"])  # fmt: skip
def test_pseudo_header_link_types_agree_with_libpcap(dlt: str, shift: int, expr: str) -> None:
    require_libpcap()
    numbers = [1, 3, 5, 0x41, 0x607, 0x3ABA]
    frames = [bytes(shift) + data for data, _label in mtp2_frames(numbers)]
    problems = disagreements(expr, dlt, frames)
    assert not problems, "\n".join(problems[:3])
