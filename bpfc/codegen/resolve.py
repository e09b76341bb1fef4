"""Protocol and service names as the code generator resolves them.

A resolver's ``protocol()`` answer wins for IP protocol names; otherwise the bundled
tables answer, with libpcap's matching rules (:mod:`bpfc.names.lookup`).  The tables are
imported on the first name a filter uses: ``tcp port 80`` never needs them, and they
cost start-up time.
"""

from __future__ import annotations

from bpfc.codegen.state import CodegenState


def nametoport(text: str) -> tuple[int, str | None] | None:
    """A service name's port and protocol (None: either), as libpcap's ``pcap_nametoport``."""
    from bpfc.names import lookup

    return lookup.nametoport(text)


def ether_proto(name: str) -> int | None:
    """An Ethernet type name's value, else an LLC SAP name's (``ether proto \\netbeui``)."""
    from bpfc.names import lookup

    found = lookup.ether_proto(name)
    return lookup.llc_sap(name) if found is None else found


def ip_proto(state: CodegenState, name: str) -> int | None:
    """An IP protocol name's number: the resolver's, else the bundled table's."""
    resolver = state.resolver
    fn = getattr(resolver, "protocol", None) if resolver is not None else None
    if fn is not None:
        try:
            found = fn(name)
        except (LookupError, ValueError):
            found = None
        if isinstance(found, int):
            return found
    from bpfc.names import lookup

    return lookup.ip_proto(name)
