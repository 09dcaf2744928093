"""BM25F ranking over whole posting lists, with numpy.

Why not Whoosh's own scoring: it scores each field separately and adds the results, so a
common word in a title ("event", "server") outweighs a rare error code in the body, and its
per-posting Python matchers are slow on long queries. Here each query word is scored once
across fields, the BM25F way: the word's term frequencies from every field are weighted,
length-normalised per field and added *before* saturation, and the word has one IDF (from
the documents that contain it anywhere). Identifiers also score by their parts, at a lower
weight, so ``ERROR_SERVICE_DISABLED`` finds "service disabled" but the exact form wins.

A :class:`Snapshot` is the arrays of one searcher: which documents are live, field lengths,
audience and facet postings, last-update times. It is built when a searcher is opened (each
commit), from per-segment arrays cached in :mod:`indexer.whoosh_internals`.
"""

from __future__ import annotations

import bisect
import copy
import functools
import itertools
import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from whoosh import query as wq
from whoosh.query.spans import SpanNear2
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

from ..documents.fields import AUDIENCES, FACETS
from ..text.analysis import ANALYZERS
from ..text.phrases import Placed, Placement, placement
from ..text.query import Clause, ParsedQuery, Phrase
from ..whoosh_internals import (
    EMPTY_IDS,
    EMPTY_WEIGHTS,
    Postings,
    column_values,
    decoded_postings,
    field_lengths,
    phrase_key,
    rank_units,
    segment_key,
    term_key,
)
from ..writing.vectors import VectorStore
from .caching import BoundedCache


@dataclass(frozen=True)
class FieldSpec:
    analyzer: str
    weight: float
    b: float  # length normalisation: 0 = none, 1 = full


# Where a word counts, and how much. "symptoms" repeats the text under Symptoms / Error
# headings (it is also in "body"), so words a user would describe a problem with count more
# there.
SCORED_FIELDS: dict[str, FieldSpec] = {
    "title": FieldSpec("prose", 3.0, 0.5),
    "error_codes": FieldSpec("identifier", 3.0, 0.0),
    "headings": FieldSpec("prose", 1.5, 0.5),
    "meta": FieldSpec("prose", 1.5, 0.3),
    "symptoms": FieldSpec("prose", 0.5, 0.75),
    "code": FieldSpec("identifier", 1.0, 0.75),
    "body": FieldSpec("prose", 1.0, 0.75),
    "pairs": FieldSpec("pairs", 1.0, 0.75),  # scored on its own, see pair_score
}
PAIR_WEIGHT = 0.5
WORD_FIELDS = tuple(name for name in SCORED_FIELDS if name != "pairs")
ANSWER_CACHE_BYTES = 16 << 20  # per commit: a few thousand result pages
_JOINED = BoundedCache(max_bytes=64 << 20)  # posting lists joined across segments
T = TypeVar("T")
log = logging.getLogger(__name__)
K1 = 1.2
PART_WEIGHT = 0.35  # a part of an identifier ("access" of ERROR_ACCESS_DENIED)
ALTERNATIVE_WEIGHT = 0.8  # a synonym, against the word as typed (a correction replaces it)
PHRASE_BONUS = 1.0  # for holding the query's required phrases
# re-ranking by meaning (see Snapshot.meaning_bonus): how many of the best-scored documents,
# and what a cosine of 1 with the query is worth, in units of the best of their scores
MEANING_CANDIDATES = 50
MEANING_WEIGHT = 1.0
# Clause scores a scoped snapshot (one search) keeps: the words before a half-typed one are
# scored to choose its completions, then again to rank; a long ticket is not kept whole
KEPT_CLAUSE_SCORES = 8


@dataclass(frozen=True)
class Ranked:
    scores: np.ndarray  # float32 per document; 0 = no match
    matched: np.ndarray  # bool per document
    clause_hits: tuple[np.ndarray, ...] = ()  # per positive clause: documents it matched
    phrase_docs: np.ndarray | None = None  # documents given PHRASE_BONUS, if any were


# ---------------------------------------------------------------------- the formulas
# One definition of each, used by ranking (over every document) and by indexer.search.explain
# (for the documents of one page).


