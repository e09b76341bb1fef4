"""The front-end differential: one expression on one link type, bpfc against libpcap master.

Shared by tests/differential/test_front_end.py and tools/front_end_differential.py.  For a
:class:`grammar_gen.Case` it compiles with libpcap master (in a :class:`CompileWorker`
child, so a crash or hang in the library is a finding, not the end of the run) and with
bpfc (optimizer on, netmask unknown, snaplen 262144: filtertest's defaults), and sorts the
outcome into one category:

* ``agree-accept`` / ``agree-reject``: same verdict on every packet / the same whole
  message (bpfc's ``str(err)`` against ``pcap_geterr``);
* ``accept-reject``: one compiles, the other refuses;
* ``message``: both refuse, with different text;
* ``verdict``: both compile, some packet gets different return values (the targeted
  packets for the expression plus packets steered by master's program);
* ``bpfc-crash`` / ``libpcap-crash``: an exception that is not a compile error, or the
  library's child died;
* ``master-opt``: some verdict differs from master's optimized program but none from its
  unoptimized one (bpfc's program is right; master's optimizer is not: counted apart).

libpcap 1.10.3 (the system library) is asked too when given: its answer is reported beside
master's, since where it agrees with master the two are the meaning twice over.  Names
resolve the same on both sides: from the upstream suite's fixtures (:func:`upstream_names`:
a ``StaticResolver`` for bpfc, private ``/etc`` files for the libpcap children) or, where
that cannot be arranged, from the system's own files, which both read.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpfc import libpcap
from bpfc.packetgen import Packet, packet_set
from support.grammar_gen import Case

SNAPLEN = 262144
CATEGORIES = (
    "accept-reject",
    "message",
    "verdict",
    "bpfc-crash",
    "libpcap-crash",
    "master-opt",
    "agree-accept",
    "agree-reject",
)
DISAGREEMENTS = CATEGORIES[:5]
ALLOWED = Path(__file__).with_name("front_end_allowed.txt")


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\b(0x[0-9a-fA-F]+|\d+)\b")
_DLT = re.compile(r"DLT_\w+( \(.*\))?")


def shape(text: str) -> str:
    """A message with its particulars (quoted words, numbers, link types) blanked: two
    messages of one shape are the same error worded for different particulars."""
    text = _DLT.sub(lambda m: "DLT_*" + (" (*)" if m.group(1) else ""), text)
    return _NUMBER.sub("N", _QUOTED.sub("'*'", text))


@dataclass
class Outcome:
    """What happened to one case; ``ours``/``master``/``system`` are ``"compiles"`` or the
    error text (``system`` is None when 1.10.3 was not asked)."""

    case: Case
    category: str
    ours: str
    master: str
    system: str | None = None
    detail: str = ""

    @property
    def text(self) -> str:
        """``LINKTYPE | EXPR | bpfc: MSG | master: MSG``: what allow-list patterns match.
        Message differences end in `` | same-kind`` when the two differ only in particulars
        (a wording difference), `` | other-kind`` when they are different errors; verdict
        differences in `` | `` and the first packet that tells them apart."""
        text = (
            f"{self.case.linktype} | {self.case.expr} | bpfc: {self.ours} | master: {self.master}"
        )
        if self.category == "message":
            same = shape(self.ours) == shape(self.master)
            text += " | same-kind" if same else " | other-kind"
        elif self.detail:
            text += f" | {self.detail}"
        return text

    def __str__(self) -> str:
        also = "" if self.system is None else f"\n    1.10.3: {self.system}"
        detail = f"\n    {self.detail}" if self.detail else ""
        return (
            f"[{self.category}] {self.case.linktype} {self.case.expr!r}"
            f"\n    bpfc:   {self.ours}\n    master: {self.master}{also}{detail}"
        )


@dataclass(frozen=True)
class Names:
    """Name-service fixtures both compilers see: bpfc through a ``StaticResolver``, libpcap
    through private ``/etc`` files in its child (``CompileWorker(etc=...)``)."""

    hosts: tuple[str, ...]
    ethers: tuple[str, ...]
    networks: tuple[str, ...]
    unknown: tuple[str, ...] = ()

    def etc(self) -> dict[str, str]:
        return {
            "hosts": "".join(f"{line}\n" for line in self.hosts),
            "ethers": "".join(f"{line}\n" for line in self.ethers),
            "networks": "".join(f"{line}\n" for line in self.networks),
        }

    def resolver(self) -> Any:
        from bpfc.names import StaticResolver

        return StaticResolver(self.hosts, self.ethers, self.networks)

    def pools(self) -> dict[str, list[str]]:
        """Names to draw: hosts, ethers and networks that resolve, and ones that do not."""
        return {
            "hosts": sorted({w for line in self.hosts for w in line.split()[1:]}),
            "ethers": sorted({line.split()[1] for line in self.ethers if len(line.split()) > 1}),
            "networks": sorted({line.split()[0] for line in self.networks if line.split()}),
            "unknown": list(self.unknown),
        }


UPSTREAM = Path(
    os.environ.get(
        "BPFC_UPSTREAM",
        Path(__file__).resolve().parents[3] / "shared" / "corpus-upstream",
    )
)


def upstream_names() -> tuple[Names | None, str]:
    """The upstream test suite's hosts/ethers/networks fixtures, or (None, why not): the
    suite's data is absent, or the libpcap child cannot be given its own ``/etc``."""
    aux = UPSTREAM / "libpcap-filtertests-aux.json"
    if not aux.is_file():
        return None, f"no {aux}"
    why = libpcap.etc_overlay_error()
    if why is not None:
        return None, why
    fixtures = json.loads(aux.read_text())["name_service_fixtures"]
    unknown = tuple(str(n) for n in fixtures.get("nonexistent_host", ()) if isinstance(n, str))
    names = Names(
        tuple(fixtures["hosts"]), tuple(fixtures["ethers"]), tuple(fixtures["networks"]), unknown
    )
    return names, ""


