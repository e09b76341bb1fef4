"""bpfc.ebpf.targets: verdict names and numbers."""

from __future__ import annotations

import pytest

from bpfc.ebpf.targets import SKB_FIELDS, TARGETS, action_value


def test_verdict_names() -> None:
    assert action_value("xdp", "pass", "accept") == 2
    assert action_value("xdp", "XDP_DROP", "reject") == 1
    assert action_value("tc", "TC_ACT_SHOT", "reject") == 2
    assert action_value("tc", "unspec", "reject") == -1
    assert action_value("socket", 0xFFFF, "accept") == 0xFFFF


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("pass", ValueError, "unknown tc verdict"),
        (True, TypeError, "not bool"),
        (1 << 32, ValueError, "32 bits"),
        (1.5, TypeError, "not float"),
    ],
)
def test_bad_verdicts(value: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        action_value("tc", value, "accept")  # type: ignore[arg-type]


def test_socket_names_none() -> None:
    with pytest.raises(ValueError, match="give a number"):
        action_value("socket", "pass", "accept")


def test_tables() -> None:
    assert {t.section for t in TARGETS.values()} == {"xdp", "tc", "socket"}
    assert SKB_FIELDS["protocol"].swap16 and not SKB_FIELDS["mark"].swap16
    assert TARGETS["tc"].data_off == 76 and TARGETS["xdp"].data_end_off == 4
