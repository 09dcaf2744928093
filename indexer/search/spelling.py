"""Spelling corrections for query words the knowledge base does not contain.

Candidates come from the ``spelling`` field: every distinct word of every article, so a
correction is always a word some article uses. rapidfuzz's C implementation of the
optimal-string-alignment distance (a swap of two letters counts as one edit) scans each
segment's vocabulary (its sorted terms, held in memory) from the word's first letter; among close words the one in most
articles wins. Document frequencies are counted only over articles the asker may see, so
a word that only an internal article contains is never suggested to anyone else.
"""

from __future__ import annotations

import bisect

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .ranking import Snapshot

MIN_LENGTH = 4  # shorter words are too often abbreviations to correct
MAX_CANDIDATES = 20


def _max_distance(word: str) -> int:
    return 1 if len(word) < 7 else 2


def correct(snapshot: Snapshot, word: str, visible: np.ndarray) -> str | None:
    """The closest visible word for ``word``, or None if it needs no (or has no) correction."""
    lowered = word.lower()
    if len(lowered) < MIN_LENGTH or not lowered.isalpha():
        return None
    if snapshot.seen_in("spelling", lowered, visible):
        return None  # a known word, even if rare
    limit = _max_distance(lowered)
    candidates: dict[str, int] = {}
    for vocabulary in snapshot.vocabularies("spelling"):
        # the words beginning with the first letter, and with the second letter for a
        # swapped first pair
        for letter in dict.fromkeys(lowered[:2]):
            start = bisect.bisect_left(vocabulary, letter)
            end = bisect.bisect_left(vocabulary, chr(ord(letter) + 1))
            for candidate, distance, _ in process.extract(
                lowered,
                vocabulary[start:end],
                scorer=OSA.distance,
                score_cutoff=limit,
                limit=MAX_CANDIDATES,
            ):
                candidates[candidate] = min(distance, candidates.get(candidate, limit))
    seen = snapshot.seen_counts([("spelling", candidate) for candidate in candidates], visible)
    ranked = [
        (distance, -count, candidate)
        for (candidate, distance), count in zip(candidates.items(), seen, strict=True)
        if count
    ]
    return min(ranked)[2] if ranked else None