def _bpfc(expr: str, linktype: str, resolver: Any = None) -> tuple[list | None, str]:
    """(program, "compiles") or (None, bpfc's message); other exceptions propagate."""
    import bpfc
    from bpfc.errors import CompileError

    try:
        prog = bpfc.compile(
            expr, linktype=linktype, snaplen=SNAPLEN, optimize=True, resolver=resolver
        )
    except CompileError as err:
        return None, str(err)
    return [tuple(i) for i in prog], "compiles"


def _library(worker: libpcap.CompileWorker, expr: str, linktype: str) -> tuple[list | None, str]:
    try:
        prog = worker.compile(expr, linktype, SNAPLEN, True)
    except libpcap.LibpcapCrash:
        raise
    except libpcap.LibpcapError as err:
        return None, err.message
    return [tuple(i) for i in prog], "compiles"


class FrontEnd:
    """The two (or three) compilers and the packet runner, kept alive across cases."""

    def __init__(
        self,
        master_path: str | Path,
        system: bool = True,
        steered: int = 24,
        names: Names | None = None,
    ) -> None:
        etc = None if names is None else names.etc()
        self.master_lib = libpcap.library(master_path)
        self.master = libpcap.CompileWorker(master_path, etc=etc)
        self.system = (
            libpcap.CompileWorker(None, etc=etc) if system and libpcap.available() else None
        )
        self.resolver = None if names is None else names.resolver()
        self.steered = steered

    def close(self) -> None:
        self.master.close()
        if self.system is not None:
            self.system.close()

    def __enter__(self) -> FrontEnd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def compare(self, case: Case, seed: int = 0) -> Outcome:
        expr, linktype = case.expr, case.linktype
        try:
            ref, ref_text = _library(self.master, expr, linktype)
        except libpcap.LibpcapCrash as err:
            return Outcome(case, "libpcap-crash", "?", str(err))
        sys_text = None
        if self.system is not None:
            try:
                sys_text = _library(self.system, expr, linktype)[1]
            except libpcap.LibpcapCrash as err:
                sys_text = f"crash: {err}"
        try:
            ours, our_text = _bpfc(expr, linktype, self.resolver)
        except Exception as err:  # noqa: BLE001 - any escape is a bpfc bug to report
            last = traceback.format_exception_only(err)[-1].strip()
            return Outcome(case, "bpfc-crash", last, ref_text, sys_text)
        if (ours is None) != (ref is None):
            return Outcome(case, "accept-reject", our_text, ref_text, sys_text)
        if ours is None:
            category = "agree-reject" if our_text == ref_text else "message"
            return Outcome(case, category, our_text, ref_text, sys_text)
        assert ref is not None
        packets = self._packets(expr, linktype, ref, seed)
        detail = self._differ(ours, ref, packets)
        if not detail:
            return Outcome(case, "agree-accept", our_text, ref_text, sys_text)
        # master's optimizer has known bugs: bpfc agreeing with master's own unoptimized
        # program where master's optimized one differs is master's fault, not bpfc's
        try:  # in the worker: it resolves the fixture names
            unopt = [tuple(i) for i in self.master.compile(expr, linktype, SNAPLEN, False)]
        except libpcap.LibpcapError:
            unopt = None
        if unopt is not None and not self._differ(ours, unopt, packets):
            return Outcome(case, "master-opt", our_text, ref_text, sys_text, detail)
        return Outcome(case, "verdict", our_text, ref_text, sys_text, detail)

    def _packets(self, expr: str, linktype: str, ref: list, seed: int) -> list[Packet]:
        """The targeted packets for ``expr`` plus packets steered by master's program (none
        for a link type the packet generator cannot frame)."""
        try:
            return packet_set(expr, linktype, [ref], seed=seed, steered=self.steered)
        except (ValueError, KeyError, NotImplementedError):
            return []

    def _differ(self, ours: list, ref: list, packets: list[Packet]) -> str:
        """ "" when every packet gets the same return value, else the first difference."""
        from bpfc.vm import make_filter

        # one interpreter for both programs where it is safe (master's bpf_filter): the
        # question here is the programs; bpfc.vm is checked against libpcap elsewhere
        try:
            run_ours = self.master_lib.make_bpf_filter(ours)
            run_ref = self.master_lib.make_bpf_filter(ref)
        except libpcap.LibpcapError:
            run_ours, run_ref = make_filter(ours), make_filter(ref)
        for pkt in packets:
            a, b = run_ours(pkt.data, pkt.wirelen), run_ref(pkt.data, pkt.wirelen)
            if a != b:
                return (
                    f"packet [{pkt.label}] {pkt.data.hex()} (wirelen {pkt.wirelen}): "
                    f"bpfc {a}, master {b}"
                )
        return ""


