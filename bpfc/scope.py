"""The interpreter settings compiling needs, changed for its duration only.

Code generation and the optimizer recurse over the syntax tree (about two frames per
nesting level; libpcap accepts ~10,000 levels), and compiling allocates many small
objects freed by reference counting, on which the cycle collector's full passes only
cost time.  Both settings are process-wide, so :func:`compiling` changes them for as
long as any compilation (or parse) in any thread runs, and restores the caller's.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Python frames allowed while compiling: codegen recurses over the syntax tree, about
#: two frames per nesting level, and libpcap accepts nesting up to ~10,000 levels
RECURSION_LIMIT = 25_000


_LOCK = threading.Lock()
_gc_depth = 0
_gc_saved = False
_limit_depth = 0
_limit_saved = 0


@contextmanager
def paused_collector() -> Iterator[None]:
    """The cycle collector paused while any thread is inside; the first to enter saves
    whether it was enabled, the last to leave re-enables it if it was."""
    global _gc_depth, _gc_saved
    with _LOCK:
        if _gc_depth == 0:
            _gc_saved = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _LOCK:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved:
                gc.enable()


@contextmanager
def compiling() -> Iterator[None]:
    """The settings a compilation needs: the collector paused (:func:`paused_collector`)
    and the recursion limit raised to :data:`RECURSION_LIMIT` if it is lower, restored
    when the last compilation in any thread leaves (unless someone changed it since)."""
    global _limit_depth, _limit_saved
    with _LOCK:
        if _limit_depth == 0:
            _limit_saved = sys.getrecursionlimit()
            if _limit_saved < RECURSION_LIMIT:
                sys.setrecursionlimit(RECURSION_LIMIT)
        _limit_depth += 1
    try:
        with paused_collector():
            yield
    finally:
        with _LOCK:
            _limit_depth -= 1
            if _limit_depth == 0 and sys.getrecursionlimit() == RECURSION_LIMIT != _limit_saved:
                sys.setrecursionlimit(_limit_saved)
