"""The link-type descriptions table and the messages that name a link type the way
libpcap master does (``'x' not supported on DLT_RAW (Raw IPv4/IPv6)``)."""

from __future__ import annotations

import pytest
from support.oracles import master_library

import bpfc
from bpfc import libpcap, linktypes
from bpfc.codegen import messages
from bpfc.errors import CompileError
from bpfc.linktypes.descriptions import DESCRIPTIONS, dlt_string


@pytest.fixture(scope="module")
def master() -> libpcap.Libpcap:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    return libpcap.library(path)


def test_table_is_masters(master: libpcap.Libpcap) -> None:
    for dlt, (name, description) in DESCRIPTIONS.items():
        assert master.dlt_name(dlt) == name, dlt
        assert master.dlt_description(dlt) == description, dlt


def test_table_covers_every_name_master_knows(master: libpcap.Libpcap) -> None:
    from support.grammar_gen import bpfc_linktype_names

    for name in bpfc_linktype_names():
        try:
            dlt = master.dlt_value(name)
        except libpcap.LibpcapError:
            continue
        assert dlt in DESCRIPTIONS, name


def test_dlt_string_forms() -> None:
    assert dlt_string(12) == "DLT_RAW (Raw IPv4/IPv6)"
    assert dlt_string(0x7FFE, "MINE") == "DLT_MINE"
    assert dlt_string(0x7FFE) == "DLT 32766"
    # an alias given to bpfc does not change the name libpcap prints
    assert messages.link_string(linktypes.lookup("ETHERNET")) == "DLT_EN10MB (Ethernet)"


@pytest.mark.parametrize(
    ("expr", "dlt", "words"),
    [
        ("multicast", "RAW", "'multicast' not supported on"),
        ("inbound", "NULL", "not a live capture, 'inbound' not supported on"),
        ("ifindex 1", "NULL", "not a live capture, 'ifindex' not supported on"),
        ("ifindex 1", "LINUX_SLL", "not a live capture, 'ifindex' not supported on"),
        ("ip", "NFLOG", "link-layer type filtering not implemented for"),
        ("llc", "LOOP", "'llc' not supported on"),
        ("vlan", "LINUX_SLL2", "'vlan' not supported on"),
        ("dir tods", "SUNATM", "'dir' not supported on"),
        ("gateway localhost", "RAW", "'gateway' not supported on"),
        ("ether host 1:2:3:4:5:6", "PPP", "'link host XX:XX:XX:XX:XX:XX' not supported on"),
    ],
)
def test_messages_end_with_the_link_type(expr: str, dlt: str, words: str) -> None:
    row = linktypes.lookup(dlt)
    name, description = DESCRIPTIONS[row.dlt]
    with pytest.raises(CompileError) as info:
        bpfc.compile(expr, linktype=dlt)
    assert str(info.value) == f"{words} DLT_{name} ({description})"


@pytest.mark.parametrize(
    ("expr", "dlt"),
    [("multicast", "RAW"), ("inbound", "IPV6"), ("ifindex 7", "PPP"), ("ip", "NFLOG"),
     ("llc", "SLIP"), ("vlan 3", "NULL"), ("type mgt", "EN10MB"), ("pppoes and vlan", "EN10MB"),
     ("geneve and outbound", "EN10MB"), ("mpls", "USB_LINUX"), ("lane and inbound", "SUNATM"),
     ("broadcast", "RAW"), ("gateway localhost", "NULL"), ("ether host localhost", "PPP"),
     ("link host $1", "EN10MB"), ("ether src 1:2:3:4:5:6", "LINUX_SLL2"),
     ("ether host 1:2:3:4:5:6", "SUNATM"), ("dir 1", "LINUX_SLL"), ("outbound", "IPV4"),
     ("ifindex 2", "LINUX_SLL"), ("ip", "MTP2"), ("mpls 1", "NULL"), ("llc", "PPP")],
)  # fmt: skip
def test_messages_equal_masters(master: libpcap.Libpcap, expr: str, dlt: str) -> None:
    with pytest.raises(libpcap.LibpcapError) as theirs:
        master.compile(expr, dlt)
    with pytest.raises(CompileError) as ours:
        bpfc.compile(expr, linktype=dlt)
    assert str(ours.value) == theirs.value.message
