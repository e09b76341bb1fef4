"""Program: construction, validation, equality, encodings, sock_fprog on a real socket, run."""

from __future__ import annotations

import copy
import pickle
import socket
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.machine_programs import programs

from bpfc import Program, ValidationError
from bpfc.errors import AsmError
from bpfc.isa.insn import SOCK_FILTER, Insn
from bpfc.program import SO_ATTACH_FILTER

ARP = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x806), (0x06, 0, 0, 0xFFFFFFFF), (0x06, 0, 0, 0)]


def test_compares_equal_to_plain_tuples_and_lists():
    prog = Program.from_insns(ARP)
    assert prog == ARP
    assert prog == tuple(ARP)
    assert prog == [list(insn) for insn in ARP]
    assert ARP == prog
    assert not prog != ARP
    assert prog != ARP[:3]
    assert prog != ARP[:3] + [(0x06, 0, 0, 1)]
    assert prog != [1, 2, 3, 4]
    assert prog != "ARP"
    assert all(isinstance(insn, Insn) for insn in prog)


def test_rebuilding_a_program_returns_it():
    prog = Program(ARP)
    assert Program(prog) is prog
    assert Program.from_insns(prog, strict=True) == prog


def test_hash_and_equality_between_programs():
    assert hash(Program(ARP)) == hash(Program.from_insns(ARP)) == hash(tuple(map(Insn._make, ARP)))
    assert len({Program(ARP), Program(ARP), Program([(6, 0, 0, 0)])}) == 2


def test_indexing_and_slicing():
    prog = Program(ARP)
    assert len(prog) == 4
    assert prog[1] == Insn(0x15, 0, 1, 0x806)
    assert prog[-1].k == 0
    assert prog[1:3] == [Insn(0x15, 0, 1, 0x806), Insn(6, 0, 0, 0xFFFFFFFF)]
    assert type(prog[1:3]) is list  # a slice is usually not a valid program


def test_is_immutable():
    prog = Program(ARP)
    with pytest.raises(AttributeError, match="immutable"):
        prog.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        prog[0] = (6, 0, 0, 0)  # type: ignore[index]


def test_pickle_and_copy_rebuild_without_the_cache(vm):
    prog = Program(ARP)
    prog.run(bytes(14))  # fills the filter cache with an unpicklable function
    clone = pickle.loads(pickle.dumps(prog))
    assert clone == prog and type(clone) is Program and "_filters" not in vars(clone)
    assert copy.deepcopy(prog) == prog


def test_repr_evaluates_back():
    prog = Program(ARP)
    assert repr(prog).startswith("Program([(40, 0, 0, 12), (21, 0, 1, 2054),")
    assert eval(repr(prog)) == prog


def test_construction_validates_and_names_the_index():
    with pytest.raises(ValidationError) as info:
        Program.from_insns([(0x15, 5, 0, 1), (0x06, 0, 0, 0)])
    assert info.value.index == 0
    with pytest.raises(ValidationError):
        Program([])
    with pytest.raises(ValidationError):
        Program.from_insns([(0x0E, 0, 0, 0)], strict=True)  # ret x: Linux refuses it
    Program.from_insns([(0x0E, 0, 0, 0)])  # libpcap's validator accepts it


def test_bytes_is_the_native_sock_filter_array():
    prog = Program(ARP)
    data = bytes(prog)
    assert len(data) == 8 * len(ARP)
    assert data[:8] == SOCK_FILTER.pack(0x28, 0, 0, 12)
    assert Program.from_bytes(data) == prog
    assert Program.from_bytes(bytearray(data)) == prog
    assert Program.from_bytes(memoryview(data)) == prog


