"""Expressions the differential soak (tools/differential_soak.py) found libpcap refusing.

libpcap 1.10.3's optimizer proves these unsatisfiable and refuses them with
``expression rejects all packets``; bpfc's optimizer used not to (on PFLOG the IP header
sits behind a variable-length pflog header, X = ([0] + 3) & ~3, and the test of
``ldb [x + 9]`` was not carried over to its reload).  It now proves them too: a reload
whose value was already tested on every path cannot fail, so threading passes it.  The
refusal is part of the language, so they stay as reproducers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bpfc  # noqa: E402
from bpfc.errors import CompileError  # noqa: E402
from bpfc.packetgen import packet_set  # noqa: E402
from bpfc.vm.interp import interpret  # noqa: E402

# (link type, expression)
CASES = [
    ("PFLOG", "(not ((tcp) or (src port 53 or pim))) and (tcp dst port 80 or 443)"),
]


@pytest.mark.parametrize(("linktype", "expr"), CASES)
def test_unoptimized_program_rejects_every_packet(linktype: str, expr: str) -> None:
    """The refusal is right: the meaning (the unoptimized program) accepts nothing."""
    unopt = [tuple(i) for i in bpfc.compile(expr, linktype=linktype, optimize=False)]
    packets = packet_set(expr, linktype, [unopt], seed=0, steered=40)
    assert len(packets) > 50
    assert all(interpret(unopt, p.data, p.wirelen) == 0 for p in packets)


@pytest.mark.parametrize(("linktype", "expr"), CASES)
def test_optimizer_proves_it_unsatisfiable_like_libpcap(linktype: str, expr: str) -> None:
    with pytest.raises(CompileError, match="rejects all packets"):
        bpfc.compile(expr, linktype=linktype, optimize=True)
