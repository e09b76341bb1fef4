"""Compiling for a savefile (``compile(savefile=SavefileInfo(...))``), as libpcap compiles
for a ``pcap_open_offline`` handle: the loopback address-family tests of DLT_NULL/ENC/
LOOP/PFLOG.  References: libpcap master's offline listings (the upstream cases marked
``generate_offline_filter``) and the meaning those listings encode, checked as a property.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bpfc
from bpfc.savefile import SavefileInfo, check_savefile
from bpfc.vm import make_filter

BSD_INET6 = {24, 28, 30}
LINUX_INET6 = 10


def _listing(prog: bpfc.Program) -> list[str]:
    return prog.dump("d").rstrip("\n").split("\n")


# -- the option: validated, and off by default ----------------------------------------------


@pytest.mark.parametrize("bad", [1, b"little", None])
def test_byte_order_must_be_a_string(bad: object) -> None:
    with pytest.raises(TypeError, match="byte_order"):
        SavefileInfo(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["byte_order", "host_byte_order"])
def test_byte_orders_are_little_or_big(field: str) -> None:
    values = {"byte_order": "little", "host_byte_order": "little", field: "middle"}
    with pytest.raises(ValueError, match=field):
        SavefileInfo(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["little", True, 1])
def test_compile_refuses_a_savefile_that_is_not_a_savefileinfo(bad: object) -> None:
    with pytest.raises(TypeError, match="savefile"):
        bpfc.compile("ip", "NULL", savefile=bad)  # type: ignore[arg-type]
    assert check_savefile(None) is None


def test_public_name() -> None:
    assert bpfc.SavefileInfo is SavefileInfo
    assert "SavefileInfo" in bpfc.__all__


def test_from_swapped_needs_a_bool() -> None:
    with pytest.raises(TypeError, match="swapped"):
        SavefileInfo.from_swapped(1)  # type: ignore[arg-type]


@given(st.sampled_from(["little", "big"]), st.sampled_from(["little", "big"]))
def test_swapped_is_file_order_against_host_order(file: str, host: str) -> None:
    info = SavefileInfo(file, host)  # type: ignore[arg-type]
    assert info.swapped == (file != host)
    assert SavefileInfo.from_swapped(info.swapped, host).swapped == info.swapped  # type: ignore[arg-type]


@pytest.mark.parametrize("dlt", ["NULL", "ENC", "LOOP", "PFLOG"])
@pytest.mark.parametrize("expr", ["ip", "ip6", "tcp", "not ip6"])
def test_default_is_pcap_open_dead(dlt: str, expr: str) -> None:
    """Without ``savefile`` the program is the ``pcap_open_dead`` one: Linux's AF_INET6
    only, never a BSD value (so existing listings stay as they were)."""
    for optimize in (False, True):
        dead = bpfc.compile(expr, dlt, optimize=optimize)
        text = "\n".join(_listing(dead))
        assert "#0x18" not in text and "#0x1c" not in text and "#0x1e" not in text
        offline = bpfc.compile(expr, dlt, optimize=optimize, savefile=SavefileInfo("little"))
        if "ip6" in expr or expr == "tcp":
            assert _listing(offline) != _listing(dead)


# -- libpcap master's listings ---------------------------------------------------------------


def _offline_cases(upstream: Path) -> list[dict]:
    with open(upstream / "libpcap-filtertests.jsonl") as fh:
        recs = [json.loads(line) for line in fh if "generate_offline_filter" in line]
    return [r for r in recs if r.get("generate_offline_filter")]


def _savefile(rec: dict) -> SavefileInfo:
    host = "big" if "big_endian_host" in (rec.get("requires") or ()) else "little"
    return SavefileInfo.from_swapped(rec["generate_offline_filter"] == "swapped", host)  # type: ignore[arg-type]


def _af_packets() -> list[bytes]:
    """Headers with every AF value of interest, in both byte orders, in the word (NULL,
    LOOP) and in byte 1 (pflog), followed by enough payload for any header length."""
    out = []
    for af in (0, 2, 10, 23, 24, 26, 28, 30, 0x1E000000, 0x02000000):
        for order in "<>":
            word = struct.pack(order + "I", af & 0xFFFFFFFF)
            out.append(word + bytes(60))
            out.append(bytes([64, af & 0xFF]) + bytes(70))
    return out


def test_all_sixteen_upstream_offline_cases(upstream: Path) -> None:
    """Unoptimized listings byte for byte (big-endian hosts' too: only "swapped" reaches
    the code); optimized programs give master's optimized verdicts."""
    from bpfc.isa.asm import read

    recs = _offline_cases(upstream)
    assert len(recs) == 16
    packets = _af_packets()
    for rec in recs:
        info = _savefile(rec)
        unopt = bpfc.compile(rec["expr"], rec["dlt"], optimize=False, savefile=info)
        assert _listing(unopt) == rec["expected_unopt"], rec["name"]
        opt = bpfc.compile(rec["expr"], rec["dlt"], optimize=True, savefile=info)
        ours = make_filter(list(opt))
        theirs = make_filter([tuple(i) for i in read("\n".join(rec["expected_opt"]), "d")])
        for pkt in packets:
            assert ours(pkt) == theirs(pkt), (rec["name"], pkt.hex())


