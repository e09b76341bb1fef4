"""The golden directory on disk: what ``bpfc golden record`` writes and ``bpfc verify`` reads.

::

    DIR/golden.json          format and version, the suite's path (relative to DIR), provenance
    DIR/.gitignore           ignores failures/ (packets written by a failing verify)
    DIR/cases/ID.json        the filter (expression, link type, settings), its verdicts and
                             the sha256 of its three other files
    DIR/cases/ID.d           its optimized program as ``bpfc -d`` prints it
    DIR/cases/ID.O.d         its unoptimized program (``bpfc -O -d``)
    DIR/cases/ID.pcap        the packets (little-endian pcap, the link type of the filter)

An id with a section (``sensors/ssh``) is a file in a subdirectory.  Everything is written
deterministically (sorted JSON, fixed timestamps in the pcap), so recording the same suite
twice gives the same bytes and a code review sees only what changed.  Reading checks every
file (the listings and packets against the checksums in ``ID.json``) and raises
:class:`GoldenFileError`, naming it, on anything missing, malformed or altered: a broken
golden file must never pass, not even as a listing change.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bpfc.errors import BpfcError

FORMAT = "bpfc-golden"
VERSION = 1
INDEX = "golden.json"
CASES = "cases"
FAILURES = "failures"
#: file suffixes of one case, in the order they are written
SUFFIXES = (".json", ".d", ".O.d", ".pcap")


class GoldenFileError(BpfcError, ValueError):
    """A golden file that is missing, truncated or malformed (the message names it)."""


@dataclass
class GoldenCase:
    """One recorded filter: its settings, listings, packets and verdicts."""

    id: str
    expr: str
    linktype: str
    snaplen: int = 262144
    netmask: str | None = None
    linux: bool = False
    listing_opt: str = ""
    listing_unopt: str = ""
    packets: list[tuple[bytes, int]] = field(default_factory=list)
    returns_opt: list[int] = field(default_factory=list)
    returns_unopt: list[int] = field(default_factory=list)
    coverage: dict[str, str] = field(default_factory=dict)
    oracle: dict[str, Any] | None = None
    xfail: str | None = None  # the corpus report reads it; a user suite has no known failures
    group: str = "(suite)"  # the report's group of a case outside any section

    @property
    def topic(self) -> str:
        """The report's grouping: the section, or :attr:`group` outside any."""
        return self.id.split("/", 1)[0] if "/" in self.id else self.group

    @property
    def settings(self) -> tuple[str, str, int, str | None, bool]:
        return (self.expr, self.linktype, self.snaplen, self.netmask, self.linux)

    def meta(self, digests: dict[str, str] | None = None) -> dict[str, Any]:
        """The ``ID.json`` record (``digests``: the other files' sha256, by suffix)."""
        accept = self.snaplen
        out: dict[str, Any] = {
            "id": self.id,
            "expr": self.expr,
            "linktype": self.linktype,
            "snaplen": self.snaplen,
            "netmask": self.netmask,
            "linux": self.linux,
            "packets": len(self.packets),
        }
        for mode, values in (("opt", self.returns_opt), ("unopt", self.returns_unopt)):
            if all(v in (0, accept) for v in values):
                out[f"verdicts_{mode}"] = "".join("1" if v else "0" for v in values)
            else:
                out[f"returns_{mode}"] = list(values)
        out["edges_covered"] = dict(self.coverage)
        if self.oracle is not None:
            out["oracle"] = self.oracle
        if digests is not None:
            out["sha256"] = digests
        return out

    def files(self) -> dict[str, bytes]:
        """Suffix -> the bytes of each of the case's files (``.json`` first)."""
        others = {
            ".d": self.listing_opt.encode("utf-8"),
            ".O.d": self.listing_unopt.encode("utf-8"),
            ".pcap": pcap_bytes(self.linktype, self.snaplen, self.packets),
        }
        digests = {suffix[1:]: digest(data) for suffix, data in others.items()}
        text = json.dumps(self.meta(digests), indent=1, sort_keys=True, ensure_ascii=False)
        return {".json": (text + "\n").encode("utf-8"), **others}


def digest(data: bytes) -> str:
    """sha256 of a golden file; text files with CRLF line ends (a Windows checkout) count
    as with LF, so only a real change of content is a mismatch."""
    import hashlib

    if not data.startswith(b"\xd4\xc3\xb2\xa1"):  # not our pcap: a listing
        data = data.replace(b"\r\n", b"\n")
    return hashlib.sha256(data).hexdigest()


def pcap_bytes(linktype: str, snaplen: int, packets: list[tuple[bytes, int]]) -> bytes:
    """A little-endian microsecond pcap of ``packets``, packet n stamped n seconds."""
    from bpfc.linktypes import lookup

    row = lookup(linktype)
    number = row.linktype if getattr(row, "linktype", None) is not None else row.dlt
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, max(snaplen, 65535), number)]
    for n, (data, wirelen) in enumerate(packets):
        out.append(struct.pack("<IIII", n, 0, len(data), wirelen))
        out.append(data)
    return b"".join(out)


def case_path(root: Path, case_id: str, suffix: str) -> Path:
    return root / CASES / f"{case_id}{suffix}"


def write_file(path: Path, data: bytes) -> bool:
    """Write ``data`` at ``path`` unless it already holds exactly that; True if written.
    The bytes go to a file beside it, renamed over it, so a failed write keeps the old."""
    from bpfc.capture.output import SafeOutput, write_error

    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    out = SafeOutput(str(path))
    try:
        out.file.write(data)
    except OSError as err:
        out.abort()
        raise write_error(str(path), err) from None
    out.commit()
    return True


