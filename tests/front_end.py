"""The front-end differential: one expression on one link type, bpfc against libpcap master.

Shared by tests/test_front_end_differential.py and tools/front_end_differential.py.  For a
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
  library's child died.

libpcap 1.10.3 (the system library) is asked too when given: its answer is reported beside
master's, since where it agrees with master the two are the meaning twice over.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grammar_gen import Case

from bpfc import libpcap
from bpfc.packetgen import packet_set

SNAPLEN = 262144
CATEGORIES = (
    "accept-reject",
    "message",
    "verdict",
    "bpfc-crash",
    "libpcap-crash",
    "agree-accept",
    "agree-reject",
)
DISAGREEMENTS = CATEGORIES[:5]
ALLOWED = Path(__file__).with_name("front_end_allowed.txt")


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
    def key(self) -> tuple[str, str, str]:
        """(category, link type, expression): what the allow-list names."""
        return (self.category, self.case.linktype, self.case.expr)

    def __str__(self) -> str:
        also = "" if self.system is None else f"\n    1.10.3: {self.system}"
        detail = f"\n    {self.detail}" if self.detail else ""
        return (
            f"[{self.category}] {self.case.linktype} {self.case.expr!r}"
            f"\n    bpfc:   {self.ours}\n    master: {self.master}{also}{detail}"
        )


def _bpfc(expr: str, linktype: str) -> tuple[list | None, str]:
    """(program, "compiles") or (None, bpfc's message); other exceptions propagate."""
    import bpfc
    from bpfc.errors import CompileError

    try:
        prog = bpfc.compile(expr, linktype=linktype, snaplen=SNAPLEN, optimize=True)
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

    def __init__(self, master_path: str | Path, system: bool = True, steered: int = 24) -> None:
        self.master_lib = libpcap.library(master_path)
        self.master = libpcap.CompileWorker(master_path)
        self.system = libpcap.CompileWorker(None) if system and libpcap.available() else None
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
            ours, our_text = _bpfc(expr, linktype)
        except Exception as err:  # noqa: BLE001 - any escape is a bpfc bug to report
            last = traceback.format_exception_only(err)[-1].strip()
            return Outcome(case, "bpfc-crash", last, ref_text, sys_text)
        if (ours is None) != (ref is None):
            return Outcome(case, "accept-reject", our_text, ref_text, sys_text)
        if ours is None:
            category = "agree-reject" if our_text == ref_text else "message"
            return Outcome(case, category, our_text, ref_text, sys_text)
        assert ref is not None
        detail = self._verdicts(expr, linktype, ours, ref, seed)
        category = "verdict" if detail else "agree-accept"
        return Outcome(case, category, our_text, ref_text, sys_text, detail)

    def _verdicts(self, expr: str, linktype: str, ours: list, ref: list, seed: int) -> str:
        """ "" when every packet gets the same return value, else the first difference."""
        from bpfc.vm import make_filter

        try:
            packets = packet_set(expr, linktype, [ref], seed=seed, steered=self.steered)
        except Exception as err:  # noqa: BLE001 - no packets for this link type: compare none
            return "" if isinstance(err, (ValueError, KeyError, NotImplementedError)) else str(err)
        run_ours = make_filter(ours)
        try:
            run_ref = self.master_lib.make_bpf_filter(ref)
        except libpcap.LibpcapError:
            run_ref = make_filter(ref)
        for pkt in packets:
            a, b = run_ours(pkt.data, pkt.wirelen), run_ref(pkt.data, pkt.wirelen)
            if a != b:
                return (
                    f"packet [{pkt.label}] {pkt.data.hex()} (wirelen {pkt.wirelen}): "
                    f"bpfc {a}, master {b}"
                )
        return ""


def load_allowed(path: Path = ALLOWED) -> dict[tuple[str, str, str], str]:
    """The allow-list: ``category<TAB>linktype<TAB>expression<TAB>reason`` lines (``#``
    comments, blank lines ignored); maps (category, linktype, expression) to the reason."""
    allowed: dict[tuple[str, str, str], str] = {}
    if not path.exists():
        return allowed
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, linktype, expr, reason = line.split("\t", 3)
        allowed[(category, linktype, expr)] = reason
    return allowed


def master_linktypes(master: libpcap.Libpcap) -> list[str]:
    """bpfc's link-type names that master's ``pcap_datalink_name_to_val`` knows."""
    from grammar_gen import shared_linktypes

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
) -> Iterator[Outcome]:
    """Generate ``count`` cases from ``seed`` over every shared link type and compare each."""
    from grammar_gen import Generator

    linktypes = master_linktypes(libpcap.library(master_path))
    generator = Generator(seed, linktypes)
    with FrontEnd(master_path, system=system, steered=steered) as front_end:
        for index, case in enumerate(generator.cases(count)):
            yield front_end.compare(case, seed=seed * 1_000_003 + index)