# -- the meaning, as a property --------------------------------------------------------------


def _word_values(word: bytes) -> set[int]:
    return {int.from_bytes(word, "big"), int.from_bytes(word, "little")}


_SAVEFILES = st.builds(
    SavefileInfo, st.sampled_from(["little", "big"]), st.sampled_from(["little", "big"])
)
_AF = st.one_of(st.sampled_from([2, 10, 24, 28, 30]), st.integers(0, 0xFFFFFFFF))


@given(_SAVEFILES, _AF, st.sampled_from("<>"), st.booleans())
def test_null_matches_either_byte_order(
    info: SavefileInfo, af: int, order: str, optimize: bool
) -> None:
    """DLT_NULL/ENC: the AF word in the capturing host's order, whatever the file's: ``ip``
    is 2 and ``ip6`` any BSD AF_INET6, read either way round."""
    word = struct.pack(order + "I", af)
    values = _word_values(word)
    packet = word + bytes(40)
    for dlt in ("NULL", "ENC"):
        for expr, wanted in (("ip", {2}), ("ip6", BSD_INET6)):
            prog = bpfc.compile(f"link proto \\{expr}", dlt, optimize=optimize, savefile=info)
            assert bool(make_filter(list(prog))(packet)) == bool(values & wanted), (dlt, expr)


@given(_SAVEFILES, _AF, st.booleans())
def test_loop_and_pflog_are_network_order(info: SavefileInfo, af: int, optimize: bool) -> None:
    """DLT_LOOP's word is big-endian and pflog's family one byte, in every file."""
    loop = struct.pack(">I", af) + bytes(40)
    pflog = bytes([64, af & 0xFF]) + bytes(70)
    for expr, wanted in (("ip", {2}), ("ip6", BSD_INET6)):
        prog = bpfc.compile(f"link proto \\{expr}", "LOOP", optimize=optimize, savefile=info)
        assert bool(make_filter(list(prog))(loop)) == (af in wanted)
        prog = bpfc.compile(f"link proto \\{expr}", "PFLOG", optimize=optimize, savefile=info)
        assert bool(make_filter(list(prog))(pflog)) == ((af & 0xFF) in wanted)


@given(st.sampled_from(["NULL", "ENC", "LOOP", "PFLOG", "EN10MB", "RAW", "LINUX_SLL"]))
def test_other_primitives_do_not_change(dlt: str) -> None:
    """Only the address-family tests differ: expressions without a link-layer protocol
    test compile the same for a savefile as for ``pcap_open_dead``."""
    for expr in ("len > 100", "link[0] = 2", "greater 60 and less 1500"):
        dead = bpfc.compile(expr, dlt, optimize=False)
        for order in ("little", "big"):
            offline = bpfc.compile(expr, dlt, optimize=False, savefile=SavefileInfo(order))
            assert _listing(offline) == _listing(dead)
