"""Pull the constants out of a filter expression with a small tokenizer.

The targeted generator plants these values in packets.  This is deliberately not
the real parser: it must work on expressions bpfc cannot compile yet, and on
broken ones, so it only recognises the shapes of addresses, numbers, ranges and
well-known words.  Anything it misreads just yields a few extra packets.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

SERVICES = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
    "bootps": 67, "bootpc": 68, "tftp": 69, "http": 80, "www": 80, "pop3": 110,
    "sunrpc": 111, "ntp": 123, "netbios-ns": 137, "snmp": 161, "bgp": 179, "https": 443,
    "isakmp": 500, "syslog": 514, "rip": 520, "nfs": 2049, "ipsec-nat-t": 4500,
    "vxlan": 4789, "geneve": 6081,
}  # fmt: skip

_TOKEN = re.compile(
    r"""(?P<ip6>[0-9a-fA-F]*:[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:/\d+)?)
      | (?P<mac>[0-9a-fA-F]{1,2}(?:[:-][0-9a-fA-F]{1,2}){5}
               | [0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4})
      | (?P<ip4>\d+\.\d+(?:\.\d+){0,2}(?:/\d+)?)
      | (?P<range>\d+-\d+)
      | (?P<num>0[xX][0-9a-fA-F]+|\d+)
      | (?P<word>[A-Za-z_\\][A-Za-z0-9_.\\-]*)""",
    re.VERBOSE,
)


@dataclass
class Constants:
    """What the tokenizer found, by kind, in order of appearance (duplicates dropped)."""

    nets4: list[ipaddress.IPv4Network] = field(default_factory=list)
    nets6: list[ipaddress.IPv6Network] = field(default_factory=list)
    macs: list[bytes] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        """Numbers that could be ports, plus the ports of known service names."""
        found = [n for n in self.numbers if 0 <= n <= 0xFFFF]
        found += [SERVICES[w] for w in self.words if w in SERVICES]
        return list(dict.fromkeys(found))


def _add(seq: list, item) -> None:
    if item not in seq:
        seq.append(item)


def _ip4(text: str) -> ipaddress.IPv4Network | None:
    """IPv4 text in libpcap's forms: full, abbreviated (``10.1``), with ``/len``."""
    addr, _, plen = text.partition("/")
    parts = addr.split(".")
    if len(parts) > 4 or not plen.isdigit() and plen:
        return None
    if any(not p.isdigit() or int(p) > 255 for p in parts):
        return None
    octets = [int(p) for p in parts] + [0] * (4 - len(parts))
    length = int(plen) if plen else 8 * len(parts)
    if length > 32:
        return None
    return ipaddress.IPv4Network((bytes(octets), length), strict=False)


def _ip6(text: str) -> ipaddress.IPv6Network | None:
    try:
        return ipaddress.IPv6Network(text if "/" in text else text + "/128", strict=False)
    except ValueError:
        return None


def _mac(text: str) -> bytes | None:
    if "." in text:
        return bytes.fromhex(text.replace(".", ""))
    parts = re.split("[:-]", text)
    return bytes(int(p, 16) for p in parts)


def extract(expr: str, names: Mapping[str, Sequence[str]] | None = None) -> Constants:
    """The constants of ``expr``; a following ``mask a.b.c.d`` narrows the previous network.

    ``names`` maps host/network/ether names (lowercase) to the address texts they stand
    for (see :func:`names_from_fixtures`), so named hosts get targeted packets too.

    >>> c = extract("net 10.1/16 and port 53 or portrange 1000-1002 and ether host 0:1:2:3:4:5")
    >>> c.nets4, c.ranges, c.macs[0].hex()
    ([IPv4Network('10.1.0.0/16')], [(1000, 1002)], '000102030405')
    """
    out = Constants()
    pending_mask = False
    for m in _TOKEN.finditer(expr):
        kind, text = m.lastgroup, m.group()
        if kind == "ip4":
            net = _ip4(text)
            if net is None:
                continue
            if pending_mask and out.nets4:
                try:
                    base = out.nets4.pop()
                    out.nets4.append(ipaddress.IPv4Network(f"{base.network_address}/{text}", False))
                except ValueError:
                    out.nets4.append(base)
            else:
                _add(out.nets4, net)
            if not pending_mask and "/" not in text and len(text.split(".")) == 4:
                _add(out.nets4, ipaddress.IPv4Network(text))
        elif kind == "ip6":
            net = _ip6(text)
            if net is not None:
                _add(out.nets6, net)
            elif (mac := _mac_try(text)) is not None:
                _add(out.macs, mac)
        elif kind == "mac":
            _add(out.macs, _mac(text))
        elif kind == "range":
            lo, hi = (int(x) for x in text.split("-"))
            _add(out.ranges, (lo, hi))
        elif kind == "num":
            _add(out.numbers, _number(text))
        else:
            word = text.lower().lstrip("\\")
            _add(out.words, word)
            for addr in (names or {}).get(word, ()):
                _plant_name(out, addr)
        pending_mask = kind == "word" and text.lower() == "mask"
    return out


def _plant_name(out: Constants, addr: str) -> None:
    """Add the address a name resolved to, whatever its family."""
    if (net := _ip4(addr)) is not None and addr.count(".") == 3:
        _add(out.nets4, net if net.prefixlen < 32 else ipaddress.IPv4Network(addr))
    elif (mac := _mac_try(addr)) is not None:
        _add(out.macs, mac)
    elif (net6 := _ip6(addr)) is not None:
        _add(out.nets6, net6)


def names_from_fixtures(
    hosts: Iterable[str] = (), ethers: Iterable[str] = (), networks: Iterable[str] = ()
) -> dict[str, list[str]]:
    """A ``names`` mapping for :func:`extract` from /etc/hosts, /etc/ethers and /etc/networks
    style lines (networks get the prefix their trailing zero octets imply)."""
    out: dict[str, list[str]] = {}
    for line in hosts:
        addr, *aliases = line.split("#", 1)[0].split()
        for name in aliases:
            out.setdefault(name.lower(), []).append(addr)
    for line in ethers:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            out.setdefault(fields[1].lower(), []).append(fields[0])
    for line in networks:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            octets = fields[1].split(".")
            while len(octets) > 1 and octets[-1] == "0":
                octets.pop()
            out.setdefault(fields[0].lower(), []).append(
                ".".join(octets + ["0"] * (4 - len(octets))) + f"/{8 * len(octets)}"
            )
    return out


def _number(text: str) -> int:
    """A number as libpcap reads it: ``0x`` hex, leading-zero octal, else decimal."""
    if text[:2] in ("0x", "0X"):
        return int(text, 16)
    if len(text) > 1 and text[0] == "0" and all(c in "01234567" for c in text):
        return int(text, 8)
    return int(text)


def _mac_try(text: str) -> bytes | None:
    parts = text.split(":")
    if len(parts) == 6 and all(1 <= len(p) <= 2 for p in parts):
        try:
            return bytes(int(p, 16) for p in parts)
        except ValueError:
            return None
    return None
