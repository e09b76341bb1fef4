"""Host, Ethernet and network names: the injectable resolver.

The code generator asks a resolver four questions: ``host(name)`` (IPv4/IPv6 addresses),
``ether(name)`` (a MAC), ``network(name)`` (a network number) and ``service(name, proto)``
(a port, from the bundled tables).  :class:`SystemResolver`, the default, reads
``/etc/hosts``, ``/etc/ethers`` and ``/etc/networks`` and does no DNS unless built with
``dns=True``; :class:`StaticResolver` serves lines given in memory (tests, sandboxes).
Names match case-insensitively, as the C library's ``files`` lookups do, and a host's
addresses come back in file order without duplicates.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from bpfc.names import lookup
from bpfc.names.addr import ether_aton, inet_network

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@runtime_checkable
class Resolver(Protocol):
    """What the code generator needs from a name service."""

    def host(self, name: str) -> list[IPAddress]:
        """The addresses of host ``name`` (empty when unknown)."""
        ...

    def ether(self, name: str) -> bytes | None:
        """The MAC address of host ``name``."""
        ...

    def network(self, name: str) -> int | None:
        """The network number of ``name`` (``inet_network`` form, right-aligned)."""
        ...

    def service(self, name: str, proto: str | None = None) -> int | None:
        """The port of service ``name`` (see :func:`bpfc.names.lookup.service`)."""
        ...


def _fields(lines: Iterable[str]) -> Iterable[list[str]]:
    for line in lines:
        words = line.split("#", 1)[0].split()
        if words:
            yield words


class StaticResolver:
    """A resolver over ``hosts``/``ethers``/``networks`` lines in the files' formats:
    ``ADDRESS NAME [ALIAS...]``, ``MAC NAME`` and ``NAME NUMBER [ALIAS...]``.
    Malformed lines are skipped."""

    def __init__(
        self,
        hosts_lines: Iterable[str] = (),
        ethers_lines: Iterable[str] = (),
        networks_lines: Iterable[str] = (),
    ) -> None:
        self._hosts: dict[str, list[IPAddress]] = {}
        self._ethers: dict[str, bytes] = {}
        self._networks: dict[str, int] = {}
        for words in _fields(hosts_lines):
            try:
                addr = ipaddress.ip_address(words[0].split("%", 1)[0])
            except ValueError:
                continue
            for name in words[1:]:
                found = self._hosts.setdefault(name.lower(), [])
                if addr not in found:
                    found.append(addr)
        for words in _fields(ethers_lines):
            mac = ether_aton(words[0])
            if mac is not None and len(words) > 1:
                self._ethers.setdefault(words[1].lower(), mac)
        for words in _fields(networks_lines):
            number = inet_network(words[1]) if len(words) > 1 else None
            if number is not None:
                for name in [words[0], *words[2:]]:
                    self._networks.setdefault(name.lower(), number)

    def host(self, name: str) -> list[IPAddress]:
        return list(self._hosts.get(name.lower(), ()))

    def ether(self, name: str) -> bytes | None:
        return self._ethers.get(name.lower())

    def network(self, name: str) -> int | None:
        return self._networks.get(name.lower())

    def service(self, name: str, proto: str | None = None) -> int | None:
        return lookup.service(name, proto)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


class SystemResolver(StaticResolver):
    """The default: this machine's ``/etc/hosts``, ``/etc/ethers`` and ``/etc/networks``
    (read once, when the resolver is created; missing files are empty), plus DNS through
    :func:`socket.getaddrinfo` for hosts not in the file when ``dns=True``."""

    def __init__(self, dns: bool = False, etc: str | Path = "/etc") -> None:
        base = Path(etc)
        hosts, ethers = _read_lines(base / "hosts"), _read_lines(base / "ethers")
        super().__init__(hosts, ethers, _read_lines(base / "networks"))
        self.dns = dns

    def host(self, name: str) -> list[IPAddress]:
        found = super().host(name)
        if found or not self.dns:
            return found
        import socket

        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return []
        out: list[IPAddress] = []
        for info in infos:
            addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if addr not in out:
                out.append(addr)
        return out


def default_resolver(dns: bool = False) -> SystemResolver:
    """A :class:`SystemResolver` (a new one each call, so edited files are seen)."""
    return SystemResolver(dns=dns)
