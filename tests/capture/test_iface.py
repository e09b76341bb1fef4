"""``bpfc.capture.iface``: libpcap's ARPHRD -> DLT choice, over fake sysfs trees."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.capture.iface import ARPHRD_TO_DLT, InterfaceError, linktype
from bpfc.linktypes import lookup


def fake(tmp: Path, name: str, arphrd: int, *, up: bool = True, **extra: str) -> str:
    base = tmp / name
    base.mkdir(parents=True)
    (base / "type").write_text(f"{arphrd}\n")
    (base / "flags").write_text("0x1003\n" if up else "0x1002\n")
    for rel, text in extra.items():
        path = base / rel.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp)


@pytest.mark.parametrize(
    ("arphrd", "dlt", "offered", "cooked"),
    [
        (1, "EN10MB", ("EN10MB", "DOCSIS"), False),
        (772, "EN10MB", ("EN10MB",), False),  # loopback offers no DOCSIS
        (0xFFFE, "RAW", ("RAW",), False),  # tun, wireguard
        (768, "RAW", ("RAW",), False),  # ipip
        (776, "RAW", ("RAW",), False),  # sit
        (778, "LINUX_SLL", ("LINUX_SLL",), True),  # gre: not mapped, cooked
        (512, "LINUX_SLL", ("LINUX_SLL",), True),  # ppp: cooked on purpose
        (19, "LINUX_SLL", ("LINUX_SLL",), True),  # atm
        (824, "NETLINK", ("NETLINK",), True),  # cooked, keeps its own type
        (803, "IEEE802_11_RADIO", ("IEEE802_11_RADIO",), False),
        (280, "CAN_SOCKETCAN", ("CAN_SOCKETCAN",), False),
        (787, "FC_2", ("FC_2", "FC_2_WITH_FRAME_DELIMS", "IP_OVER_FC"), False),
    ],
)
def test_arphrd_types(tmp_path: Path, arphrd: int, dlt: str, offered: tuple, cooked: bool) -> None:
    link = linktype("x0", sysfs=fake(tmp_path, "x0", arphrd))
    assert (link.linktype, link.linktypes, link.cooked) == (dlt, offered, cooked)


def test_ethernet_special_cases(tmp_path: Path) -> None:
    assert linktype("cdma_rmnet0", sysfs=fake(tmp_path, "cdma_rmnet0", 1)).linktype == "RAW"
    assert linktype("isdn0", sysfs=fake(tmp_path, "isdn0", 1)).linktype == "LINUX_SLL"
    wifi = linktype("wl0", sysfs=fake(tmp_path, "wl0", 1, wireless__x=""))
    assert wifi.linktypes == ("EN10MB",)
    dsa = linktype("sw0", sysfs=fake(tmp_path, "sw0", 1, dsa__tagging="edsa\n"))
    assert dsa.linktype == "DSA_TAG_EDSA"
    unknown = linktype("sw1", sysfs=fake(tmp_path, "sw1", 1, dsa__tagging="ocelot\n"))
    assert unknown.linktype == "DEBUG_ONLY"
    untagged = linktype("sw2", sysfs=fake(tmp_path, "sw2", 1, dsa__tagging="none\n"))
    assert untagged.linktype == "EN10MB"


def test_any_is_cooked_and_offers_both_sll_types() -> None:
    link = linktype("any")
    assert (link.linktype, link.linktypes, link.cooked) == (
        "LINUX_SLL",
        ("LINUX_SLL", "LINUX_SLL2"),
        True,
    )
    assert link.choose("LINUX_SLL2") == "LINUX_SLL2"
    assert link.choose("dlt_linux_sll") == "LINUX_SLL"


def test_refusals_in_tcpdumps_words(tmp_path: Path) -> None:
    root = fake(tmp_path, "dn0", 1, up=False)
    with pytest.raises(InterfaceError, match="^dn0: That device is not up$"):
        linktype("dn0", sysfs=root)
    for bad in ("nosuch", "", "../etc", "a/b", "x" * 16):
        with pytest.raises(InterfaceError, match="No such device exists"):
            linktype(bad, sysfs=root)
    up = linktype("lo0", sysfs=fake(tmp_path, "lo0", 772))
    with pytest.raises(InterfaceError, match="^LINUX_SLL is not one of the DLTs"):
        up.choose("LINUX_SLL")


@given(requested=st.integers(0, 262144), cooked=st.booleans())
def test_snaplen_is_what_libpcap_activates_with(requested: int, cooked: bool) -> None:
    link = linktype("any") if cooked else linktype("lo")
    got = link.snaplen(requested)
    expect = requested or 262144
    assert got == (max(expect, 21) if cooked else expect)


def test_every_mapped_type_is_a_link_type_bpfc_compiles_for() -> None:
    for name in {dlt for dlt in ARPHRD_TO_DLT.values() if dlt} | {"LINUX_SLL", "LINUX_SLL2"}:
        assert lookup(name).name == name


@given(name=st.text(max_size=40))
def test_any_name_gives_a_link_or_tcpdumps_refusal(name: str) -> None:
    """Names come from users: never a traceback, never a path outside sysfs."""
    root = Path(__file__).parent  # a folder with no interface in it
    try:
        link = linktype(name, sysfs=str(root))
    except InterfaceError as err:
        assert str(err).endswith(("No such device exists", "That device is not up"))
    else:
        assert name == "any" and link.cooked
