"""Golden files for people's own filters: a suite of filters, recorded once, verified in CI.

A *suite* (:mod:`~bpfc.golden.suite`) is a text file of filters written by hand.
``bpfc golden record SUITE -o DIR`` (:mod:`~bpfc.golden.record`) stores, per filter, its
listings, a packet set reaching every path of its programs (:mod:`~bpfc.golden.paths`)
and the verdict on each packet (:mod:`~bpfc.golden.store` is the layout);
``bpfc verify DIR`` (:mod:`~bpfc.golden.replay`) replays it and tells a change of
behaviour from a change of code.  :mod:`~bpfc.golden.stored_listings` checks stored
``tcpdump -d``/``-dd``/``-ddd`` listings by behaviour, and
:mod:`~bpfc.golden.pytest_plugin` is the ``bpf_golden`` fixture.

This package imports nothing at import time: the pytest plugin loads it in every pytest run
of anyone who installs bpfc.
"""
