"""bpfc.ebpf.flow: reachability, reads before writes, guard planning."""

from __future__ import annotations

from hypothesis import given, settings
from support.vm_strategies import strict_programs

from bpfc.ebpf.flow import A, X, analyse, load_end, plan_guards


def test_reachability_and_backward_jumps() -> None:
    facts = analyse([(0x05, 0, 0, 1), (0x06, 0, 0, 0), (0x06, 0, 0, 1)])
    assert facts.reachable == [True, False, True] and facts.backward is None
    loop = analyse([(0x00, 0, 0, 0), (0x05, 0, 0, 0xFFFFFFFE), (0x06, 0, 0, 1)])
    assert loop.backward == 1


def test_reads_before_writes() -> None:
    facts = analyse([(0x15, 0, 1, 0), (0x02, 0, 0, 2), (0x60, 0, 0, 2), (0x16, 0, 0, 0)])
    # A is read by the jeq before anything writes it; M[2] is written on one path only
    assert facts.uninit == {A, 2}
    assert X not in facts.uninit


def test_load_end() -> None:
    assert load_end((0x28, 0, 0, 12)) == 14
    assert load_end((0xB1, 0, 0, 14)) == 15
    assert load_end((0x20, 0, 0, 0xFFFE)) > 0xFFFF  # past what the verifier can bound
    assert load_end((0x20, 0, 0, 0xFFFFF000)) is None  # ancillary
    assert load_end((0x40, 0, 0, 0)) is None  # indirect: guarded where it stands


@settings(max_examples=200, deadline=None)
@given(strict_programs())
def test_merged_guards_cover_every_load_on_every_path(insns: list) -> None:
    """Walking every path, each direct load ends within a guard seen on that path, and
    merging never adds guards."""
    facts = analyse(insns)
    guards = plan_guards(insns, facts.reachable, "merged")
    per_load = plan_guards(insns, facts.reachable, "per-load")
    assert len(guards) <= len(per_load)

    def walk(i: int, checked: int) -> None:
        while i < len(insns):
            code, jt, jf, k = insns[i]
            checked = max(checked, guards.get(i, 0))
            end = load_end(insns[i])
            if end is not None:
                assert end <= checked
            if code == 0x05:
                i += 1 + k
            elif code & 0x07 == 0x05:
                walk(i + 1 + jt, checked)
                i += 1 + jf
            elif code & 0x07 == 0x06:
                return
            else:
                i += 1

    walk(0, 0)
