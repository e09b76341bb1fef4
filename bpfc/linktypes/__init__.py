"""The one table of link-layer types: where each header's fields are.

libpcap scatters its link-layer knowledge over many ``switch (linktype)`` sites;
bpfc keeps it here, as data, in one package:

* :mod:`.row`: the row type, :class:`LinkType`, and the framings;
* :mod:`.common`, :mod:`.uncommon`, :mod:`.pflog_atm_ss7`: the rows, by family, and
  the per-family data their code generators read (MAC layouts, direction bits, SS7
  and pflog offsets);
* :mod:`.dltmap`: capture files' LINKTYPE_ values <-> DLT_ values;
* :mod:`.descriptions`: libpcap's names and descriptions, as messages print them;
* this module: lookup by name or number, and the list ``bpfc -L`` prints.

Extending: a new link type is a new row in its family's module (listed below); a new
framing or MAC layout is a new entry in the generator tables of
:mod:`bpfc.codegen.link`.
"""

from __future__ import annotations

from bpfc.linktypes import pflog_atm_ss7, uncommon
from bpfc.linktypes.common import LINKTYPES, OTHER_DLTS
from bpfc.linktypes.row import FRAMINGS, LinkType

__all__ = ["FRAMINGS", "LINKTYPES", "OTHER_DLTS", "LinkType", "filterable", "lookup"]

_BY_NAME: dict[str, LinkType] = {}
_BY_NUMBER: dict[int, LinkType] = {}
for _row in LINKTYPES:
    for _n in (_row.name, *_row.aliases):
        _BY_NAME[_n.upper()] = _row
    _BY_NUMBER[_row.dlt] = _row
for _name, _dlt in OTHER_DLTS.items():
    _row = LinkType(_name, _dlt, None, 0, "none")
    _BY_NAME.setdefault(_name, _row)
    _BY_NUMBER.setdefault(_dlt, _row)


#: DLT numbers in libpcap's "high matching" range: one it has no header model for still
#: compiles, with only link-independent primitives and ``link[...]`` (``none`` framing)
HIGH_MATCHING = range(104, 304 + 1)


def _unmodelled(dlt: int) -> LinkType:
    """The row of a high-range DLT with no name: nothing is known past its first byte."""
    return LinkType(str(dlt), dlt, None, 0, "none", unnamed=f"DLT {dlt}")


def lookup(spec: str | int) -> LinkType:
    """The row for a DLT name (``EN10MB``, ``DLT_EN10MB``, ``linktype_en10mb``) or number."""
    if isinstance(spec, int):
        row = _BY_NUMBER.get(spec)
        if row is None and spec in HIGH_MATCHING:
            row = _unmodelled(spec)
        if row is None:
            raise ValueError(f"unknown data link type {spec}")
        return row
    text = spec.strip()
    if text.isdigit():
        return lookup(int(text))
    key = text.upper()
    for prefix in ("DLT_", "LINKTYPE_"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    row = _BY_NAME.get(key)
    if row is None:
        raise ValueError(f"unknown data link type '{spec}'")
    return row


#: rows added with :func:`register`, in registration order
REGISTERED: list[LinkType] = []


def register(row: LinkType) -> None:
    """Add a link type (used by modules that teach bpfc new link layers)."""
    for name in (row.name, *row.aliases):
        _BY_NAME[name.upper()] = row
    _BY_NUMBER[row.dlt] = row
    REGISTERED.append(row)


def filterable() -> list[LinkType]:
    """Every link type bpfc has a header model for (the table and registered rows), by
    name; the name-only entries of :data:`OTHER_DLTS` are left out."""
    rows = {row.name: row for row in (*LINKTYPES, *REGISTERED)}
    return sorted(rows.values(), key=lambda row: row.name)


for _row in (*uncommon.MORE_LINKTYPES, *pflog_atm_ss7.ROWS):  # over name-only entries
    register(_row)