def test_from_bytes_byte_orders():
    prog = Program(ARP)
    big = prog.to_bytes("big")
    assert big[:8] == bytes([0x00, 0x28, 0, 0, 0, 0, 0, 12])
    assert prog.to_bytes("little")[:8] == bytes([0x28, 0x00, 0, 0, 12, 0, 0, 0])
    assert Program.from_bytes(big, byteorder="big") == prog
    assert Program.from_bytes(prog.to_bytes("little"), byteorder="little") == prog
    native = "little" if sys.byteorder == "little" else "big"
    assert prog.to_bytes(native) == bytes(prog)
    with pytest.raises(ValueError, match="byteorder must be"):
        Program.from_bytes(big, byteorder="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 7, 9, 31])
def test_truncated_bytes_name_the_byte_count(size):
    with pytest.raises(AsmError, match=f"^{size} bytes is not a whole number of 8-byte"):
        Program.from_bytes(bytes(size))


def test_from_bytes_rejects_an_invalid_program_with_its_index():
    data = bytes(Program(ARP))[:24] + SOCK_FILTER.pack(0x05, 0, 0, 7)
    with pytest.raises(ValidationError) as info:
        Program.from_bytes(data)
    assert info.value.index == 3


@given(programs(canonical=False))
def test_bytes_round_trip(prog):
    program = Program.from_insns(prog)
    assert Program.from_bytes(bytes(program)) == prog
    for order in ("little", "big"):
        assert Program.from_bytes(program.to_bytes(order), byteorder=order) == prog


@given(st.binary(max_size=80), st.sampled_from(["native", "little", "big"]))
def test_fuzz_from_bytes_raises_only_our_errors(data, order):
    try:
        Program.from_bytes(data, byteorder=order)
    except (AsmError, ValidationError):
        pass


def test_dump_delegates_to_the_format_table():
    prog = Program(ARP)
    assert prog.dump().splitlines()[0] == "(000) ldh      [12]"
    assert prog.dump("ddd").splitlines()[0] == "4"
    assert prog.dump("d", "1.10") == prog.dump("d")  # no operand-less instruction here


def test_sock_fprog_fields_and_lifetime():
    prog = Program(ARP)
    fprog = prog.sock_fprog()
    assert fprog.len == 4
    assert [(fprog.filter[i].code, fprog.filter[i].k) for i in range(4)] == [
        (c, k) for c, _, _, k in ARP
    ]
    assert bytes(fprog.buffer) == bytes(prog)


def _udp_pair():
    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    recv.bind(("127.0.0.1", 0))
    recv.settimeout(0.3)
    send = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return recv, send


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_ATTACH_FILTER is Linux")
@pytest.mark.parametrize(("verdict", "delivered"), [(0, False), (0xFFFF, True)])
def test_sock_fprog_attaches_to_a_udp_socket(verdict, delivered):
    recv, send = _udp_pair()
    with recv, send:
        recv.setsockopt(
            socket.SOL_SOCKET, SO_ATTACH_FILTER, Program([(0x06, 0, 0, verdict)]).sock_fprog()
        )
        send.sendto(b"hello", recv.getsockname())
        if delivered:
            assert recv.recv(100) == b"hello"
        else:
            with pytest.raises(socket.timeout):
                recv.recv(100)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_ATTACH_FILTER is Linux")
def test_attach_filters_on_payload():
    """A UDP socket filter sees the UDP header first: pass payloads starting with 'A'."""
    prog = Program([(0x30, 0, 0, 8), (0x15, 0, 1, ord("A")), (0x06, 0, 0, 0xFFFF), (6, 0, 0, 0)])
    recv, send = _udp_pair()
    with recv, send:
        prog.attach(recv)
        send.sendto(b"Bxx", recv.getsockname())
        send.sendto(b"Ayy", recv.getsockname())
        assert recv.recv(100) == b"Ayy"


@pytest.fixture
def vm():
    try:
        from bpfc.vm import make_filter
    except ImportError:
        pytest.skip("bpfc.vm not available yet")
    return make_filter


def test_run_uses_the_vm_and_caches_the_filter(vm):
    prog = Program(ARP)
    arp = bytes(12) + b"\x08\x06" + bytes(28)
    ip = bytes(12) + b"\x08\x00" + bytes(28)
    assert prog.run(arp) == 0xFFFFFFFF
    assert prog.run(ip) == 0
    assert prog.run(memoryview(arp)) == 0xFFFFFFFF
    assert prog.run(arp[:13]) == 0  # load past the captured length rejects
    first = prog._filter(False)
    prog.run(arp)
    assert prog._filter(False) is first


def test_run_passes_wirelen(vm):
    prog = Program([(0x80, 0, 0, 0), (0x16, 0, 0, 0)])  # ret len
    assert prog.run(b"abc") == 3
    assert prog.run(b"abc", 1500) == 1500


def test_run_linux_mode_reads_metadata(vm):
    prog = Program([(0x28, 0, 0, 0xFFFFF000), (0x16, 0, 0, 0)])  # ldh [proto]; ret a
    assert prog.run(b"", protocol=0x86DD) == 0x86DD
    assert prog.run(b"", linux=True) == 0
    assert prog.run(b"\x00" * 64) == 0  # libpcap: an ancillary offset is out of bounds
