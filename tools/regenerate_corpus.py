"""Regenerate corpus/ expected data from a libpcap (never run in CI).

    python tools/regenerate_corpus.py [--corpus DIR] [--topic NAME] [--libpcap PATH]

Rewrites corpus/expected/, corpus/packets/, corpus/excluded.jsonl and corpus/meta.json
(which records the oracle's ``pcap_lib_version()``).  The oracle is ``--libpcap PATH``;
by default libpcap master when it is built (``$BPFC_LIBPCAP_MASTER``, else the cache that
``../shared/libpcap-master/build.sh`` fills), else the system libpcap.  bpfc's golden
listings are rewritten only by ``bpfc verify --update-golden``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bpfc.corpus.regenerate import regenerate
from bpfc.corpus.schema import default_root


def default_libpcap() -> str | None:
    """libpcap master's built library when there is one, else None (the system's)."""
    named = os.environ.get("BPFC_LIBPCAP_MASTER")
    if named:
        return named
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    built = cache / "bpfc-oracle" / "libpcap-master" / "libpcap.so"
    return str(built) if built.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_root(), help="corpus directory")
    parser.add_argument("--topic", help="regenerate one topic only (excluded/meta untouched)")
    parser.add_argument(
        "--libpcap",
        metavar="PATH",
        default=default_libpcap(),
        help="the oracle's libpcap.so (default: libpcap master if built, else the system's)",
    )
    args = parser.parse_args(argv)
    if args.libpcap is not None and not Path(args.libpcap).is_file():
        print(f"regenerate_corpus: --libpcap {args.libpcap}: no such file", file=sys.stderr)
        return 1
    regenerate(args.corpus, args.topic, libpcap_path=args.libpcap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
