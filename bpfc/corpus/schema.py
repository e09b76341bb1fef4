"""The corpus on disk: layout, the case record, and loading/saving it.

Layout (``corpus/``; see corpus/README.md)::

    meta.json               libpcap version string, generation date, counts
    topics/<topic>.txt      the expressions, written by hand (input of regeneration)
    expected/<topic>.jsonl  per case: libpcap's listings and verdicts (regenerated only)
    golden/<topic>.jsonl    per case: bpfc's own listings (rewritten by --update-golden only)
    packets/<group>.pcap    packet sets shared by all cases of a topic and link type
    excluded.jsonl          expressions left out, with the reason
    known_failures.txt      ``<case id>  <reason>``: cases where bpfc knowingly differs

JSON Lines with listings as arrays of lines keep diffs to one case per line; listing
lines are stored compacted (see :func:`compact`).  Verdicts
are one character per packet of the group's capture file: ``1`` when libpcap returned
the case's ``accept`` value, ``0`` when it returned 0 (other values go in ``returns``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Case:
    """One expression on one link type, with everything libpcap said about it."""

    id: str
    expr: str
    linktype: str
    packets: str
    verdicts: str
    libpcap_opt: tuple[str, ...]
    libpcap_unopt: tuple[str, ...]
    snaplen: int = 262144
    netmask: str | None = None
    accept: int = 262144
    returns: tuple[int, ...] | None = None
    #: the unoptimized program's values, when they differ (a load past the end of a
    #: truncated packet that the optimizer removed or moved)
    returns_unopt: tuple[int, ...] | None = None
    xfail: str | None = field(default=None, compare=False)

    @property
    def topic(self) -> str:
        return self.id.split("/", 1)[0]

    def expected(self, mode: str = "opt") -> list[int]:
        """libpcap's return value for each packet of the group, in file order, from its
        optimized (``opt``) or unoptimized (``unopt``) program."""
        if mode == "unopt" and self.returns_unopt is not None:
            return list(self.returns_unopt)
        if self.returns is not None:
            return list(self.returns)
        return [self.accept if ch == "1" else 0 for ch in self.verdicts]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "expr": self.expr, "linktype": self.linktype}
        if self.snaplen != 262144:
            out["snaplen"] = self.snaplen
        if self.netmask is not None:
            out["netmask"] = self.netmask
        out["packets"] = self.packets
        out["accept"] = self.accept
        if self.returns is not None:
            out["returns"] = list(self.returns)
        else:
            out["verdicts"] = self.verdicts
        if self.returns_unopt is not None:
            text, values = encode_verdicts(self.returns_unopt, self.accept)
            if values is None:
                out["verdicts_unopt"] = text
            else:
                out["returns_unopt"] = list(values)
        out["libpcap_opt"] = list(self.libpcap_opt)
        out["libpcap_unopt"] = list(self.libpcap_unopt)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any], xfail: str | None = None) -> Case:
        returns, unopt = obj.get("returns"), obj.get("returns_unopt")
        accept = obj.get("accept", 262144)
        if "verdicts_unopt" in obj:
            unopt = [accept if ch == "1" else 0 for ch in obj["verdicts_unopt"]]
        return cls(
            id=obj["id"],
            expr=obj["expr"],
            linktype=obj["linktype"],
            packets=obj["packets"],
            verdicts=obj.get("verdicts", ""),
            libpcap_opt=tuple(obj["libpcap_opt"]),
            libpcap_unopt=tuple(obj["libpcap_unopt"]),
            snaplen=obj.get("snaplen", 262144),
            netmask=obj.get("netmask"),
            accept=accept,
            returns=None if returns is None else tuple(returns),
            returns_unopt=None if unopt is None else tuple(unopt),
            xfail=xfail,
        )


def compact(lines: Iterable[str]) -> list[str]:
    """Listing lines as the corpus stores them: ``-d`` text without the ``(NNN)`` line
    number and with each run of blanks made one space (``jeq #0x800 jt 2 jf 4``), so the
    1.10.3 and master spellings (trailing blanks) compare equal and files stay small."""
    return [" ".join(line.split()[1:]) for line in lines if line.strip()]


def encode_verdicts(values: Sequence[int], accept: int) -> tuple[str, tuple[int, ...] | None]:
    """``(verdicts, returns)`` for a case: the compact string when every value is 0 or
    ``accept``, else an empty string and the values themselves."""
    if all(v in (0, accept) for v in values):
        return "".join("1" if v else "0" for v in values), None
    return "", tuple(values)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{lineno}: invalid JSON ({err.msg})") from None
    return out


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` whole or not at all: into a file beside ``path``, renamed over it at
    the end, so a failed rewrite (``--update-golden`` on a full disk) keeps the old file."""
    from bpfc.capture.output import SafeOutput, write_error

    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    out = SafeOutput(str(path))
    try:
        out.file.write(text.encode("utf-8"))
    except OSError as err:
        out.abort()
        raise write_error(str(path), err) from None
    out.commit()


def read_known_failures(path: Path) -> dict[str, str]:
    """``known_failures.txt``: ``<case id> <reason>`` lines, ``#`` comments."""
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                case_id, _, reason = line.partition(" ")
                out[case_id] = reason.strip() or "known failure"
    return out


@dataclass
class Corpus:
    """A loaded corpus directory: cases, bpfc golden listings and (lazily) packet sets."""

    root: Path
    meta: dict[str, Any]
    cases: list[Case]
    golden: dict[str, dict[str, list[str]]]
    _packets: dict[str, list[tuple[bytes, int]]] = field(default_factory=dict, repr=False)

    def packets(self, group: str) -> list[tuple[bytes, int]]:
        """The ``(data, wirelen)`` records of ``packets/<group>.pcap``, read once."""
        found = self._packets.get(group)
        if found is None:
            from bpfc.capture import read_packets

            path = self.root / "packets" / f"{group}.pcap"
            found = [(rec[5], rec[2]) for rec in read_packets(path)]
            self._packets[group] = found
        return found

    def topics(self) -> list[str]:
        return sorted({c.topic for c in self.cases})


def load(root: Path | str) -> Corpus:
    """Load the corpus in ``root`` (raises ValueError naming what is missing or broken)."""
    root = Path(root)
    expected = root / "expected"
    if not expected.is_dir():
        raise ValueError(f"{root}: not a bpfc corpus (no expected/ directory)")
    meta_path = root / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    known = read_known_failures(root / "known_failures.txt")
    cases: list[Case] = []
    golden: dict[str, dict[str, list[str]]] = {}
    for path in sorted(expected.glob("*.jsonl")):
        cases += [Case.from_json(obj, known.get(obj["id"])) for obj in read_jsonl(path)]
    for path in sorted((root / "golden").glob("*.jsonl")):
        for obj in read_jsonl(path):
            golden[obj["id"]] = {k: v for k, v in obj.items() if k != "id"}
    return Corpus(root, meta, cases, golden)


def default_root() -> Path:
    """The corpus bpfc verifies by default: ``corpus/`` beside the package (a source tree
    or editable install), else ``./corpus`` (a checkout, with bpfc installed from a wheel)."""
    beside = Path(__file__).resolve().parent.parent.parent / "corpus"
    if (beside / "expected").is_dir():
        return beside
    return Path.cwd() / "corpus"
