"""SS7 MTP2 signal units (FISU, LSSU, MSU) with MTP3 routing labels, for DLT_MTP2.

libpcap's ``fisu``/``lssu``/``msu`` test the length indicator, and ``sio``/``opc``/``dpc``/
``sls`` read the service information octet and the routing label behind it (the ``h``
forms on the high-speed header with a 12-bit length indicator).
"""

from __future__ import annotations


def routing_label(dpc: int, opc: int, sls: int) -> bytes:
    """The 32-bit ITU routing label: DPC (14 bits), OPC (14), SLS (4), little-endian on the wire."""
    value = (dpc & 0x3FFF) | ((opc & 0x3FFF) << 14) | ((sls & 0xF) << 28)
    return value.to_bytes(4, "little")


def signal_unit(li: int, sio: int = 0, label: bytes = b"", payload: bytes = b"") -> bytes:
    """A signal unit: BSN/BIB, FSN/FIB, length indicator, then SIO, label and payload."""
    return bytes([0x80, 0x80, li & 0x3F]) + (bytes([sio & 0xFF]) + label + payload if li else b"")


def mtp2_frames(numbers: list[int]) -> list[tuple[bytes, str]]:
    """FISUs, LSSUs and MSUs with every number as SIO, DPC, OPC and SLS (and ±1)."""
    out = [(signal_unit(0), "fisu"), (bytes([0x80, 0x80, 1, 0]), "lssu 1"),
           (bytes([0x80, 0x80, 2, 0, 0]), "lssu 2")]  # fmt: skip
    values = sorted({v for n in numbers for v in (n - 1, n, n + 1) if 0 <= v <= 0x3FFF} | {0, 3, 5})
    sios = [v for v in values if v <= 0xFF][:12]
    for v in values:
        for w in sios:
            out.append((signal_unit(20, w, routing_label(v, v, v), bytes(16)), f"msu sio={w} {v}"))
            out.append((hsl_unit(20, w, routing_label(v, v, v)), f"hsl msu sio={w} {v}"))
        out.append((signal_unit(20, 0x83, routing_label(v, 1, 2), bytes(16)), f"msu dpc={v}"))
        out.append((signal_unit(20, 0x83, routing_label(1, v, 2), bytes(16)), f"msu opc={v}"))
        out.append((signal_unit(20, 0x83, routing_label(1, 2, v), bytes(16)), f"msu sls={v}"))
        out.append((hsl_unit(20, v & 0xFF, routing_label(v, v, v)), f"hsl msu {v}"))
    out += [(hsl_unit(li, 3, routing_label(1, 2, 3)), f"hsl li={li}") for li in (0, 1, 2, 3)]
    return out


def hsl_unit(li: int, sio: int, label: bytes) -> bytes:
    """A high-speed-link (Annex A) signal unit: 2-byte BSN, FSN and 9-bit length indicator."""
    return b"\x80\x00\x80\x00" + (li << 7).to_bytes(2, "big") + bytes([sio]) + label + bytes(16)
