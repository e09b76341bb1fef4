"""Random validated cBPF programs x random packets: the kernel runs the translation and
returns the interpreter's verdict, for XDP, TC and socket filters (hypothesis).

The programs are ``support.vm_strategies.strict_programs`` (every instruction the Linux
checker takes, odd constants, huge and negative offsets, metadata loads); each is
translated for the three targets, loaded (the verifier must accept every translation
that :func:`translate` returns), and test-run on the packets.  What is compared:

* XDP and TC, libpcap's mode: the action for the interpreter's verdict.  XDP refuses
  reachable metadata loads (no socket buffer: a ``TranslationError``); TC reads them from
  ``__sk_buff`` while libpcap's mode knows no metadata, so a TC program with one is
  loaded but not compared;
* socket filters, Linux's mode: the return value itself, with the metadata a socket
  test run has (:data:`SOCKET_META`); programs reading what no test run fixes (the CPU,
  a random number) or the MAC header through ``SKF_LL_OFF`` (the header
  :func:`kernel.test_run` prepends) are loaded but not compared.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.vm_strategies import FRAMES, packets, strict_programs

from bpfc.ebpf import kernel
from bpfc.ebpf.errors import TranslationError
from bpfc.ebpf.translate import translate
from bpfc.isa.opcodes import ANCILLARY, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF
from bpfc.vm.interp import interpret
from ebpf.test_kernel_corpus import SOCKET_META, refused_as_input

REASON = kernel.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

ACTIONS = {"xdp": (2, 1), "tc": (0, 2)}
UNFIXED = {"cpu", "random"}
"""Metadata no test run fixes."""

frames = st.one_of(packets, st.sampled_from(list(FRAMES.values())))


def abs_offsets(program: list) -> set[int]:
    return {k for code, _, _, k in program if code in (0x20, 0x28, 0x30)}


def metadata(program: list) -> set[str]:
    """The names of the metadata (ancillary) loads of ``program``."""
    return {ANCILLARY.get(k - SKF_AD_OFF, "?") for k in abs_offsets(program) if k >= SKF_AD_OFF}


def reads_mac_header(program: list) -> bool:
    """An absolute load through ``SKF_LL_OFF`` or any indirect load (``X + k`` may land
    there)."""
    return any(SKF_LL_OFF <= k < SKF_NET_OFF for k in abs_offsets(program)) or any(
        code in (0x40, 0x48, 0x50) and k >= 1 << 31 for code, _, _, k in program
    )


def run_target(target: str, program: list, data: list[bytes]) -> list[int | None]:
    fd = kernel.load_program(bytes(translate(program, target)), target)
    try:
        return kernel.test_run_many(fd, data, link=target == "socket")
    finally:
        kernel.close(fd)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=strict_programs(), data=st.lists(frames, min_size=1, max_size=6))
def test_random_programs_run_in_the_kernel_as_in_the_interpreter(
    program: list, data: list[bytes]
) -> None:
    meta = metadata(program)
    for target in ("xdp", "tc"):
        try:
            got = run_target(target, program, data)
        except TranslationError:
            assert target == "xdp" and meta  # a reachable metadata load: XDP has none
            event("xdp: refused (metadata)")
            continue
        if meta and target == "tc":
            event("tc: loaded, not compared (metadata)")
            continue  # loaded; TC's metadata has no meaning in libpcap's mode
        event(f"{target}: compared")
        accept, reject = ACTIONS[target]
        for packet, value in zip(data, got, strict=True):
            if value is None:
                assert refused_as_input(target, packet), packet.hex()
                continue
            want = accept if interpret(program, packet) else reject
            assert value == want, (target, packet.hex(), value, want)
    try:
        got = run_target("socket", program, data)
    except TranslationError:
        assert meta - set(ANCILLARY.values()) or meta & {"hatype", "nlattr", "nlattr_nest",
                                                         "pay_offset"}  # fmt: skip
        return
    if meta & UNFIXED or reads_mac_header(program):
        event("socket: loaded, not compared (cpu, random or MAC header)")
        return
    event("socket: compared")
    for packet, value in zip(data, got, strict=True):
        assert value is not None
        want = interpret(program, packet, None, linux=True, meta=SOCKET_META)
        assert value == want, ("socket", packet.hex(), value, want)
