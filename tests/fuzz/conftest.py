"""Hypothesis profiles for the fuzz tests, and the report of how many cases they ran.

``make test`` runs the "default" profile: a few hundred examples per property, derandomized,
so every run tries the same inputs. ``KB_FUZZ_PROFILE=long`` (``make fuzz``) runs ten times
as many, from a random seed each run; a failure prints the blob that reproduces it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ..figures import report
from .support import CASES

PROFILE = os.environ.get("KB_FUZZ_PROFILE", "default")

_SHARED = {
    # a hang shows as a failure, not a stuck run; explicit bounds in the tests are tighter
    "deadline": timedelta(seconds=3),
    # the properties run against the real index and app that the shared fixtures build once
    # per test; they only read them, so the examples may share them
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "database": None,  # nothing written into the working tree
    "print_blob": True,
}
# Named apart from Hypothesis's own "default" profile, which schemathesis compares settings
# against to tell which ones a test chose.
settings.register_profile("kb-default", max_examples=150, derandomize=True, **_SHARED)
settings.register_profile("kb-long", max_examples=1500, derandomize=False, **_SHARED)
settings.load_profile(f"kb-{PROFILE}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A failing example of 100,000 brackets is worth reporting even if its repr is long."""
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.filterwarnings("ignore:Generating overly large repr"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Put the number of fuzz cases run in the summary, so the figure can be quoted."""
    if CASES:
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(CASES.items()))
        report("fuzz cases", f"{sum(CASES.values()):,} cases, profile {PROFILE!r}: {kinds}")
