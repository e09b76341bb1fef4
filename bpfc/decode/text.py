"""HTTP's first line, as tcpdump prints it after a TCP segment on port 80 or 8080.

tcpdump's text-protocol printer prints ``HTTP`` and, when the payload starts like a
request (a method name) or a response (a three-digit status as the second token), the
first line up to its LF or CR-LF; binary data prints nothing more.  Reading past the
captured bytes inside that line ends it with ``[|http]``.
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


def _first_line(data: memoryview, length: int) -> tuple[str, bool] | None:
    """The first line when it is printable text, and whether it ended before ``length``
    (tcpdump treats text running to the end of the payload as truncated)."""
    idx = 0
    while idx < length:
        if idx >= len(data):
            raise Truncated("http")
        c = data[idx]
        if c == 0x0A:
            break
        if c == 0x0D:
            if idx + 1 >= length:
                return None
            if idx + 1 >= len(data):
                raise Truncated("http")
            if data[idx + 1] == 0x0A:
                break
            return None
        if not _printable(c) and c != 0x09:
            return None
        idx += 1
    return bytes(data[:idx]).decode("ascii"), idx < length


def http_print(out: Out, data: memoryview, length: int) -> None:
    """``: HTTP`` and, for a request or response line, ``: LINE``."""
    out.proto = "http"
    out.add(": ")
    idx, token = _token(data, 0, length)
    show = False
    if idx:
        show = token.upper().decode("ascii") in HTTP_METHODS
        idx, token = _token(data, idx, length)
        if idx and len(token) == 3 and token.isdigit():
            show = True
    out.add("HTTP")
    if show:
        line = _first_line(data, length)
        if line is not None:
            out.add(": " + line[0])
            if not line[1]:
                raise Truncated("http")
