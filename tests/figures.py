"""Figures that tests measure as they go (recovery times, load), printed after the run."""

from __future__ import annotations

from collections import defaultdict

FIGURES: dict[str, list[str]] = defaultdict(list)


def report(section: str, line: str) -> None:
    FIGURES[section].append(line)
