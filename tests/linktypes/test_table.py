"""The link-type table: lookups, and every row compiles the common primitives safely."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc import linktypes
from bpfc.errors import CompileError

#: the link types this test vouches for (other modules add rows with their own tests)
SUPPORTED = [
    "NULL", "EN10MB", "IEEE802", "SLIP", "PPP", "FDDI", "RAW", "SLIP_BSDOS", "PPP_BSDOS",
    "PPP_SERIAL", "PPP_ETHER", "C_HDLC", "LOOP", "ENC", "LINUX_SLL", "IP_OVER_FC",
    "PPP_PPPD", "IPNET", "IPV4", "IPV6", "LINUX_SLL2",
]  # fmt: skip


def test_rows_are_unique() -> None:
    names = [row.name for row in linktypes.LINKTYPES]
    numbers = [row.dlt for row in linktypes.LINKTYPES]
    assert len(set(names)) == len(names)
    assert len(set(numbers)) == len(numbers)
    assert not set(names) & set(linktypes.OTHER_DLTS)
    assert set(SUPPORTED) <= set(names)


@pytest.mark.parametrize(
    "spec", ["EN10MB", "en10mb", "DLT_EN10MB", "dlt_en10mb", "LINKTYPE_EN10MB", "1", 1, "ETHERNET"]
)
def test_lookup_spellings(spec) -> None:  # noqa: ANN001
    assert linktypes.lookup(spec).name == "EN10MB"


def test_lookup_numbers_and_linktype_values() -> None:
    assert linktypes.lookup(113).name == "LINUX_SLL"
    assert linktypes.lookup(12).name == "RAW"
    # LINKTYPE_RAW (101) is a file value, not a DLT: readers map it (bpfc.linktypes.dltmap)
    with pytest.raises(ValueError, match="unknown data link type 101"):
        linktypes.lookup(101)
    assert linktypes.lookup("USB_LINUX").framing == "none"


@pytest.mark.parametrize("spec", ["NOSUCH", "DLT_", "", 99999, "-1"])
def test_unknown_linktypes(spec) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="unknown data link type"):
        linktypes.lookup(spec)


def test_register_adds_a_row() -> None:
    row = linktypes.LinkType("BPFC_TEST_ONLY", 65000, 0, 2, "chdlc")
    linktypes.register(row)
    assert linktypes.lookup("dlt_bpfc_test_only") is row
    assert linktypes.lookup(65000) is row


pytest.importorskip("bpfc.syntax.parse")

from bpfc.compiler import compile as bpfc_compile  # noqa: E402

COMMON = [
    "ip", "ip6", "arp", "tcp", "udp port 53", "host 10.0.0.1", "net 10.0.0.0/8",
    "ip6 host ::1", "ether host 1:2:3:4:5:6", "broadcast", "multicast", "ip[0] = 0x45",
    "link[0] = 1", "len > 10", "iso", "ipx", "llc", "inbound", "ifindex 1", "protochain 6",
]  # fmt: skip


@pytest.mark.parametrize("dlt", SUPPORTED)
def test_every_row_compiles_or_refuses_cleanly(dlt: str) -> None:
    compiled = 0
    for expr in COMMON:
        try:
            prog = bpfc_compile(expr, dlt, optimize=False)
        except CompileError as err:
            assert err.message and "\n" not in err.message
            continue
        compiled += 1
        assert prog[-1].code == 0x06 and prog[-2].code == 0x06  # ends in the two rets
    assert compiled >= 4


@given(
    st.sampled_from(SUPPORTED + ["USB_LINUX", "PFLOG", "MTP2"]),
    st.lists(st.sampled_from(COMMON + ["not", "and", "or", "(", ")"]), min_size=1, max_size=6),
)
def test_random_word_soup_only_raises_compile_error(dlt: str, words: list[str]) -> None:
    try:
        bpfc_compile(" ".join(words), dlt)
    except CompileError:
        pass
