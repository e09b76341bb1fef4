"""The pflog, SunATM and SS7 rows together: lookups, and no input makes their generators
raise anything but ``CompileError``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc import linktypes
from bpfc.linktypes.pflog_atm_ss7 import ROWS, SS7_OFFSETS

pytest.importorskip("bpfc.syntax.parse")

from bpfc.compiler import compile as bpfc_compile  # noqa: E402
from bpfc.errors import CompileError  # noqa: E402

LINKS = [row.name for row in ROWS]
WORDS = [
    "vpi", "vci", "lane", "oam", "oamf4", "oamf4ec", "oamf4sc", "metac", "bcc", "sc", "ilmic",
    "connectmsg", "metaconnect", "fisu", "lssu", "lsu", "msu", "hfisu", "hlssu", "hmsu", "sio",
    "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls", "ifname", "on", "rset", "ruleset",
    "rnr", "rulenum", "srnr", "subrulenum", "reason", "action", "1", "0", "255", "256",
    "65536", "16384", "eth0", "match", "pass", "nosuch", "=", "!=", ">", "<=", "(", ")", "or",
    "and", "not", "ip", "llc", "broadcast", "multicast", "ether", "host", "1:2:3:4:5:6",
    "link[0]", "len", "tcp", "port", "80", "inbound", "ip6", "vlan", "mpls", "gateway",
]  # fmt: skip


@pytest.mark.parametrize(("name", "number"), [("PFLOG", 117), ("SUNATM", 123), ("MTP2", 140),
                                              ("MTP2_WITH_PHDR", 139), ("ERF", 197)])  # fmt: skip
def test_rows_resolve_by_name_and_number(name: str, number: int) -> None:
    row = linktypes.lookup(f"DLT_{name}")
    assert row.name == name and row.dlt == number and row.description
    assert linktypes.lookup(number) is row


def test_every_ss7_link_type_has_a_row() -> None:
    assert set(SS7_OFFSETS) <= set(LINKS)
    for offsets in SS7_OFFSETS.values():  # a pseudo-header shifts every field alike
        assert offsets.li + 1 == offsets.sio and offsets.sio + 1 == offsets.opc == offsets.dpc
        assert offsets.sls == offsets.opc + 3 and offsets.li_hsl == offsets.li + 2


@given(st.sampled_from([*LINKS, "EN10MB"]), st.lists(st.sampled_from(WORDS), min_size=1,
                                                      max_size=7), st.booleans())  # fmt: skip
def test_keyword_soup_only_raises_compile_error(dlt: str, words: list[str], opt: bool) -> None:
    try:
        prog = bpfc_compile(" ".join(words), dlt, optimize=opt)
    except CompileError as err:
        assert err.message and "\n" not in err.message
        return
    assert prog[-1].code == 0x06  # a complete program, ending in a return
