"""``python -m bpfc``: the same as the ``bpfc`` command."""

from bpfc.cli import run

run()
