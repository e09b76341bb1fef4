"""Compiling for a capture file: what libpcap's ``pcap_open_offline`` handle changes.

``pcap_compile`` on a handle from ``pcap_open_dead`` (bpfc's default) and on one from
``pcap_open_offline`` (a *savefile*) differ in one family of tests, the address-family
word of BSD loopback-style headers:

* ``DLT_NULL`` / ``DLT_ENC`` hold the AF_ value in the byte order of the host that
  captured, which need not be the file's or ours: a savefile's program tests the value
  both ways, the file's byte order first (relative to the compiling host: "swapped").
* IPv6's AF_ value differs between BSDs (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin): a
  savefile's program tests all three, for ``DLT_NULL``/``DLT_ENC``/``DLT_LOOP`` and for
  the one-byte family of ``DLT_PFLOG``, where a live (or dead) handle tests only this
  platform's value (Linux's 10).

Only "swapped" (file order differs from the compiling host's) matters to the code; the
host's order is a field so that a program for another host can be produced and tested.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

ByteOrder = Literal["little", "big"]
BYTE_ORDERS: tuple[str, ...] = ("little", "big")


def _check_order(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be 'little' or 'big', not {type(value).__name__}")
    if value not in BYTE_ORDERS:
        raise ValueError(f"{name} must be 'little' or 'big', not {value!r}")


@dataclass(frozen=True)
class SavefileInfo:
    """The capture file a filter is compiled for (``compile(..., savefile=...)``).

    ``byte_order`` is the byte order of the file's header (``"little"`` or ``"big"``);
    ``host_byte_order`` the compiling host's, this machine's unless given.
    """

    byte_order: ByteOrder
    host_byte_order: ByteOrder = sys.byteorder  # type: ignore[assignment]

    def __post_init__(self) -> None:
        _check_order("byte_order", self.byte_order)
        _check_order("host_byte_order", self.host_byte_order)

    @property
    def swapped(self) -> bool:
        """libpcap's ``pcap_is_swapped``: the file's byte order is not the host's."""
        return self.byte_order != self.host_byte_order

    @classmethod
    def from_swapped(cls, swapped: bool, host_byte_order: ByteOrder | None = None) -> SavefileInfo:
        """The savefile whose byte order is (``swapped``) or is not the host's."""
        if not isinstance(swapped, bool):
            raise TypeError(f"swapped must be a bool, not {type(swapped).__name__}")
        host = sys.byteorder if host_byte_order is None else host_byte_order
        _check_order("host_byte_order", host)
        other = "big" if host == "little" else "little"
        return cls(other if swapped else host, host)  # type: ignore[arg-type]

    @classmethod
    def from_struct_order(cls, order: str) -> SavefileInfo:
        """From a :mod:`struct` byte-order prefix (``"<"`` or ``">"``), as readers keep it."""
        orders = {"<": "little", ">": "big"}
        if order not in orders:
            raise ValueError(f"order must be '<' or '>', not {order!r}")
        return cls(orders[order])  # type: ignore[arg-type]


def check_savefile(savefile: object) -> SavefileInfo | None:
    """``savefile`` itself when it is a :class:`SavefileInfo` or None; TypeError otherwise."""
    if savefile is None or isinstance(savefile, SavefileInfo):
        return savefile
    raise TypeError(f"savefile must be a SavefileInfo or None, not {type(savefile).__name__}")