def write_case(root: Path, case: GoldenCase) -> list[Path]:
    """Write the case's files; the paths of those whose bytes changed."""
    return [
        path
        for suffix, data in case.files().items()
        if write_file(path := case_path(root, case.id, suffix), data)
    ]


def _json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GoldenFileError(f"{path}: missing golden file") from None
    except UnicodeDecodeError as err:
        raise GoldenFileError(f"{path}: not UTF-8 ({err.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise GoldenFileError(
            f"{path}: corrupted golden file (invalid JSON at line {err.lineno}: {err.msg})"
        ) from None


def read_index(root: Path) -> dict[str, Any]:
    """``golden.json``, checked for format and version."""
    path = root / INDEX
    index = _json(path)
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise GoldenFileError(f'{path}: not a bpfc golden index (no "format": "{FORMAT}")')
    version = index.get("version")
    if version != VERSION:
        raise GoldenFileError(
            f"{path}: unknown golden format version {version!r} (this bpfc reads version "
            f"{VERSION}; record the suite again or upgrade bpfc)"
        )
    if not isinstance(index.get("suite"), str):
        raise GoldenFileError(f'{path}: no "suite" path')
    return index


def write_index(root: Path, index: dict[str, Any]) -> bool:
    text = json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    changed = write_file(root / INDEX, text.encode("utf-8"))
    write_file(root / ".gitignore", f"{FAILURES}/\n".encode())
    return changed


def case_ids(root: Path) -> list[str]:
    """The ids of the cases recorded under ``root`` (from their ``.json`` files)."""
    base = root / CASES
    if not base.is_dir():
        return []
    return sorted(
        p.relative_to(base).as_posix().removesuffix(".json") for p in base.rglob("*.json")
    )


def _returns(meta: dict[str, Any], mode: str, accept: int, path: Path) -> list[int]:
    if f"returns_{mode}" in meta:
        values = meta[f"returns_{mode}"]
        if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
            raise GoldenFileError(f"{path}: returns_{mode} is not a list of numbers")
        return values
    text = meta.get(f"verdicts_{mode}")
    if not isinstance(text, str) or set(text) - {"0", "1"}:
        raise GoldenFileError(f"{path}: verdicts_{mode} missing or not a string of 0 and 1")
    return [accept if ch == "1" else 0 for ch in text]


def read_case(root: Path, case_id: str) -> GoldenCase:
    """Load one case, checking its files agree with each other."""
    from bpfc.capture import read_packets

    meta_path = case_path(root, case_id, ".json")
    meta = _json(meta_path)
    if not isinstance(meta, dict):
        raise GoldenFileError(f"{meta_path}: corrupted golden file (not a JSON object)")
    try:
        case = GoldenCase(
            id=meta["id"],
            expr=meta["expr"],
            linktype=meta["linktype"],
            snaplen=int(meta["snaplen"]),
            netmask=meta["netmask"],
            linux=bool(meta["linux"]),
            coverage=dict(meta.get("edges_covered", {})),
            oracle=meta.get("oracle"),
        )
        count = int(meta["packets"])
    except (KeyError, TypeError, ValueError) as err:
        raise GoldenFileError(
            f"{meta_path}: corrupted golden file ({type(err).__name__}: {err})"
        ) from None
    if case.id != case_id:
        raise GoldenFileError(f"{meta_path}: holds case {case.id!r}, not {case_id!r}")
    case.returns_opt = _returns(meta, "opt", case.snaplen, meta_path)
    case.returns_unopt = _returns(meta, "unopt", case.snaplen, meta_path)
    digests = meta.get("sha256")
    if not isinstance(digests, dict):
        raise GoldenFileError(f"{meta_path}: corrupted golden file (no sha256 of its files)")
    for suffix in (".d", ".O.d", ".pcap"):
        path = case_path(root, case_id, suffix)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise GoldenFileError(f"{path}: missing golden file") from None
        if digest(data) != digests.get(suffix[1:]):
            raise GoldenFileError(
                f"{path}: corrupted or edited by hand (its sha256 is not the one "
                f"{meta_path.name} records); record it again"
            )
        if suffix == ".pcap":
            break
        try:
            text = data.decode("utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError as err:
            raise GoldenFileError(f"{path}: not UTF-8 ({err.reason})") from None
        if suffix == ".d":
            case.listing_opt = text
        else:
            case.listing_unopt = text
    pcap = case_path(root, case_id, ".pcap")
    try:
        case.packets = [(rec[5], rec[2]) for rec in read_packets(pcap)]
    except (BpfcError, ValueError, OSError) as err:
        raise GoldenFileError(f"{pcap}: corrupted packet file ({err})") from None
    if not count == len(case.packets) == len(case.returns_opt) == len(case.returns_unopt):
        raise GoldenFileError(
            f"{meta_path}: corrupted golden files ({count} packets said, {len(case.packets)} "
            f"in {pcap.name}, {len(case.returns_opt)}/{len(case.returns_unopt)} verdicts)"
        )
    return case


def is_golden_dir(root: Path) -> bool:
    return (root / INDEX).is_file()


def suite_path(root: Path, index: dict[str, Any]) -> Path:
    """Where the index says the suite is (relative paths are relative to ``root``)."""
    return Path(os.path.normpath(root / index["suite"]))
