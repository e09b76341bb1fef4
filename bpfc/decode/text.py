"""Text protocols over TCP as tcpdump prints them: HTTP, SMTP, FTP, WHOIS, SSH, telnet.

tcpdump's text-protocol printer prints the protocol's name and the payload's first line
up to its LF or CR-LF (for HTTP only when the payload starts like a request, a method
name, or a response, a three-digit status as the second token); binary data prints
nothing more, text running to the end of the payload or past the captured bytes ends
with ``[|proto]``.  SSH prints its version banner; telnet prints option negotiation,
which bpfc does not copy (those lines are inexact).
"""

from __future__ import annotations

from bpfc.decode.common import Out, Truncated

#: request methods tcpdump knows (RFC 2616, WebDAV and its extensions), compared
#: case-insensitively
HTTP_METHODS = frozenset(
    "OPTIONS GET HEAD POST PUT DELETE TRACE CONNECT PROPFIND PROPPATCH MKCOL COPY MOVE LOCK"
    " UNLOCK VERSION-CONTROL REPORT CHECKOUT CHECKIN UNCHECKOUT MKWORKSPACE UPDATE LABEL"
    " MERGE BASELINE-CONTROL MKACTIVITY ORDERPATCH ACL SEARCH PATCH".split()
)
MAX_TOKEN = 127


def _printable(c: int) -> bool:
    return 0x20 <= c <= 0x7E


def _token(data: memoryview, idx: int, length: int) -> tuple[int, bytes]:
    """The token at ``idx`` and the index after it and its blanks; (0, b"") when none."""
    start = idx
    end = min(length, len(data))
    while idx < length:
        if idx >= end:
            return 0, b""
        c = data[idx]
        if c >= 0x80:
            return 0, b""
        if c in b" \t\r\n":
            break
        if not _printable(c) or idx - start + 1 > MAX_TOKEN:
            return 0, b""
        idx += 1
    token = bytes(data[start:idx])
    if not token:
        return 0, b""
    while idx < end:
        c = data[idx]
        if c in b"\r\n" or not _printable(c) or c not in b" \t":
            break
        idx += 1
    return idx, token


def _first_line(data: memoryview, length: int, proto: str) -> tuple[str, bool] | None:
    """The first line when it is printable text, and whether it ended before ``length``
    (tcpdump treats text running to the end of the payload as truncated)."""
    idx = 0
    while idx < length:
        if idx >= len(data):
            raise Truncated(proto)
        c = data[idx]
        if c == 0x0A:
            break
        if c == 0x0D:
            if idx + 1 >= length:
                return None
            if idx + 1 >= len(data):
                raise Truncated(proto)
            if data[idx + 1] == 0x0A:
                break
            return None
        if not _printable(c) and c != 0x09:
            return None
        idx += 1
    return bytes(data[:idx]).decode("ascii"), idx < length


def txtproto_print(out: Out, data: memoryview, length: int, proto: str) -> None:
    """``: PROTO`` and, for a request or response line (any line but HTTP's), ``: LINE``."""
    out.proto = proto
    out.add(": ")
    show = proto != "http"
    if not show:
        idx, token = _token(data, 0, length)
        if idx:
            show = token.upper().decode("ascii") in HTTP_METHODS
            idx, token = _token(data, idx, length)
            if idx and len(token) == 3 and token.isdigit():
                show = True
    out.add(proto.upper())
    if show:
        line = _first_line(data, length, proto)
        if line is not None:
            out.add(": " + line[0])
            if not line[1]:
                raise Truncated(proto)


def http_print(out: Out, data: memoryview, length: int) -> None:
    txtproto_print(out, data, length, "http")


def ssh_print(out: Out, data: memoryview, length: int) -> None:
    """``: SSH: BANNER`` for a version line ending in LF or CR-LF, else nothing."""
    out.proto = "ssh"
    for idx, want in enumerate(b"SSH-"):
        if idx >= len(data):
            raise Truncated("ssh")
        if data[idx] != want:
            return
    idx = 4
    while idx < length:
        if idx >= len(data):
            raise Truncated("ssh")
        c = data[idx]
        if c == 0x0A:
            break
        if c == 0x0D:
            if idx + 1 >= length:
                return
            if idx + 1 >= len(data):
                raise Truncated("ssh")
            if data[idx + 1] != 0x0A:
                return
            break
        if not _printable(c):
            return
        idx += 1
    else:
        return
    out.add(": SSH: " + bytes(data[:idx]).decode("ascii"))


def telnet_print(out: Out, data: memoryview, length: int) -> None:
    """Telnet prints its leading option negotiation (IAC ...): not copied."""
    out.proto = "telnet"
    if not len(data):
        raise Truncated("telnet")
    if data[0] == 0xFF:
        out.exact = False
