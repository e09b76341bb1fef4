"""Regenerate corpus/ expected data from the system libpcap (never run in CI).

    python tools/regenerate_corpus.py [--corpus DIR] [--topic NAME]

Rewrites corpus/expected/, corpus/packets/, corpus/excluded.jsonl and corpus/meta.json
(which records ``pcap_lib_version()``).  bpfc's golden listings are rewritten only by
``bpfc verify --update-golden``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bpfc.corpus.regenerate import regenerate
from bpfc.corpus.schema import default_root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_root(), help="corpus directory")
    parser.add_argument("--topic", help="regenerate one topic only (excluded/meta untouched)")
    args = parser.parse_args(argv)
    regenerate(args.corpus, args.topic)
    return 0


if __name__ == "__main__":
    sys.exit(main())
