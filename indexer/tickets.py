"""A ticket's subject and description -> the query that finds the article resolving it.

Why not search the whole text: descriptions run to pages of pasted logs, signatures and
quoted mail, and a query is cut at 64 words, so the words that matter may never be read.
Instead the subject is kept whole (people put the problem there), log noise is removed from
the description, and its words are weighed by how rare they are among the articles the asker
may see: an error code that three articles mention says far more than "please" or "server".
Identifiers (codes, event ids, paths) count double, since they are what tier 2 searches by.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from .analysis import ANALYZERS, COMPOUND
from .query import MAX_QUERY_CHARS, remove_noise
from .ranking import Snapshot

MAX_TICKET_CHARS = 200_000
MAX_DISTINCT_WORDS = 2_000
DESCRIPTION_TERMS = 24
SUBJECT_CHARS = 400
COMMON_SHARE = 0.3  # a word in more than this share of visible articles tells nothing apart
_IDENTIFIER = re.compile(r"\d|_|[a-z][A-Z]|\w[.\\/:]\w")
_OPERATOR = {"AND", "OR", "NOT"}
_FIELD_PREFIX = re.compile(r"^([A-Za-z_]+):")


def _plain(word: str) -> str:
    """A ticket's word as query text: never an operator, field prefix or exclusion."""
    if word in _OPERATOR:
        return word.lower()
    return _FIELD_PREFIX.sub(r"\1 ", word)


def _first_term(analyzer: str, word: str) -> str | None:
    """The word's first index term (itself, normalised), without analysing all its parts:
    ab.ab.ab... has dozens, and a pasted log has thousands of such words."""
    return next((t.text for t in ANALYZERS[analyzer](word, mode="query")), None)


def _document_frequency(snapshot: Snapshot, word: str, visible: np.ndarray) -> int:
    """Visible articles holding the word anywhere it is searched; 0 for stop words."""
    prose = _first_term("prose", word)
    if prose is None and not _IDENTIFIER.search(word):
        return 0  # "this", "and": the prose analyzer drops them, so should we
    found = 0
    for analyzer, fields in (("prose", ("title", "body")), ("identifier", ("code", "error_codes"))):
        term = prose if analyzer == "prose" else _first_term(analyzer, word)
        if term is not None:
            for name in fields:
                found = max(found, snapshot.seen_in(name, term, visible))
    return found


def ticket_query(snapshot: Snapshot, subject: str, description: str, visible: np.ndarray) -> str:
    """Query text for a ticket: the subject, then the description's most telling words."""
    subject_words = [_plain(w) for w in COMPOUND.findall(remove_noise(subject[:SUBJECT_CHARS]))]
    seen = {w.lower() for w in subject_words}
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for word in COMPOUND.findall(remove_noise(description[:MAX_TICKET_CHARS])):
        key = word.lower()
        if key in seen or len(word) < 3 or word.isdigit():
            continue
        if key not in spelling and len(spelling) >= MAX_DISTINCT_WORDS:
            continue
        spelling.setdefault(key, word)
        counts[key] += 1
    visible_count = max(int(visible.sum()), 1)
    weighed = []
    for key, count in counts.items():
        word = spelling[key]
        df = _document_frequency(snapshot, word, visible)
        if not df or df > COMMON_SHARE * visible_count:
            continue
        weight = math.log(1 + visible_count / df) * (1 + math.log(count))
        if _IDENTIFIER.search(word):
            weight *= 2
        weighed.append((-weight, key))
    chosen = [_plain(spelling[key]) for _, key in sorted(weighed)[:DESCRIPTION_TERMS]]
    return " ".join((*subject_words, *chosen))[:MAX_QUERY_CHARS]