def idf(count: int, df: int) -> float:
    """BM25 inverse document frequency of a term that ``df`` of ``count`` documents hold."""
    return math.log(1 + (count - df + 0.5) / (df + 0.5))


def saturate(tf: np.ndarray, idf_value: float) -> np.ndarray:
    """BM25 saturation of weighted term frequencies, scaled by the term's IDF."""
    return idf_value * tf * (K1 + 1) / (K1 + tf)


def field_terms(terms: dict[str, str], fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """(field, index term) for a term given per analyzer: each field has its analyzer's."""
    found = []
    for name in fields:
        term = terms.get(SCORED_FIELDS[name].analyzer)
        if term:
            found.append((name, term))
    return found


@functools.lru_cache(maxsize=8192)
def _analysed(word: str) -> dict[str, list[str]]:
    """Index terms of a word per analyzer: the whole (normalised) first, then its parts
    (kept: a query's words are analysed to fetch their postings, then to score them; the
    answer is read, never changed)."""
    return {
        name: list(dict.fromkeys(t.text for t in analyzer(word, mode="query")))
        for name, analyzer in ANALYZERS.items()
    }


def _whole(analysed: dict[str, list[str]]) -> dict[str, str]:
    """The whole word's term per analyzer (its parts, if any, come after it)."""
    return {name: terms[0] for name, terms in analysed.items() if terms}


def word_terms(word: str) -> list[tuple[dict[str, str], float]]:
    """The terms a word scores by (each per analyzer) and their weights: the whole word at
    1, then each part of an identifier at PART_WEIGHT."""
    analysed = _analysed(word)
    found = [(_whole(analysed), 1.0)]
    parts = {name: terms[1:] for name, terms in analysed.items()}
    for i in range(max(len(p) for p in parts.values())):
        part = {name: terms[i] for name, terms in parts.items() if i < len(terms)}
        found.append((part, PART_WEIGHT))
    return found


@dataclass(frozen=True)
class Form:
    """One way a clause matches: its words, the fields they are searched in, its weight
    against the form typed, and the phrase it counts only inside (a form of several words
    that is not the typed one: "kerberos 5" never counts through a loose "5")."""

    words: tuple[str, ...]
    fields: tuple[str, ...]
    weight: float = 1.0
    together: Phrase | None = None


def clause_forms(clause: Clause) -> list[Form]:
    """The typed form of a clause (or its spelling correction), then its synonyms (a
    half-typed word is scored otherwise: see :meth:`Snapshot.prefix_score`)."""
    fields = clause.fields or WORD_FIELDS
    return [Form(clause.typed, fields)] + [
        Form(
            form,
            fields,
            ALTERNATIVE_WEIGHT,
            Phrase(" ".join(form), clause.fields) if len(form) > 1 else None,
        )
        for form in clause.forms[1:]
    ]


def query_terms(parsed: ParsedQuery) -> list[tuple[str, str]]:
    """Every (field, term) ranking ``parsed`` reads the postings of, but those of half-typed
    words (their completions are chosen from the postings of the words before them)."""
    found = []
    for clause in (*parsed.clauses, *parsed.excluded):
        if clause.prefix:
            continue
        for form in clause_forms(clause):
            for word in form.words:
                for terms, _weight in word_terms(word):
                    found += field_terms(terms, form.fields)
    found += [("pairs", pair) for pair in pair_terms(parsed.clauses)]
    return list(dict.fromkeys(found))


def pair_terms(clauses: tuple[Clause, ...]) -> list[str]:
    """Terms of the "pairs" field for neighbouring typed words (fielded clauses left out)."""
    words = [w for c in clauses if c.fields is None for w in c.typed]
    return list(dict.fromkeys(t.text for t in ANALYZERS["pairs"](" ".join(words))))


def phrase_query(placed_per_field: Placement) -> wq.Query:
    """Whoosh query for a phrase (where its terms stand, per field: :func:`placement`) in
    any of its fields (positions are Whoosh's job)."""
    per_field = []
    for name, placed in placed_per_field:
        if len(placed) == 1:
            per_field.append(wq.Term(name, placed[0][1]))
        elif all(b - a == 1 for (a, _), (b, _) in itertools.pairwise(placed)):
            per_field.append(wq.Phrase(name, [term for _, term in placed]))
        else:
            per_field.append(_spaced_phrase(name, placed))
    return wq.Or(per_field) if per_field else wq.NullQuery


def _spaced_phrase(fieldname: str, placed: Placed) -> wq.Query:
    """Terms at exactly these distances from each other: "access is denied" matches where
    it is written, not "access denied" (a looser phrase query would take both)."""
    (previous, first), *rest = placed
    query: wq.Query = wq.Term(fieldname, first)
    for position, term in rest:
        gap = position - previous
        query = SpanNear2([query, wq.Term(fieldname, term)], slop=gap, mindist=gap)
        previous = position
    return query


def _update_times(reader: SegmentReader) -> np.ndarray:
    """A segment's "updated" column as integers. Whoosh answers a document without a value
    with its column default, past the int64 range: such a document sorts as oldest, and is
    logged, rather than failing every search of the commit (seen when a searcher read a
    column its commit's writer had removed, before searchers opened every column at once:
    :func:`indexer.whoosh_internals.open_commit`)."""
    values = list(column_values(reader, "updated"))
    unknown = [i for i, value in enumerate(values) if value >= 2**63]
    if unknown:
        key = segment_key(reader)
        log.warning("%d documents of segment %s have no update time", len(unknown), key)
        for i in unknown:
            values[i] = 0
    return np.array(values, dtype=np.int64)


def _joined(ids: list[np.ndarray], weights: list[np.ndarray]) -> Postings:
    """One posting list from its segments' pieces (global doc numbers already)."""
    if len(ids) > 1:
        return np.concatenate(ids), np.concatenate(weights)
    return (ids[0], weights[0]) if ids else (EMPTY_IDS, EMPTY_WEIGHTS)


def _by_term(
    ids: list[np.ndarray], weights: list[np.ndarray], counts: np.ndarray
) -> list[Postings]:
    """Each term's posting list over all segments, from each segment's postings of every
    term (term after term; ``counts[segment, term]`` postings each), moved into term order
    in one step instead of joined one term and segment at a time."""
    all_ids, all_weights = np.concatenate(ids), np.concatenate(weights)
    per_term = counts.sum(axis=0)
    term_starts = np.cumsum(per_term) - per_term
    # where each (segment, term) run goes, and where it is now (segment after segment)
    target = term_starts + np.cumsum(counts, axis=0) - counts
    source = (np.cumsum(counts.ravel()) - counts.ravel()).reshape(counts.shape)
    moved = np.repeat((target - source).ravel(), counts.ravel()) + np.arange(len(all_ids))
    out_ids = np.empty_like(all_ids)
    out_weights = np.empty_like(all_weights)
    out_ids[moved], out_weights[moved] = all_ids, all_weights
    return [
        (out_ids[start : start + n].copy(), out_weights[start : start + n].copy())
        for start, n in zip(term_starts.tolist(), per_term.tolist(), strict=True)
    ]


_TERMS = BoundedCache(max_bytes=256 << 20)  # prefix fields' terms, per segment


_PHRASES = BoundedCache(max_bytes=32 << 20)  # per segment and phrase


def _segment_phrase_docs(searcher: Searcher, query: wq.Query, phrase: Phrase) -> np.ndarray:
    """The documents of one segment (a leaf searcher) holding ``phrase``, matched by Whoosh
    (a phrase its rank file does not list: see :meth:`Snapshot.phrase_docs`); callers apply
    deletions (a document deleted since stays in the answer). Kept for as long as the
    segment lives: with an author saving every second, each commit would otherwise match it
    again in every segment, and at 100,000 articles one phrase takes most of a second."""
    segment = segment_key(searcher.reader())

    def build() -> np.ndarray:
        found = np.fromiter(searcher.docs_for_query(query), np.int64)
        found.flags.writeable = False
        return found

    return _PHRASES.get_or_build((segment, phrase), build, lambda found: found.nbytes + 200)


def _segment_terms(reader: SegmentReader, key: str, fieldname: str) -> list[str]:
    """A segment's terms of a field, sorted (segments never change); ``key``: its
    :func:`segment_key`."""
    return _TERMS.get_or_build(
        (key, fieldname),
        lambda: list(reader.field_terms(fieldname)),
        lambda terms: sum(len(term) + 60 for term in terms) + 100,
    )


class CommitArrays:
    """The arrays of one commit, built once and shared by every thread's snapshot of it.

    Before this, each server thread built its own copies after every commit: with eight
    threads and an author saving once a second, that was most of the CPU under load. Values
    are built by the first thread that needs them, with that thread's readers (Whoosh
    readers must not be shared), and are read-only afterwards.
    """

    def __init__(self) -> None:
        self._values: dict[object, object] = {}
        self._lock = threading.Lock()
        # answers computed on this commit (search results, related articles): valid until
        # the next commit, which brings a new CommitArrays
        self.answers = BoundedCache(max_bytes=ANSWER_CACHE_BYTES)

    def get(self, key: object, build: Callable[[], T]) -> T:
        found = self._values.get(key)
        if found is None:
            with self._lock:
                found = self._values.get(key)
                if found is None:
                    found = build()
                    if isinstance(found, np.ndarray):
                        found.flags.writeable = False
                    self._values[key] = found
        return found  # type: ignore[return-value]


class Snapshot:
    """The arrays ranking needs for one searcher (one commit of one generation).

    ``shared`` holds the arrays; pass the same object to every snapshot of the same commit.
    """

    def __init__(self, searcher: Searcher, shared: CommitArrays | None = None) -> None:
        self.searcher = searcher
        self.shared = shared or CommitArrays()
        # an index with no document yet has one empty reader, which has no columns at all
        found = [(sub, o) for sub, o in searcher.leaf_searchers() if sub.reader().doc_count_all()]
        self._leaf_searchers = [sub for sub, _ in found]
        self.leaves = [(sub.reader(), offset) for sub, offset in found]
        self._segment_keys = tuple(segment_key(reader) for reader, _ in self.leaves)
        # got here, not in term_docs: values built under the shared lock call term_docs.
        # Rank files are memory maps, not readers: shared by every thread
        self._units = self.shared.get(
            "rank units", lambda: rank_units([reader for reader, _ in self.leaves])
        )
        self.size = searcher.doc_count_all()
        self.live = self.shared.get("live", self._live)
        # the documents ranking statistics are taken over: all live ones, or, in a scoped
        # snapshot, those the caller may see
        self.population = self.live
        self.count = self.shared.get("count", lambda: int(self.live.sum()))
        self._norms_key: object = "norms"
        # a search's first clause scores, kept while it runs (see clause_score)
        self._clause_scores: dict[Clause, np.ndarray] | None = None

    def scoped(self, audiences: frozenset[str]) -> Snapshot:
        """This snapshot with its statistics (document count, document frequencies, average
        field lengths) taken over what ``audiences`` may see: then no score, and no order of
        results, depends on an article hidden from the caller."""
        view = copy.copy(self)
        view.population = self.audience_mask(audiences)
        view.count = self.shared.get(("count", audiences), lambda: int(view.population.sum()))
        view._norms_key = ("norms", audiences)
        view._clause_scores = {}
        return view

    def _live(self) -> np.ndarray:
        live = np.ones(self.size, dtype=bool)
        for reader, offset in self.leaves:
            if reader.has_deletions():
                deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
                live[deleted + offset] = False
        return live

    # ------------------------------------------------------------------ per-document arrays

    @property
    def norms(self) -> dict[str, np.ndarray]:
        """Per field, the BM25 length normaliser 1 - b + b * length / average length."""
        return self.shared.get(self._norms_key, self._norms)

    def _norms(self) -> dict[str, np.ndarray]:
        found = {}
        for name, spec in SCORED_FIELDS.items():
            lengths = self._concat([field_lengths(r, name) for r, _ in self.leaves])
            average = float(lengths[self.population].mean()) if self.count else 0.0
            relative = lengths / average if average else np.ones_like(lengths)
            found[name] = (1 - spec.b + spec.b * relative).astype(np.float32)
            found[name].flags.writeable = False
        return found

    def term_docs(self, fieldname: str, term: str) -> Postings:
        """Global doc numbers and term frequencies of a term, over all segments."""
        return self.postings_of([(fieldname, term)])[0]

    def postings_of(self, wanted: Sequence[tuple[str, str]]) -> list[Postings]:
        """:meth:`term_docs` of each (field, term) of ``wanted``, looked up together in each
        rank file or set (:meth:`RankFile.gathered`; see :class:`RankUnit`). Joined lists are cached by the segment list
        they were joined for: a full build on several cores leaves several segments, and a
        long query asks for hundreds of lists."""
        keys = [(self._segment_keys, fieldname, term) for fieldname, term in wanted]
        found: list[Postings | None] = [_JOINED.get(key) for key in keys]
        missing = [i for i, postings in enumerate(found) if postings is None]
        if missing and not self.leaves:  # an empty index
            return [(EMPTY_IDS, EMPTY_WEIGHTS)] * len(wanted)
        if missing:
            first = self.leaves[0][0]
            hashed = np.array([term_key(first, *wanted[i]) for i in missing], np.uint64)
            ids, weights, counts = [], [], []
            for unit in self._units:
                reader, offset = self.leaves[unit.first]
                if unit.rank is not None:
                    seg_ids, seg_weights, seg_counts = unit.rank.gathered(hashed)
                else:  # one segment
                    segment = self._segment_keys[unit.first]
                    pieces = [decoded_postings(reader, *wanted[i], segment) for i in missing]
                    seg_ids, seg_weights = _joined([p[0] for p in pieces], [p[1] for p in pieces])
                    seg_counts = np.array([len(p[0]) for p in pieces], dtype=np.int64)
                ids.append(seg_ids + offset if offset else seg_ids)
                weights.append(seg_weights)
                counts.append(seg_counts)
            for i, joined in zip(missing, _by_term(ids, weights, np.array(counts)), strict=True):
                found[i] = joined
                _JOINED.put(keys[i], joined, joined[0].nbytes + joined[1].nbytes + 200)
        return found  # type: ignore[return-value]  # every None was filled

    def seen_counts(self, wanted: Sequence[tuple[str, str]], visible: np.ndarray) -> list[int]:
        """How many of the ``visible`` documents hold each (field, term) of ``wanted`` (no
        full-size mask needed), looked up together: a half-typed word has hundreds of completions to count, and each lookup on its own
        visits every segment (1.2 s for "https" at 100,000 articles, 96 segments)."""
        return [int(visible[ids].sum()) for ids, _ in self.postings_of(wanted)]

    def audience_mask(self, audiences: frozenset[str]) -> np.ndarray:
        """Live documents in any of ``audiences``; shared by every search on this commit."""
        return self.shared.get(
            ("audience", audiences),
            lambda: self.term_mask("audience", sorted(audiences & set(AUDIENCES))),
        )

    def term_mask(self, fieldname: str, terms: list[str]) -> np.ndarray:
        """Live documents having any of ``terms`` in an ID or KEYWORD field."""
        mask = np.zeros(self.size, dtype=bool)
        for ids, _ in self.postings_of([(fieldname, term) for term in terms]):
            mask[ids] = True
        return mask & self.live

    def vocabularies(self, fieldname: str) -> list[list[str]]:
        """Each segment's terms of a field, sorted, kept in memory per segment."""
        return [
            _segment_terms(reader, key, fieldname)
            for (reader, _), key in zip(self.leaves, self._segment_keys, strict=True)
        ]

    def terms_beginning(self, fieldname: str, prefix: str, limit: int) -> list[str]:
        """The first ``limit`` terms of a field that begin with ``prefix``, in order, over
        every segment: what Whoosh's ``expand_prefix`` gives, from each segment's sorted
        terms held in memory (Whoosh seeks through every segment's term file for each
        prefix: 44 ms a query at 100,000 articles)."""
        found: set[str] = set()
        end = prefix + "\U0010ffff"  # past every term beginning with prefix
        for terms in self.vocabularies(fieldname):
            start = bisect.bisect_left(terms, prefix)
            found.update(terms[start : min(start + limit, bisect.bisect_left(terms, end, start))])
        return sorted(found)[:limit]

    def lexicon(self, fieldname: str) -> list[str]:
        """Every term of a field, sorted (for facets and case-insensitive facet filters),
        from each segment's vocabulary held in memory: merging every segment's term file
        again after each commit took most of a second at 100,000 articles."""
        vocabularies = self.vocabularies(fieldname)
        if len(vocabularies) == 1:
            return list(vocabularies[0])
        return sorted(set().union(*vocabularies))

    def phrase_docs(self, phrase: Phrase) -> np.ndarray:
        """Live documents holding ``phrase`` in any of its fields, kept for the commit:
        synonym phrases ("wireless network") recur in query after query. Rank files and
        sets list the synonym groups' phrases; any other is matched by Whoosh (see
        :func:`_segment_phrase_docs`)."""
        answer = ("phrase", phrase)
        found = self.shared.answers.get(answer)
        if found is None:
            found = np.zeros(self.size, dtype=bool)
            placed = placement(self.searcher.schema, phrase.text, phrase.fields)
            query, key = phrase_query(placed), phrase_key(placed)
            for unit in self._units:
                listed = unit.rank.lookup(key) if unit.rank is not None else None
                if listed is not None:
                    found[listed + self.leaves[unit.first][1]] = True
                    continue
                for at in range(unit.first, unit.first + unit.size):
                    docs = _segment_phrase_docs(self._leaf_searchers[at], query, phrase)
                    found[docs + self.leaves[at][1]] = True
            found &= self.live
            found.flags.writeable = False
            self.shared.answers.put(answer, found, found.nbytes + 200)
        return found

    @property
    def updated(self) -> np.ndarray:
        """Last-update time per document, as the column's integer."""
        return self.shared.get("updated", self._updated)

    def _updated(self) -> np.ndarray:
        return self._concat([_update_times(reader) for reader, _ in self.leaves])

    @property
    def _facets(self) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
        """Per facet field: its values, and (doc, value index) pairs of every posting."""
        return self.shared.get("facets", self._facet_postings)

    def _facet_postings(self) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
        found = {}
        for name in FACETS:
            values = self.lexicon(name)
            docs, indexes = [EMPTY_IDS], [EMPTY_IDS]
            # looked up together: after every commit, for thousands of values (one lookup
            # per value and segment took 8 s a commit at 100,000 articles, 77 segments)
            every = self.postings_of([(name, value) for value in values])
            for index, (ids, _) in enumerate(every):
                docs.append(ids)
                indexes.append(np.full(len(ids), index, dtype=np.int32))
            found[name] = (values, np.concatenate(docs), np.concatenate(indexes))
        return found

    def facet_counts(self, name: str, matched: np.ndarray) -> list[tuple[str, int]]:
        """(value, count) over the matched documents, most frequent first."""
        values, docs, indexes = self._facets[name]
        counts = np.bincount(indexes[matched[docs]], minlength=len(values))
        pairs = [(values[i], int(counts[i])) for i in np.flatnonzero(counts) if values[i]]
        return sorted(pairs, key=lambda item: (-item[1], item[0].lower()))

    def _concat(self, arrays: list[np.ndarray]) -> np.ndarray:
        if not arrays:
            return np.zeros(0, dtype=np.float32)
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

    # ------------------------------------------------------------------ scoring

    def document_frequency(self, hits: np.ndarray) -> int:
        """How many documents of the population are among ``hits`` (those a term weighs in):
        deleted documents keep their postings until a merge (after a large pull they
        outnumbered the live ones, which made the IDF negative), and hidden ones must not
        move a caller's scores."""
        return int(np.count_nonzero(self.population[hits]))

    def field_tf(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Documents holding ``term`` in a field, and its frequency there weighted by the
        field and normalised by the document's length in it (BM25F)."""
        ids, freqs = self.term_docs(fieldname, term)
        if not len(ids):
            return ids, freqs
        return ids, SCORED_FIELDS[fieldname].weight * freqs / self.norms[fieldname][ids]

    def term_tf(self, terms: dict[str, str], fields: tuple[str, ...]) -> np.ndarray:
        """Weighted frequency of one term (given per analyzer), added up across ``fields``."""
        return self._term_tf(terms, fields)[0]

    def _term_tf(
        self, terms: dict[str, str], fields: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`term_tf`, and the documents with any of it when they are cheaper to find
        from the postings than from the whole array (rare terms; None otherwise)."""
        tf = np.zeros(self.size, dtype=np.float32)
        found = []
        for name, term in field_terms(terms, fields):
            ids, weighted = self.field_tf(name, term)
            if len(ids):
                tf[ids] += weighted
                found.append(ids)
        if sum(len(ids) for ids in found) > self.size // 8:
            return tf, None
        if len(found) == 1:
            return tf, found[0]
        return tf, np.unique(np.concatenate(found)) if found else EMPTY_IDS

    def _bm25(self, tf: np.ndarray, hits: np.ndarray | None = None) -> np.ndarray:
        """Saturate weighted frequencies and scale by IDF (from documents with any match:
        ``hits``, or those of ``tf`` above 0: a common term's are not listed, and the whole
        array is saturated instead, which leaves zeros zero)."""
        if hits is None:
            df = int(np.count_nonzero(np.logical_and(tf, self.population)))
            return saturate(tf, idf(self.count, df)) if df else tf
        df = self.document_frequency(hits)
        if df:
            tf[hits] = saturate(tf[hits], idf(self.count, df))
        return tf

    def term_score(self, terms: dict[str, str], fields: tuple[str, ...]) -> np.ndarray:
        """BM25F of one term (given per analyzer) across ``fields``."""
        return self._bm25(*self._term_tf(terms, fields))

    def word_score(self, word: str, fields: tuple[str, ...] | None = None) -> np.ndarray:
        """BM25F of one word across ``fields``, plus a share for an identifier's parts."""
        fields = fields or WORD_FIELDS
        (whole, _), *parts = word_terms(word)
        score = self.term_score(whole, fields)
        for part, weight in parts:
            score += weight * self.term_score(part, fields)
        return score

    def form_score(self, form: Form) -> np.ndarray:
        """Score of one form of a clause, at its weight (see :class:`Form`)."""
        first, *others = form.words
        score = self.word_score(first, form.fields)  # a new array: added to in place
        for word in others:
            score += self.word_score(word, form.fields)
        if form.weight != 1.0:
            score *= form.weight
        if form.together is not None and score.any():
            score *= self.phrase_docs(form.together)
        return score

    def clause_score(self, clause: Clause) -> np.ndarray:
        """The best of a clause's forms (see :func:`clause_forms`), at the clause's weight;
        a half-typed word is scored with the words it begins (see :meth:`prefix_score`)."""
        kept = self._clause_scores
        found = kept.get(clause) if kept is not None else None
        if found is None:
            found = self._clause_score(clause)
            found.flags.writeable = False
            if kept is not None and len(kept) < KEPT_CLAUSE_SCORES:
                kept[clause] = found
        return found

    def _clause_score(self, clause: Clause) -> np.ndarray:
        if clause.prefix:
            return self.prefix_score(clause) * clause.weight
        typed, *alternatives = clause_forms(clause)
        best = self.form_score(typed)
        for form in alternatives:
            best = np.maximum(best, self.form_score(form))
        return best * clause.weight

    def prefix_score(self, clause: Clause) -> np.ndarray:
        """A half-typed word and the words it begins, scored as one term, the way search
        engines score a prefix: their frequencies add up and the IDF is that of all of them
        together. Scored apart, a rare word that happens to be the prefix ("serv", in one
        article's code) outweighed the common words it begins (server, service) that the
        typist was after. Each completion counts by how likely it is the word being typed
        (its document count against the most common of them and the typed word), at the
        clause's discount, in the same fields as a finished word: so results change little
        between "Netw", "Network" and "Network ", instead of jumping."""
        return self._bm25(self.prefix_tf(self.prefix_terms(clause)))

    @staticmethod
    def prefix_tf(terms: list[tuple[str, dict[str, str], float, np.ndarray]]) -> np.ndarray:
        """The one term :meth:`prefix_score` saturates: the weighted frequencies of the typed
        word and its completions (from :meth:`prefix_terms`), added up."""
        (_word, _terms, _weight, tf), *completions = terms
        tf = tf.copy()
        for _word, _terms, weight, term_tf in completions:
            tf += weight * term_tf
        return tf

    def prefix_terms(self, clause: Clause) -> list[tuple[str, dict[str, str], float, np.ndarray]]:
        """The terms :meth:`prefix_score` adds up: (word, its terms per analyzer, weight,
        weighted frequencies) of the typed word, at 1, then of each completion."""
        fields = clause.fields or WORD_FIELDS
        words = [clause.typed[0], *(form[0] for form in clause.forms[1:])]
        self.postings_of([ft for w in words for ft in field_terms(_whole(_analysed(w)), fields)])
        typed = _whole(_analysed(clause.typed[0]))
        found = [(clause.typed[0], typed, 1.0, self.term_tf(typed, fields))]
        seen = set(typed.items())
        completions = []
        for form in clause.forms[1:]:
            # only terms not counted yet: removed and removing share a stem, and the prose
            # form of dracut-initqueue is the typed dracut itself
            whole = {
                name: term
                for name, term in _whole(_analysed(form[0])).items()
                if (name, term) not in seen
            }
            if whole:
                seen.update(whole.items())
                completion = self.term_tf(whole, fields)
                df = self.document_frequency(np.flatnonzero(completion))
                completions.append((df, form[0], whole, completion))
        typed_df = self.document_frequency(np.flatnonzero(found[0][3]))
        most = max([typed_df, *(df for df, *_ in completions)])
        found += [
            (word, whole, clause.prefix * df / most, tf)
            for df, word, whole, tf in completions
            if df
        ]
        return found

    def content_hashes(self, docs: np.ndarray) -> list[str]:
        """The content hash of each of ``docs`` (global doc numbers), from each segment's
        column, read once per segment (a column reader over every segment, made for each
        query, read each segment's column index again: 16 ms a query at 100,000 articles)."""
        offsets = np.array([offset for _, offset in self.leaves])
        segments = np.searchsorted(offsets, docs, side="right") - 1
        columns = {
            s: column_values(self.leaves[s][0], "content_hash") for s in set(segments.tolist())
        }
        return [
            columns[s][int(doc) - int(offsets[s])].decode()
            for doc, s in zip(docs, segments, strict=True)
        ]

    def meaning_bonus(
        self, query: np.ndarray, scores: np.ndarray, matched: np.ndarray, store: VectorStore
    ) -> dict[int, float]:
        """What each of the MEANING_CANDIDATES best-scored ``matched`` documents gains for
        meaning what the query means: its cosine with the ``query`` vector (none below 0)
        times MEANING_WEIGHT times the best of their scores. Words find the candidates and
        meaning orders them: documents past the candidates, and those no word matched,
        gain nothing, and every candidate stays above them. A candidate whose vector
        ``store`` does not hold yet gains nothing either."""
        docs = np.flatnonzero(matched)
        if not len(docs) or not query.any():
            return {}
        if len(docs) > MEANING_CANDIDATES:
            docs = docs[np.argpartition(-scores[docs], MEANING_CANDIDATES)[:MEANING_CANDIDATES]]
        scale = MEANING_WEIGHT * float(scores[docs].max())
        cosines = store.get(self.content_hashes(docs)) @ query
        return {int(doc): scale * float(c) for doc, c in zip(docs, cosines, strict=True) if c > 0}

    def pair_score(self, clauses: tuple[Clause, ...]) -> np.ndarray | None:
        """Extra score for documents where neighbouring query words stand together."""
        pairs = pair_terms(clauses)
        if not pairs:
            return None
        scores = np.zeros(self.size, dtype=np.float32)
        for pair in pairs:
            scores += self.term_score({"pairs": pair}, ("pairs",))
        return scores * PAIR_WEIGHT

    def rank(self, parsed: ParsedQuery, phrase_docs: np.ndarray | None) -> Ranked:
        """Scores of every document for a parsed query, and which ones match it.

        ``phrase_docs``: documents holding the required phrases (None: no phrase required).
        """
        self.postings_of(query_terms(parsed))  # looked up together, then read from _JOINED
        scores = np.zeros(self.size, dtype=np.float32)
        matched = self.live.copy()
        hits = []
        for clause in parsed.clauses:
            clause_scores = self.clause_score(clause)
            hits.append(clause_scores > 0)
            if clause.required:
                matched &= hits[-1]
            scores += clause_scores
        pairs = self.pair_score(parsed.clauses)
        if pairs is not None:
            scores += pairs
        for clause in parsed.excluded:
            matched &= self.clause_score(clause) == 0
        if phrase_docs is not None:
            matched &= phrase_docs
            scores[phrase_docs] += PHRASE_BONUS  # the phrase is a match, even of stop words
        matched &= scores > 0
        return Ranked(scores, matched, tuple(hits), phrase_docs)
