"""The row field ``encaps`` (which of ``vlan``/``mpls`` a link type takes) is libpcap
master's: on every link type bpfc filters on, master accepts ``vlan``/``mpls`` exactly
where the row lists it, and bpfc's refusal is then master's message."""

from __future__ import annotations

import pytest
from support.oracles import master_library

from bpfc import libpcap, linktypes
from bpfc.compiler import compile as bpfc_compile
from bpfc.errors import CompileError


@pytest.fixture(scope="module")
def master() -> libpcap.Libpcap:
    path, why = master_library()
    if path is None:
        pytest.skip(why)
    return libpcap.library(path)


@pytest.mark.parametrize("word", ["vlan", "mpls"])
def test_encaps_is_masters(master: libpcap.Libpcap, word: str) -> None:
    for row in linktypes.filterable():
        theirs = master.compile_or_error(word, row.dlt, optimize=False)
        assert (word in row.encaps) == (not isinstance(theirs, str)), row.name
        if isinstance(theirs, str):
            with pytest.raises(CompileError) as err:
                bpfc_compile(word, row.name, optimize=False)
            assert str(err.value) == theirs, row.name


def test_rows_name_only_known_encapsulations() -> None:
    for row in linktypes.filterable():
        assert set(row.encaps) <= {"vlan", "mpls"}, row.name
