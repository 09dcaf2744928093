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


def corrections(snapshot: Snapshot, words: list[str], visible: np.ndarray) -> dict[str, str]:
    """The closest visible word for each of ``words`` that needs (and has) a correction,
    looked up together: which words are known, then every candidate's document count (a
    pasted description has dozens of words, and each lookup visits every segment)."""
    lowered = {word: word.lower() for word in words}
    asked = [w for w in dict.fromkeys(lowered.values()) if len(w) >= MIN_LENGTH and w.isalpha()]
    known = snapshot.seen_counts([("spelling", word) for word in asked], visible)
    unknown = [word for word, seen in zip(asked, known, strict=True) if not seen]
    close = {word: _candidates(snapshot, word) for word in unknown}
    wanted = list(dict.fromkeys(c for found in close.values() for c in found))
    counts = snapshot.seen_counts([("spelling", c) for c in wanted], visible)
    seen = dict(zip(wanted, counts, strict=True))
    best = {}
    for word, found in close.items():
        ranked = [(distance, -seen[c], c) for c, distance in found.items() if seen[c]]
        if ranked:
            best[word] = min(ranked)[2]
    return {word: best[low] for word, low in lowered.items() if low in best}


def _candidates(snapshot: Snapshot, lowered: str) -> dict[str, int]:
    """Words of any segment's vocabulary within the edit distance of ``lowered``, and how
    far each is."""
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
    return candidates
