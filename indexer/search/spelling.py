"""Spelling corrections for query words the knowledge base does not contain.

Candidates come from the ``spelling`` field: every distinct word of every article, so a
correction is always a word some article uses. rapidfuzz's C implementation of the
optimal-string-alignment distance (a swap of two letters counts as one edit) scans the
segment's vocabulary, bucketed by first letter; among close words the one in most
articles wins. Document frequencies are counted only over articles the asker may see, so
a word that only an internal article contains is never suggested to anyone else.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh.reading import SegmentReader

from ..whoosh_internals import segment_key
from .caching import BoundedCache
from .ranking import Snapshot

MIN_LENGTH = 4  # shorter words are too often abbreviations to correct
MAX_CANDIDATES = 20
_VOCABULARY = BoundedCache(max_bytes=256 << 20)


def _vocabulary(reader: SegmentReader) -> dict[str, list[str]]:
    """A segment's spelling words, bucketed by first letter (segments never change)."""
    key = ("spelling", segment_key(reader))
    found = _VOCABULARY.get(key)
    if found is None:
        found = {}
        size = 0
        for word in reader.field_terms("spelling"):
            found.setdefault(word[0], []).append(word)
            size += len(word) + 60
        _VOCABULARY.put(key, found, size)
    return found


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
    for reader, _ in snapshot.leaves:
        vocabulary = _vocabulary(reader)
        # the first-letter bucket, and the second letter's for a swapped first pair
        for bucket in dict.fromkeys(lowered[:2]):
            for candidate, distance, _ in process.extract(
                lowered,
                vocabulary.get(bucket, ()),
                scorer=OSA.distance,
                score_cutoff=limit,
                limit=MAX_CANDIDATES,
            ):
                candidates[candidate] = min(distance, candidates.get(candidate, limit))
    best: tuple[int, int, str] | None = None
    for candidate, distance in candidates.items():
        seen_in = snapshot.seen_in("spelling", candidate, visible)
        if seen_in and (best is None or (distance, -seen_in, candidate) < best):
            best = (distance, -seen_in, candidate)
    return best[2] if best else None
