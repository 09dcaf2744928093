"""Finding articles without a finished query: autocomplete and related articles.

Both work on a :class:`~indexer.search.ranking.Snapshot` and a mask of the documents the asker may
see, so neither can surface a title, code or tag that only a hidden article holds.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..text.analysis import ANALYZERS, COMPOUND, normalise, terms
from .caching import BoundedCache
from .ranking import Snapshot, idf

MAX_EXPANSIONS = 50  # terms a typed prefix may stand for
RELATED_TERMS = 15  # the words of an article that best tell it apart
RELATED_FIELDS = ("title", "headings", "meta", "body")
_TERM_COUNTS = BoundedCache(max_bytes=32 << 20)


@dataclass(frozen=True)
class Completion:
    kind: str  # "article", "error_code" or "tag"
    text: str
    ref: str = ""  # article id, for "article"


def complete(
    snapshot: Snapshot, text: str, visible: np.ndarray, limit: int = 8
) -> list[Completion]:
    """Titles, error codes and tags matching what has been typed so far.

    Every complete word must be in the title; the last, unfinished word is a prefix.
    """
    words = COMPOUND.findall(text)
    if not words or len(words[-1]) < 2:
        return []
    *done, last = words
    prefix = normalise(last)
    found: list[Completion] = []

    # titles
    mask = visible.copy()
    score = np.zeros(snapshot.size, dtype=np.float32)
    for word in done:
        for term in dict.fromkeys(t.text for t in ANALYZERS["prose"](word, mode="query")):
            word_score = snapshot.term_score({"prose": term}, ("title",))
            mask &= word_score > 0
            score += word_score
    stemmed = [t.text for t in ANALYZERS["prose"](last, mode="query")][:1]
    expansions = dict.fromkeys(
        (*stemmed, *snapshot.terms_beginning("title", prefix, MAX_EXPANSIONS))
    )
    snapshot.postings_of([("title", t) for t in expansions])  # together, then from the cache
    last_score = sum(
        (snapshot.term_score({"prose": t}, ("title",)) for t in expansions),
        np.zeros(snapshot.size, dtype=np.float32),
    )
    mask &= last_score > 0
    score += last_score
    docs = np.flatnonzero(mask)
    for doc in docs[np.argsort(-score[docs], kind="stable")][:limit]:
        stored = snapshot.searcher.stored_fields(int(doc))
        found.append(Completion("article", stored["title"], stored["id"]))

    # error codes and tags, only as seen in visible articles
    if not done:
        wanted = [
            ("error_codes", term)
            for term in snapshot.terms_beginning("error_codes", prefix, MAX_EXPANSIONS)
        ]
        wanted += [
            ("tags", tag) for tag in snapshot.lexicon("tags") if tag.lower().startswith(prefix)
        ]
        kinds = {"error_codes": "error_code", "tags": "tag"}
        seen = snapshot.seen_counts(wanted, visible)
        found += [
            Completion(
                kinds[name], _as_written(snapshot, term, visible) if name == "error_codes" else term
            )
            for (name, term), count in zip(wanted, seen, strict=True)
            if count
        ]
    return found[: limit * 2]


def _as_written(snapshot: Snapshot, term: str, visible: np.ndarray) -> str:
    """An error code as a visible article writes it ("0x80070005"), not as it is indexed
    ("80070005"): what the reader will find pasted in logs and tickets."""
    ids, _ = snapshot.term_docs("error_codes", term)
    shown = ids[visible[ids]]
    if not len(shown):
        return term
    record = json.loads(snapshot.searcher.stored_fields(int(shown[0]))["record"])
    for code in record.get("error_codes", ()):
        if terms(str(code), "identifier")[:1] == [term]:
            return str(code)
    return term


def _frequent_terms(stored: dict) -> list[tuple[str, int]]:
    """An article's most frequent index terms; analysing the text is most of the work, and
    it depends on the text alone, so it is kept by content hash across commits."""
    key = stored.get("content_hash")
    found = _TERM_COUNTS.get(key) if key else None
    if found is None:
        text = f"{stored.get('title', '')}\n{stored.get('body', '')}"
        counts = Counter(t.text for t in ANALYZERS["prose"](text[:20_000], mode="query"))
        found = counts.most_common(200)
        if key:
            _TERM_COUNTS.put(key, found, 100 + sum(len(term) + 80 for term, _ in found))
    return found


def related(snapshot: Snapshot, doc: int, visible: np.ndarray, limit: int = 5) -> list[int]:
    """Documents most like ``doc``: scored on its most distinctive words, itself excluded."""
    frequent = [
        (term, count)
        for term, count in _frequent_terms(snapshot.searcher.stored_fields(doc))
        if len(term) >= 3 and not term.isdigit()
    ]
    seen = snapshot.seen_counts([("body", term) for term, _ in frequent], snapshot.population)
    weighted = [
        (count * idf(snapshot.count, df), term)
        for (term, count), df in zip(frequent, seen, strict=True)
        if df > 1  # a word only this article has cannot relate it to another
    ]
    terms = [term for _, term in sorted(weighted, reverse=True)[:RELATED_TERMS]]
    snapshot.postings_of([(name, t) for t in terms for name in RELATED_FIELDS])
    score = sum(
        (snapshot.term_score({"prose": t}, RELATED_FIELDS) for t in terms),
        np.zeros(snapshot.size, dtype=np.float32),
    )
    score[doc] = 0
    candidates = np.flatnonzero((score > 0) & visible)
    return [int(d) for d in candidates[np.argsort(-score[candidates], kind="stable")][:limit]]
