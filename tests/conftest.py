"""Shared test configuration: hypothesis profiles and the upstream corpus location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(
    os.environ.get("BPFC_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = Path(os.environ.get("BPFC_UPSTREAM", ROOT.parent / "shared" / "corpus-upstream"))


@pytest.fixture(scope="session")
def upstream() -> Path:
    """The shared upstream conformance data; tests using it skip where it is absent."""
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream corpus not found at {UPSTREAM}")
    return UPSTREAM
