"""Wrong-typed and out-of-range arguments to the public API fail as the API promises.

Whatever is passed, ``bpfc.compile``, ``assemble``, ``validate`` and the ``Program``
methods either work or raise ``TypeError``, ``ValueError`` or a ``bpfc`` error (all
``bpfc`` errors a caller sees are ``ValueError`` subclasses), never ``AttributeError``,
``KeyError`` or an internal comparison error; a ``TypeError`` names the argument.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpfc

ALLOWED = (TypeError, ValueError, bpfc.BpfcError)

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.binary(max_size=12),
    st.lists(st.integers(-3, 300), max_size=5),
    st.tuples(st.integers(-3, 70000), st.integers(-3, 300)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(object()),
    st.just(bytearray(b"\x06\x00\x00\x00\x00\x00\x00\x00")),
)
"""Values of every kind a caller might pass by mistake (and some right ones)."""

GOOD_COMPILE: dict[str, Any] = {
    "linktype": "EN10MB",
    "snaplen": 262144,
    "optimize": True,
    "netmask": None,
    "linux": False,
    "verify": False,
    "resolver": None,
}

PROGRAM = bpfc.compile("tcp port 80")


def _raises_allowed(call: Any, name: str, value: Any) -> None:
    try:
        call()
    except ALLOWED as err:
        if type(err) is TypeError and name != "packet metadata":
            assert name in str(err), (name, value, str(err))
    # anything else propagates and fails the test


@settings(max_examples=150)
@given(name=st.sampled_from(sorted(GOOD_COMPILE)), value=ANYTHING)
def test_compile_arguments(name: str, value: Any) -> None:
    kwargs = {**GOOD_COMPILE, name: value}
    _raises_allowed(lambda: bpfc.compile("ip broadcast or tcp", **kwargs), name, value)


@settings(max_examples=60)
@given(expr=ANYTHING)
def test_compile_expression_of_any_kind(expr: Any) -> None:
    _raises_allowed(lambda: bpfc.compile(expr), "filter expression", expr)


@settings(max_examples=100)
@given(text=ANYTHING | st.sampled_from(["ret #0", "6 0 0 0", "1,6 0 0 1"]), fmt=ANYTHING,
       strict=ANYTHING)  # fmt: skip
def test_assemble_arguments(text: Any, fmt: Any, strict: Any) -> None:
    def call() -> None:
        bpfc.assemble(text, fmt=fmt, strict=strict)

    try:
        call()
    except ALLOWED:
        pass


@settings(max_examples=100)
@given(insns=ANYTHING | st.lists(ANYTHING, max_size=3), strict=ANYTHING)
def test_validate_and_program_constructors(insns: Any, strict: Any) -> None:
    for call in (
        lambda: bpfc.validate(insns, strict=strict),
        lambda: bpfc.Program.from_insns(insns, strict=strict),
        lambda: bpfc.Program.from_bytes(insns, strict=strict),
        lambda: bpfc.Program.from_bytes(b"\x06" + bytes(7), byteorder=insns),
    ):
        try:
            call()
        except ALLOWED:
            pass


@settings(max_examples=150)
@given(
    packet=ANYTHING,
    wirelen=ANYTHING,
    linux=ANYTHING,
    meta=st.dictionaries(
        st.sampled_from(["ifindex", "mark", "bogus", "vlan_present"]), ANYTHING, max_size=2
    ),  # fmt: skip
)
def test_program_run_arguments(packet: Any, wirelen: Any, linux: Any, meta: dict) -> None:
    try:
        result = PROGRAM.run(packet, wirelen, linux=linux, **meta)
    except ALLOWED as err:
        if type(err) is TypeError:
            assert any(word in str(err) for word in ("packet", "wirelen", "linux", *meta))
    else:
        assert result in (0, 262144)


@settings(max_examples=60)
@given(fmt=ANYTHING | st.sampled_from(["d", "asm", "c"]), flavor=ANYTHING)
def test_program_dump_and_to_bytes(fmt: Any, flavor: Any) -> None:
    for call in (lambda: PROGRAM.dump(fmt, flavor), lambda: PROGRAM.to_bytes(fmt)):
        try:
            call()
        except ALLOWED:
            pass


@pytest.mark.parametrize("sock", [None, 5, "eth0", object()])
def test_attach_needs_a_socket(sock: Any) -> None:
    with pytest.raises(TypeError, match="sock"):
        PROGRAM.attach(sock)


def test_attach_to_a_real_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        PROGRAM.attach(sock)


@pytest.mark.parametrize(
    ("kwargs", "error", "word"),
    [
        ({"snaplen": "65535"}, TypeError, "snaplen"),
        ({"snaplen": -1}, ValueError, "snaplen"),
        ({"snaplen": 2**32}, ValueError, "snaplen"),
        ({"linktype": None}, TypeError, "linktype"),
        ({"linktype": 2.5}, TypeError, "linktype"),
        ({"netmask": [255, 0, 0, 0]}, TypeError, "netmask"),
        ({"netmask": 2**32}, ValueError, "netmask"),
        ({"netmask": "255.255.0"}, ValueError, "netmask"),
        ({"optimize": "no"}, TypeError, "optimize"),
        ({"resolver": 5}, TypeError, "resolver"),
    ],
)
def test_compile_names_the_wrong_argument(kwargs: dict, error: type, word: str) -> None:
    with pytest.raises(error, match=word):
        bpfc.compile("tcp", **kwargs)
