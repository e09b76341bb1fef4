"""The golden corpus: what each expression compiles to and which packets it accepts.

The corpus (``corpus/`` of the source tree) records, for hand-written expressions over
many link types, libpcap's listings and its verdict on a packet set built by
:mod:`bpfc.packetgen`, plus bpfc's own golden listings.  It is generated once from a
real libpcap (:mod:`bpfc.corpus.regenerate`, via ``tools/regenerate_corpus.py``) and
replayed anywhere with the bundled interpreter (:mod:`bpfc.corpus.verify`,
``bpfc verify``), with no libpcap installed.

* :mod:`~bpfc.corpus.topics` — the hand-written input (topic files);
* :mod:`~bpfc.corpus.schema` — the on-disk layout, :class:`Case`, :func:`load`;
* :mod:`~bpfc.corpus.verify` — replaying cases; :mod:`~bpfc.corpus.report` — text output;
* :mod:`~bpfc.corpus.golden` — bpfc's golden listings and ``--update-golden``.
"""

from __future__ import annotations

from bpfc.corpus.schema import Case, Corpus, default_root, load
from bpfc.corpus.verify import Result, check_case, run_corpus, select

__all__ = ["Case", "Corpus", "Result", "check_case", "default_root", "load", "run_corpus", "select"]
