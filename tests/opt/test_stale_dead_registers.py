"""A pass that drops statements writing a dead register must not judge later blocks by
the value that register held before the drop.

Found by tests/differential/test_optimizer_compositions.py on PFLOG: ``drop_no_ops``
dropped ``ldx M[2]; ldb [x + 0]`` (X dead after it, the load covered), then, from the
same sweep, a later ``ldx M[2]`` as a no-op because X "already held" M[2], which it no
longer did; the optimized program rejected a full TCP packet the input accepted.
"""

from __future__ import annotations

import bpfc
from bpfc.opt import optimize
from bpfc.opt.drop_no_ops import run as drop_no_ops
from bpfc.vm import make_filter

EXPR = (
    "(not ((not (tcp[0:2] + tcp[2:2] = 1104)) and (!(port http)))) and (tcp port 80 or 443"
    " or (ip and not tcp) or ((dst net 172.16/12) or (icmp or icmp6)))"
)
PACKET = bytes.fromhex(
    "3d020000657468300000000000000000000000000000000000000000000000000000000000000001"
    "ffffffff00000000000000000000000000000000020000004500002d00010000400622a9ac100000"
    "ac1000010001044f00000001000000006018200000000000020405b478"
)


def test_pflog_tcp_port_composition_keeps_its_verdict():
    unopt = list(bpfc.compile(EXPR, linktype="PFLOG", optimize=False))
    want = make_filter(unopt)(PACKET, len(PACKET))
    assert want == 262144
    for out in (optimize(unopt), optimize(unopt, passes=[("drop_no_ops", drop_no_ops)])):
        for cut in range(len(PACKET) + 1):
            part = PACKET[:cut]
            assert make_filter(out)(part, len(PACKET)) == make_filter(unopt)(part, len(PACKET))
