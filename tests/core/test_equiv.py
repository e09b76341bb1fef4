"""bpfc.equiv: two filters compared by running them over packets and, with z3, by proof.

Every difference the module reports is re-checked here by running the two programs
independently on the packet it returns; every "same" is checked against the packets
the comparison did not choose (a different seed) as well.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bpfc
from bpfc import equiv
from bpfc.errors import AsmError, CompileError, ValidationError
from bpfc.isa.asm import assemble

z3_missing = not equiv.solver_available()
needs_z3 = pytest.mark.skipif(z3_missing, reason="z3-solver is not installed (the smt extra)")


def _really_differ(result: equiv.EquivResult) -> None:
    """The reported packet separates the two programs, run on their own."""
    diff = result.difference
    assert diff is not None
    got_a = result.a.program.run(diff.data, diff.wirelen)
    got_b = result.b.program.run(diff.data, diff.wirelen)
    assert (got_a, got_b) == (diff.a, diff.b)
    assert got_a != got_b


def test_port_80_is_not_port_81() -> None:
    result = equiv.compare("tcp port 80", "tcp port 81")
    assert result.verdict == "different" and result.exit_status == 1 and not result
    assert result.difference is not None and result.difference.found_by == "packets"
    _really_differ(result)
    # the packet carries port 80 or 81 in a TCP header (Ethernet, IPv4 or IPv6)
    data = result.difference.data
    ports = {int.from_bytes(data[i : i + 2], "big") for i in range(14, len(data) - 1)}
    assert ports & {80, 81}


def test_a_difference_only_on_truncated_packets() -> None:
    # 'ip[19] >= 0' is always true where the byte was captured: the two differ only on
    # IPv4 packets cut before byte 19 of the IP header (14 + 19 on Ethernet)
    result = equiv.compare("ip", "ip and ip[19] >= 0", solver=False)
    assert result.different
    _really_differ(result)
    diff = result.difference
    assert diff is not None and diff.caplen < 14 + 20 and diff.caplen < diff.wirelen
    assert (diff.a, diff.b) == (262144, 0)


@needs_z3
def test_the_solver_finds_a_truncation_difference() -> None:
    # both test port 80 on every whole packet; only a capture that stops between the
    # source and the destination port tells them apart
    a, b = equiv.expression("tcp port 80"), equiv.expression("tcp dst port 80 or tcp src port 80")
    verdict, diff, why = equiv.prove(a, b)
    assert verdict == "different" and why == ""
    assert diff is not None and diff.found_by == "solver"
    assert a.program.run(diff.data, diff.wirelen) != b.program.run(diff.data, diff.wirelen)


@needs_z3
@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("not (tcp or udp)", "not tcp and not udp"),
        ("not (host 10.0.0.1 or port 53)", "not host 10.0.0.1 and not port 53"),
        ("not (arp or (ip and icmp))", "not arp and not (ip and icmp)"),
        ("tcp port 80", "tcp and port 80"),
    ],
)
def test_de_morgan_is_proved(left: str, right: str) -> None:
    result = equiv.compare(left, right)
    assert result.verdict == "same" and result.proved and result.exit_status == 0
    assert result.difference is None and result


@needs_z3
def test_the_solver_separates_what_packets_did_not() -> None:
    a, b = equiv.expression("tcp port 80"), equiv.expression("tcp port 81")
    verdict, diff, _ = equiv.prove(a, b)
    assert verdict == "different" and diff is not None
    assert a.program.run(diff.data, diff.wirelen) != b.program.run(diff.data, diff.wirelen)


@needs_z3
def test_the_solver_finds_what_packets_miss() -> None:
    # libpcap 1.10.3's 'ip multicast' (ip[16] >= 224) against master's (224/4): only a
    # class E destination separates them, and no generated packet has one
    old, new = "ip and ip[16] >= 224", "ip multicast"
    assert equiv.compare(old, new, solver=False).verdict == "unknown"
    result = equiv.compare(old, new)
    assert result.different and result.difference is not None
    _really_differ(result)
    diff = result.difference
    assert diff.found_by == "solver" and diff.data[14 + 16] >= 240
    assert diff.caplen == diff.wirelen <= 14 + 20  # made short and whole before it is shown


@needs_z3
def test_a_difference_past_the_short_packets() -> None:
    # only a capture of more than 5000 bytes tells these apart: the solver's packet is
    # read back whole
    a, b = equiv.expression("ether[5000] = 7"), equiv.expression("ether[5000] = 8")
    verdict, diff, _ = equiv.prove(a, b)
    assert verdict == "different" and diff is not None
    assert diff.caplen > 5000 and diff.data[5000] in (7, 8)
    assert a.program.run(diff.data, diff.wirelen) != b.program.run(diff.data, diff.wirelen)


@needs_z3
def test_ancillary_loads_fail_as_in_libpcap() -> None:
    # libpcap's bpf_filter reads a Linux ancillary offset (SKF_AD_OFF + k) as packet bytes,
    # which no capture of up to 262144 bytes has: the load fails and the filter returns 0
    vlan_tag_present = equiv.program("ld #vlan_avail\njeq #1, yes, no\nyes: ret #1\nno: ret #0")
    never = equiv.program("ret #0")
    result = equiv.compare(vlan_tag_present, never)
    assert result.same and result.proved


def test_program_text_and_bytes_against_the_expression() -> None:
    prog = bpfc.compile("udp and not port 53")
    for source in (prog.dump("dd"), prog.dump("ddd"), prog.dump("asm"), bytes(prog)):
        result = equiv.compare(equiv.program(source), "udp and not port 53")
        assert result.verdict in ("same", "unknown")
        assert result.verdict == ("unknown" if z3_missing else "same")
    other = equiv.program(bpfc.compile("udp and not port 54").dump("d"))
    assert equiv.compare(other, "udp and not port 53").different


def test_libpcap_program_against_the_expression() -> None:
    from bpfc import libpcap

    if not libpcap.available():
        pytest.skip("no system libpcap")
    theirs = libpcap.compile("tcp port 80 or icmp", "EN10MB")
    result = equiv.compare(equiv.program(theirs), "tcp port 80 or icmp")
    assert result.verdict == ("unknown" if z3_missing else "same")


def test_values_or_verdicts_only() -> None:
    # tcpdump -dd as older tools wrote it: accept with 65535, not the snap length
    text = bpfc.compile("arp").dump("d").replace("#262144", "#65535")
    result = equiv.compare(equiv.program(text), "arp")
    assert result.different and {result.difference.a, result.difference.b} == {65535, 262144}  # type: ignore[union-attr]
    assert not equiv.compare(equiv.program(text), "arp", verdicts_only=True).different


def test_without_a_solver_nothing_is_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(equiv, "solver_available", lambda: False)
    result = equiv.compare("not (tcp or udp)", "not tcp and not udp")
    assert result.verdict == "unknown" and result.exit_status == 2 and not result.proved
    assert "pip install" in result.reason and result.packets > 100
    with pytest.raises(RuntimeError, match="not installed"):
        equiv.compare("tcp", "tcp", solver=True)
    # a difference needs no solver
    assert equiv.compare("tcp", "udp").different


@needs_z3
def test_loops_are_not_proved() -> None:
    a = equiv.expression("ip6 protochain 17")
    b = equiv.expression("ip6 protochain 17", optimize=False)
    result = equiv.compare(a, b)
    assert result.verdict == "unknown" and "backwards" in result.reason


def test_link_types_per_side() -> None:
    a = equiv.expression("ip", "LINUX_SLL")
    b = equiv.expression("ip", "EN10MB")
    result = equiv.compare(a, b)
    assert result.different  # the ethertype sits at 14 on one and 12 on the other
    _really_differ(result)


def test_bad_inputs() -> None:
    with pytest.raises(TypeError, match="filter expression"):
        equiv.compare(5, "tcp")  # type: ignore[arg-type]
    with pytest.raises(CompileError):
        equiv.compare("tcp port", "tcp")
    with pytest.raises(AsmError):
        equiv.program("this is not a program")
    with pytest.raises(AsmError, match="whole number"):
        equiv.program(b"\x06\x00\x00\x00\x00\x00\x00")
    with pytest.raises(ValidationError):
        equiv.program([(0x15, 5, 5, 0)])  # jumps out of the program
    with pytest.raises(ValueError, match="link type"):
        equiv.expression("tcp", "NO_SUCH_LINK")


PRIMITIVES = (
    "tcp", "udp", "icmp", "arp", "ip", "ip6", "vlan", "port 53", "tcp port 80",
    "host 10.0.0.1", "net 192.168.0.0/16", "portrange 1000-2000", "ip[8] < 64",
    "tcp[13] & 2 != 0", "greater 200", "less 60", "ether broadcast", "ip proto 47",
    "src host fe80::1", "udp dst port 67", "icmp6", "mpls", "len > 100",
)  # fmt: skip


def _expressions() -> st.SearchStrategy[str]:
    leaf = st.sampled_from(PRIMITIVES)

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, b: f"({a} and {b})", inner, inner),
            st.builds(lambda a, b: f"({a} or {b})", inner, inner),
            st.builds(lambda a: f"not {a}", inner),
        )

    return st.recursive(leaf, grow, max_leaves=5)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions())
def test_a_program_equals_its_own_forms(expr: str) -> None:
    try:
        opt = bpfc.compile(expr)
    except CompileError:
        assume(False)
        return
    forms = (bpfc.compile(expr, optimize=False), assemble(opt.dump("d")), assemble(opt.dump("dd")))
    for form in forms:
        result = equiv.compare(equiv.Side(opt), equiv.Side(form))
        assert not result.different, (expr, result.difference)
        assert result.verdict == ("unknown" if z3_missing else "same"), result.reason
