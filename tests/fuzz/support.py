"""What every fuzz test shares: the count of cases run, a time bound, and example budgets."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import settings

# Cases each fuzz test ran, counted in the test bodies (shrinking and replays included);
# tests/fuzz/conftest.py reports the totals when the session ends.
CASES: Counter[str] = Counter()

# A search, a page or a parse of a few KB takes milliseconds; anything near these bounds is a
# pathological path (a regex backtracking, a quadratic loop), not a slow machine.
QUERY_SECONDS = 1.0
ARTICLE_SECONDS = 1.0
TICKET_SECONDS = 2.0  # /api/suggest reads up to 1 MB of ticket text and ranks its rare words


def count(kind: str) -> None:
    CASES[kind] += 1


@contextmanager
def bounded(seconds: float, what: object) -> Iterator[None]:
    """Fail if the block takes ``seconds`` or more, even if it raised; ``what`` names the input
    in the message."""
    started = time.perf_counter()
    try:
        yield
    finally:
        took = time.perf_counter() - started
        assert took < seconds, f"took {took:.2f} s (bound {seconds} s) for {what!r:.300}"


def examples(share: float) -> settings:
    """This profile's example budget times ``share``: cheap properties run more examples,
    ones that make several HTTP calls per example fewer, and KB_FUZZ_PROFILE=long scales all."""
    return settings(max_examples=max(10, round(settings.default.max_examples * share)))
