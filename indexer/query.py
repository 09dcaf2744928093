"""Turning what a user typed into a Whoosh query that never fails to parse.

Every word is looked up in every searchable field with that field's analyzer and weight;
per word the best field counts (a disjunction-max, so a word in both title and body is not
counted twice), and the words are OR-ed so a long pasted line still finds articles that
share its rare words. "Quoted phrases" must match as phrases; :func:`relax` drops that
requirement when nothing matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh import query as q
from whoosh.matching import NullMatcher, UnionMatcher

from .analysis import ANALYZERS, COMPOUND

MAX_QUERY_CHARS = 2000  # pasted stack traces are cut here; the start carries the error
MAX_WORDS = 64

# Field -> (analyzer, weight). A match in the title or an exact error code outweighs the body.
SEARCH_FIELDS: dict[str, tuple[str, float]] = {
    "title": ("prose", 4.0),
    "error_codes": ("identifier", 4.0),
    "headings": ("prose", 2.0),
    "meta": ("prose", 2.0),
    "code": ("identifier", 1.2),
    "body": ("prose", 1.0),
}
PHRASE_FIELDS = ("title", "headings", "body", "code")
_PHRASE = re.compile(r'"([^"]+)"')
_TIEBREAK = 0.2


class BestFieldMatcher(UnionMatcher):
    """Union of postings scored as max + tiebreak * the other score on the same document.

    Whoosh's own DisjunctionMaxMatcher compares the scores of its children even when they
    sit on different documents, which gives every matching document the same score.
    """

    def __init__(self, a, b, tiebreak: float = 0.0) -> None:  # type: ignore[no-untyped-def]
        super().__init__(a, b)
        self.tiebreak = tiebreak

    def copy(self) -> BestFieldMatcher:
        return BestFieldMatcher(self.a.copy(), self.b.copy(), self.tiebreak)

    def replace(self, minquality: float = 0):  # type: ignore[no-untyped-def]
        a, b = self.a, self.b
        if not a.is_active():
            return b.replace(minquality) if b.is_active() else NullMatcher()
        if not b.is_active():
            return a.replace(minquality)
        new_a, new_b = a.replace(), b.replace()
        if new_a is not a or new_b is not b:
            return BestFieldMatcher(new_a, new_b, self.tiebreak)
        self._id = None
        return self

    def score(self) -> float:
        a, b = self.a, self.b
        if not a.is_active():
            return b.score()
        if not b.is_active():
            return a.score()
        if a.id() != b.id():
            return a.score() if a.id() < b.id() else b.score()
        score_a, score_b = a.score(), b.score()
        return max(score_a, score_b) + self.tiebreak * min(score_a, score_b)


class BestField(q.DisjunctionMax):
    """A word matched in several fields counts once, by its best field."""

    def _matcher(self, subs, searcher, context):  # type: ignore[no-untyped-def]
        return self._tree_matcher(
            subs, BestFieldMatcher, searcher, context, None, tiebreak=self.tiebreak
        )


@dataclass(frozen=True)
class ParsedQuery:
    query: q.Query | None  # None: nothing searchable in the text
    words: tuple[str, ...]
    phrases: tuple[str, ...]
    highlight_terms: frozenset[str]  # body-field terms, for snippets


def _word_query(word: str) -> q.Query | None:
    # analyse once per analyzer, not once per field: several fields share an analyzer
    analysed = {
        name: list(dict.fromkeys(t.text for t in ANALYZERS[name](word, mode="query")))
        for name in {analyzer for analyzer, _ in SEARCH_FIELDS.values()}
    }
    per_field = []
    for field, (analyzer, weight) in SEARCH_FIELDS.items():
        terms = analysed[analyzer]
        if not terms:
            continue
        # the whole identifier first, then its parts: the whole is rarer and matters more
        subqueries = [
            q.Term(field, t, boost=weight * (1.5 if i == 0 else 1.0)) for i, t in enumerate(terms)
        ]
        per_field.append(subqueries[0] if len(subqueries) == 1 else q.Or(subqueries))
    if not per_field:
        return None
    return BestField(per_field, tiebreak=_TIEBREAK)


def _phrase_query(phrase: str) -> q.Query | None:
    per_field = []
    for field in PHRASE_FIELDS:
        analyzer = ANALYZERS[SEARCH_FIELDS[field][0]]
        words = [t.text for t in analyzer(phrase, mode="query")]
        if len(words) == 1:
            per_field.append(q.Term(field, words[0], boost=SEARCH_FIELDS[field][1]))
        elif words:
            per_field.append(q.Phrase(field, words, boost=SEARCH_FIELDS[field][1]))
    return q.Or(per_field) if per_field else None


def parse(text: str, require_phrases: bool = True) -> ParsedQuery:
    """Parse free text; quoted phrases are required unless ``require_phrases`` is False,
    in which case their words count like any other word and the phrase only adds weight."""
    text = text[:MAX_QUERY_CHARS]
    phrases = tuple(p.strip() for p in _PHRASE.findall(text) if p.strip())
    rest = _PHRASE.sub(" ", text) if require_phrases else text
    words = tuple(dict.fromkeys(m.group() for m in COMPOUND.finditer(rest)))[:MAX_WORDS]

    optional = [wq for w in words if (wq := _word_query(w)) is not None]
    phrase_queries = [pq for p in phrases if (pq := _phrase_query(p)) is not None]
    if require_phrases and phrase_queries:
        required = phrase_queries[0] if len(phrase_queries) == 1 else q.And(phrase_queries)
        built: q.Query | None = q.AndMaybe(required, q.Or(optional)) if optional else required
    else:
        clauses = optional + phrase_queries
        built = q.Or(clauses) if clauses else None

    highlight = {
        t.text for chunk in (*words, *phrases) for t in ANALYZERS["prose"](chunk, mode="query")
    }
    return ParsedQuery(built, words, phrases, frozenset(highlight))