@dataclass(frozen=True)
class Allowance:
    """One allow-list line: disagreements of ``category`` whose :meth:`Outcome.text`
    matches ``pattern`` (``re.search``) are known, for ``reason``."""

    category: str
    pattern: re.Pattern[str]
    reason: str

    def allows(self, outcome: Outcome) -> bool:
        return outcome.category == self.category and bool(self.pattern.search(outcome.text))


def load_allowed(path: Path = ALLOWED) -> list[Allowance]:
    """The allow-list: ``category<TAB>regex<TAB>reason`` lines (``#`` comments and blank
    lines ignored).  The regex is searched in ``LINKTYPE | EXPR | bpfc: MSG | master: MSG``."""
    allowed: list[Allowance] = []
    if not path.exists():
        return allowed
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] not in DISAGREEMENTS or not fields[2].strip():
            raise ValueError(f"{path.name}:{number}: want category<TAB>regex<TAB>reason")
        allowed.append(Allowance(fields[0], re.compile(fields[1]), fields[2].strip()))
    return allowed


def allowance(outcome: Outcome, allowed: list[Allowance]) -> Allowance | None:
    """The first allow-list entry covering ``outcome`` (None: not allowed)."""
    return next((a for a in allowed if a.allows(outcome)), None)


def master_linktypes(master: libpcap.Libpcap) -> list[str]:
    """bpfc's link-type names that master's ``pcap_datalink_name_to_val`` knows."""
    from support.grammar_gen import shared_linktypes

    def known(name: str) -> bool:
        try:
            master.dlt_value(name)
        except libpcap.LibpcapError:
            return False
        return True

    return shared_linktypes(known)


def run(
    master_path: str | Path,
    count: int,
    seed: int,
    *,
    system: bool = True,
    steered: int = 24,
    names: Names | None = None,
) -> Iterator[Outcome]:
    """Generate ``count`` cases from ``seed`` over every shared link type and compare each
    (with ``names``: drawing names from those fixtures, which both compilers then see;
    without: names from the system's hosts file, which both read)."""
    from support.grammar_gen import Generator

    linktypes = master_linktypes(libpcap.library(master_path))
    generator = Generator(seed, linktypes, names=None if names is None else names.pools())
    with FrontEnd(master_path, system=system, steered=steered, names=names) as front_end:
        for index, case in enumerate(generator.cases(count)):
            yield front_end.compare(case, seed=seed * 1_000_003 + index)
