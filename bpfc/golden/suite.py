"""The suite format: filters written by hand, one per line, with their compile settings.

::

    # a comment: from '#' to the end of the line ('#' is no pcap-filter token)
    @linktype EN10MB            a setting on its own line holds until the section ends
    @snaplen 262144             (the defaults: EN10MB, 262144, netmask none, linux off)
    web: tcp port 80 or tcp port 443          a named filter: its id is "web"
    udp port 53 @linktype=LINUX_SLL,RAW       settings for this line only; unnamed: "001"

    [sensors]                   a section: ids become "sensors/NAME"; settings start again
    @linux on                   from those in force before the first section
    ssh: tcp port 22

Keys: ``linktype`` (one name or number, or several: one case per link type, ids
``NAME@LINKTYPE``), ``snaplen``, ``netmask`` (dotted quad or ``none``), ``linux``
(``on``/``off``: compile for a live Linux socket).  An unnamed filter's name is its ordinal
in the section (``000``, ``001``...), so naming filters keeps ids stable when lines move.
Every mistake raises :class:`SuiteError` naming the file, line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from bpfc.errors import BpfcError

DEFAULT_SNAPLEN = 262144
_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_.+-]*):(?=\s|$)")
_SECTION = re.compile(r"\[\s*([A-Za-z_][A-Za-z0-9_.+-]*)\s*\]\s*$")
_DIRECTIVE = re.compile(r"@([A-Za-z_]\w*)(?:\s*=\s*|\s+|$)(.*)$")
_INLINE = re.compile(r"\s@(?=[A-Za-z_]\w*=)")
_TRUE = {"on", "yes", "true", "1"}
_FALSE = {"off", "no", "false", "0"}


class SuiteError(BpfcError, ValueError):
    """A malformed suite: ``FILE:LINE:COLUMN: message`` (column 1-based)."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column, self.message = path, line, column, message


@dataclass(frozen=True)
class Settings:
    """How a filter is compiled: ``bpfc.compile``'s arguments other than the expression."""

    linktypes: tuple[str, ...] = ("EN10MB",)
    snaplen: int = DEFAULT_SNAPLEN
    netmask: str | None = None
    linux: bool = False


@dataclass(frozen=True)
class Filter:
    """One filter of a suite on one link type, with where it was written."""

    id: str
    expr: str
    linktype: str
    snaplen: int = DEFAULT_SNAPLEN
    netmask: str | None = None
    linux: bool = False
    source: str = "<suite>"
    line: int = 0
    column: int = 1  # where the expression starts on its line

    def at(self, offset: int | None) -> str:
        """``FILE:LINE:COLUMN`` of character ``offset`` of the expression (None: its start)."""
        return f"{self.source}:{self.line}:{self.column + (offset or 0)}"

    @property
    def section(self) -> str:
        """The section (``""`` outside any): the first part of a sectioned id."""
        return self.id.split("/", 1)[0] if "/" in self.id else ""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def apply_setting(
    settings: Settings, key: str, value: str, where: tuple[str, int, int], inline: bool
) -> Settings:
    """``settings`` with ``key`` set from its text ``value`` (errors point at ``where``)."""
    from bpfc.linktypes import lookup

    path, line, col = where
    if key == "linktype":
        names = [v for v in re.split(r"[\s,]+", value) if v]
        if not names:
            raise SuiteError(path, line, col, "@linktype needs a link type name")
        out = []
        for name in names:
            try:
                out.append(lookup(name).name)
            except ValueError:
                raise SuiteError(path, line, col, f"unknown link type '{name}'") from None
        return replace(settings, linktypes=tuple(dict.fromkeys(out)))
    if key == "snaplen":
        if value == "default":
            return replace(settings, snaplen=DEFAULT_SNAPLEN)
        if not value.isdigit() or not 0 < int(value) < 2**31:
            raise SuiteError(path, line, col, f"bad snaplen '{value}' (a positive number)")
        return replace(settings, snaplen=int(value))
    if key == "netmask":
        if value in ("", "none"):
            return replace(settings, netmask=None)
        parts = value.split(".")
        if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
            raise SuiteError(path, line, col, f"bad netmask '{value}' (a dotted quad or none)")
        return replace(settings, netmask=value)
    if key == "linux":
        if value.lower() in _TRUE:
            return replace(settings, linux=True)
        if value.lower() in _FALSE:
            return replace(settings, linux=False)
        raise SuiteError(path, line, col, f"bad linux setting '{value}' (on or off)")
    form = "@KEY=VALUE" if inline else "@KEY VALUE"
    raise SuiteError(
        path, line, col, f"unknown setting '@{key}' ({form}; keys: linktype snaplen netmask linux)"
    )


def parse_suite(text: str, path: str = "<suite>") -> list[Filter]:
    """The filters ``text`` describes, in order (raises :class:`SuiteError`)."""
    top = Settings()
    settings = top
    section = ""
    in_section = False
    ordinal = 0
    out: list[Filter] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        indent = len(raw) - len(raw.lstrip())
        line = raw.split("#", 1)[0].strip()  # '#' is no pcap-filter token: a comment
        if not line:
            continue
        if line.startswith("["):
            match = _SECTION.match(line)
            if not match:
                raise SuiteError(
                    path, lineno, indent + 1, "bad section header (write [NAME], NAME a word)"
                )
            section, settings, ordinal, in_section = match.group(1), top, 0, True
            continue
        if line.startswith("@"):
            match = _DIRECTIVE.match(line)
            if not match:
                raise SuiteError(path, lineno, indent + 1, "bad setting (write @KEY VALUE)")
            key, value = match.group(1), match.group(2)
            settings = apply_setting(
                settings, key, value.strip(), (path, lineno, indent + 1), False
            )
            if not in_section:
                top = settings
            continue
        col = indent + 1
        name = None
        match = _NAME.match(line)
        if match:
            name = match.group(1)
            rest = line[match.end() :]
            col += match.end() + len(rest) - len(rest.lstrip())
            line = rest.strip()
        pieces = _INLINE.split(" " + line)
        expr = pieces[0].strip()
        if not expr:
            raise SuiteError(
                path, lineno, col, "no filter expression" + (" after the name" if name else "")
            )
        local = settings
        offset = col + len(pieces[0])  # column of the first inline '@'
        for piece in pieces[1:]:
            body = piece.rstrip()
            key, _, value = body.partition("=")
            if not value or " " in value.strip():
                raise SuiteError(
                    path, lineno, offset, f"bad inline setting '@{body}' (write @KEY=VALUE)"
                )
            local = apply_setting(local, key, value.strip(), (path, lineno, offset), True)
            offset += len(piece) + 2
        base = name if name is not None else f"{ordinal:03d}"
        ordinal += 1
        base = f"{section}/{base}" if section else base
        for linktype in local.linktypes:
            fid = base if len(local.linktypes) == 1 else f"{base}@{linktype}"
            if fid in seen:
                raise SuiteError(
                    path,
                    lineno,
                    indent + 1,
                    f"duplicate filter id '{fid}' (first on line {seen[fid]})",
                )
            seen[fid] = lineno
            out.append(
                Filter(
                    fid,
                    expr,
                    linktype,
                    local.snaplen,
                    local.netmask,
                    local.linux,
                    path,
                    lineno,
                    col,
                )
            )
    return out


def load_suite(path: str | Path) -> list[Filter]:
    """Parse the suite file at ``path`` (its name appears in every error)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SuiteError(str(path), 1, 1, f"not UTF-8 text ({err.reason})") from None
    return parse_suite(text.removeprefix("\ufeff"), str(path))
