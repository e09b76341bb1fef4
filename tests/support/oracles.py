"""Where the reference implementations are: libpcap master (built from ``../shared``).

libpcap master is the meaning wherever it changed Debian's 1.10.3, so differential tests
compare with it too.  ``../shared/libpcap-master/build.sh`` builds it once (about a minute,
cached under ``~/.cache``) and prints the library's path; ``.ci/run`` calls it before the
tests, and here we only look the result up (or build it when the source is beside us).
Tests that need master skip with the reason :func:`master_library` gives.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BUILD_SCRIPT = Path(
    os.environ.get("BPFC_MASTER_BUILD", ROOT.parent / "shared" / "libpcap-master" / "build.sh")
)


@cache
def master_library() -> tuple[Path | None, str]:
    """(path of libpcap master's ``libpcap.so``, "") or (None, why it is not available).

    ``BPFC_LIBPCAP_MASTER`` names a library to use instead; otherwise the shared build
    script is run (it returns at once when the build is cached).
    """
    named = os.environ.get("BPFC_LIBPCAP_MASTER")
    if named:
        path = Path(named)
        return (path, "") if path.is_file() else (None, f"BPFC_LIBPCAP_MASTER={named} not found")
    if not BUILD_SCRIPT.is_file():
        return None, f"libpcap master source not found ({BUILD_SCRIPT})"
    try:
        done = subprocess.run(
            ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"building libpcap master failed: {err}"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"building libpcap master failed: {tail[0]}"
    return Path(lines[-1]), ""


def master_soname_dir() -> tuple[Path | None, str]:
    """A folder holding master as ``libpcap.so.0.8``: ``LD_LIBRARY_PATH`` for Debian's tcpdump."""
    lib, why = master_library()
    if lib is None:
        return None, why
    soname = lib.parent / "soname"
    if not (soname / "libpcap.so.0.8").exists():
        return None, f"no soname link beside {lib}"
    return soname, ""
