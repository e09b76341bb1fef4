"""The corpus's input: hand-written topic files of expressions, one per line.

A topic file (``corpus/topics/<topic>.txt``) lists filter expressions under directives
that say which link types they are compiled for::

    # comment
    @linktypes EN10MB LINUX_SLL RAW
    @netmask 255.255.255.0      (or ``none``: PCAP_NETMASK_UNKNOWN, the default)
    @snaplen 96                 (or ``default``: 262144)
    host 10.0.0.1

Every expression line becomes one case per link type in force.  A case's id is
``<topic>/<linktype>/<line index>``, where the index counts expression lines in the file
(so appending expressions never renames existing cases).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SNAPLEN = 262144


@dataclass(frozen=True)
class Source:
    """One expression to compile for one link type, as a topic file asks."""

    topic: str
    index: int
    expr: str
    linktype: str
    netmask: str | None = None
    snaplen: int = DEFAULT_SNAPLEN

    @property
    def id(self) -> str:
        return f"{self.topic}/{self.linktype}/{self.index:03d}"


def parse_topic(topic: str, text: str) -> Iterator[Source]:
    """The sources a topic file's ``text`` describes (errors name the line)."""
    linktypes: list[str] = []
    netmask: str | None = None
    snaplen = DEFAULT_SNAPLEN
    index = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            word, _, rest = line[1:].partition(" ")
            if word == "linktypes":
                linktypes = rest.split()
            elif word == "netmask":
                netmask = None if rest.strip() in ("", "none") else rest.strip()
            elif word == "snaplen":
                text = rest.strip()
                if text != "default" and not text.isdigit():
                    raise ValueError(f"{topic}.txt:{lineno}: bad snaplen '{text}'")
                snaplen = DEFAULT_SNAPLEN if text == "default" else int(text)
            else:
                raise ValueError(f"{topic}.txt:{lineno}: unknown directive '@{word}'")
            continue
        if not linktypes:
            raise ValueError(f"{topic}.txt:{lineno}: expression before any @linktypes line")
        for linktype in linktypes:
            yield Source(topic, index, line, linktype, netmask, snaplen)
        index += 1


def load_topics(directory: Path) -> list[Source]:
    """Every source of every ``*.txt`` topic file in ``directory``, topics in name order."""
    out: list[Source] = []
    for path in sorted(directory.glob("*.txt")):
        out.extend(parse_topic(path.stem, path.read_text(encoding="utf-8")))
    return out
