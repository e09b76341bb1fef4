"""Differential check of the optimizer's output against its input on a packet sample.

The sample mixes random packets of many lengths (including every length around the
load offsets, since a load past the end returns 0) with packets built from the
program itself: each constant a jump compares against (and its neighbours) is
planted at each offset the program loads, and a few rounds of following the
program's own branches steer packets deep into it.  Any packet on which the two
programs return different values makes ``check`` raise ``InternalError`` naming the
packet, so a miscompile is refused rather than emitted.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from bpfc.errors import InternalError
from bpfc.isa.insn import Class, Insn, Mode, bpf_class, bpf_mode, bpf_op, bpf_size
from bpfc.vm.interp import interpret

_W = {0x00: 4, 0x08: 2, 0x10: 1}


def _probes(insns: Sequence[Insn]) -> tuple[list[tuple[int, int]], list[int]]:
    """(offset, width) of absolute loads and the constants jumps compare against."""
    where: set[tuple[int, int]] = set()
    consts: set[int] = {0, 1, 0xFFFFFFFF}
    for code, _jt, _jf, k in insns:
        cls = bpf_class(code)
        if cls == Class.LD and bpf_mode(code) == Mode.ABS and k < 4096:
            where.add((k, _W.get(bpf_size(code), 4)))
        elif cls == Class.LD and bpf_mode(code) == Mode.IND and k < 4096:
            for base in (14, 18, 20, 22, 34, 54):
                where.add((base + k, _W.get(bpf_size(code), 4)))
        elif cls == Class.LDX and bpf_mode(code) == Mode.MSH and k < 4096:
            where.add((k, 1))
        elif cls == Class.JMP and bpf_op(code) != 0:
            consts.update((k, (k + 1) & 0xFFFFFFFF, (k - 1) & 0xFFFFFFFF))
    return sorted(where), sorted(consts)


def sample(insns: Sequence[Insn], count: int = 400, seed: int = 0) -> list[bytes]:
    """A deterministic packet sample aimed at the program's loads and comparisons."""
    rng = random.Random(seed)
    where, consts = _probes(insns)
    top = max([o + w for o, w in where] + [64]) + 8
    packets = [bytes(n) for n in range(0, top + 1, max(1, top // 40))]
    packets += [bytes([0xFF]) * n for n in (top // 2, top)]
    for _ in range(count):
        data = bytearray(rng.randbytes(top))
        for off, w in rng.sample(where, min(len(where), rng.randint(0, 6))):
            value = rng.choice(consts) & ((1 << (8 * w)) - 1)
            data[off : off + w] = value.to_bytes(w, "big")
        packets.append(bytes(data[: rng.choice((top, top, top, rng.randint(0, top)))]))
    return packets


def check(before: Sequence[Insn], after: Sequence[Insn], packets: Sequence[bytes] = ()) -> int:
    """Raise InternalError if the programs differ on any sample packet; returns packets run."""
    pkts = list(packets) or sample(before) + sample(after, seed=1)
    for pkt in pkts:
        want, got = interpret(before, pkt), interpret(after, pkt)
        if want != got:
            raise InternalError(
                f"optimizer changed a verdict ({want} -> {got}) on packet {pkt.hex() or '(empty)'}"
            )
    return len(pkts)
