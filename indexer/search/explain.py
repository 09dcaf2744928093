"""Why a result ranks where it does: its score taken apart, for the documents of one page.

Ranking (:mod:`indexer.search.ranking`) scores every document at once; this recomputes, for the
few documents of a result page, the parts their scores are made of, from the same snapshot
(so from the same statistics, scoped to what the caller may see) and with the same
formulas (``idf``, ``saturate``, ``Snapshot.field_tf``, ``word_terms``, ``clause_forms``,
``pair_terms``). Per clause: the form that matched (the word as typed, a synonym, a
spelling correction, a completion of a half-typed word) and, per word and index term, its
weighted frequency in each field, its IDF and its saturated BM25F value; then the bonus for
neighbouring words standing together, the phrase bonus, what meaning added (see
``Snapshot.meaning_bonus``) and the boost of an article the query names exactly.

Every ``score`` here is what that part added to the document's score, so the parts add up:
``score = sum(clause.score) + pairs.score + phrase + meaning + exact`` (within float rounding:
ranking adds in float32). A field's score is its term's score shared among the fields in
proportion to their weighted frequencies: BM25F adds frequencies across fields *before*
saturating, so that share is the only way to say what one field added.

Only for explain requests: the normal search path never comes here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..text.query import Clause, ParsedQuery
from .ranking import (
    K1,
    PAIR_WEIGHT,
    PHRASE_BONUS,
    SCORED_FIELDS,
    WORD_FIELDS,
    Form,
    Ranked,
    Snapshot,
    clause_forms,
    field_terms,
    idf,
    pair_terms,
    saturate,
    word_terms,
)

FORM_KINDS = ("typed", "synonym", "correction", "completion")  # what matched: FormPart.kind


@dataclass(frozen=True)
class FieldPart:
    field: str
    term: str  # the index term, as this field's analyzer makes it
    frequency: float  # occurrences in the field (as the index keeps it)
    weight: float  # the field's weight
    norm: float  # length normaliser: 1 - b + b * length / average length
    tf: float  # weight * frequency / norm
    score: float  # the term's score, shared among its fields in proportion to tf


@dataclass(frozen=True)
class TermPart:
    term: str
    part: bool  # a part of an identifier ("access" of ERROR_ACCESS_DENIED), not the whole
    weight: float  # 1, PART_WEIGHT for a part, PAIR_WEIGHT for a pair
    tf: float  # weighted frequency, all fields added
    df: int  # documents holding it, among those the caller may see
    idf: float
    saturated: float  # idf * tf * (k1 + 1) / (k1 + tf)
    score: float  # saturated * weight, times its form's and clause's weights
    fields: tuple[FieldPart, ...]


@dataclass(frozen=True)
class WordPart:
    word: str
    score: float
    terms: tuple[TermPart, ...]  # those found in the document


@dataclass(frozen=True)
class FormPart:
    text: str
    kind: str  # one of FORM_KINDS
    weight: float  # against the typed form: 1, a synonym's or a completion's discount
    fields: tuple[str, ...]  # where its words were looked for
    words: tuple[WordPart, ...]


@dataclass(frozen=True)
class ClausePart:
    query: str  # the clause as typed
    fields: tuple[str, ...] | None  # a restriction typed (title:word); None: every field
    required: bool
    weight: float  # the clause's weight (less for a bare number in a pasted log line)
    score: float
    match: FormPart | None  # None: the clause matched nothing in this document


@dataclass(frozen=True)
class Explanation:
    score: float  # the document's score
    documents: int  # documents the IDFs count over (those the caller may see)
    k1: float
    clauses: tuple[ClausePart, ...]
    pairs: float  # neighbouring query words standing together in the document
    pair_terms: tuple[TermPart, ...]
    phrase: float  # the document holds the query's "phrases"
    meaning: float  # it means what the query means (its meaning vector is close)
    exact: float  # the query names this article: it is put first

    def approx_bytes(self) -> int:
        """About what the answer cache holds for this explanation."""
        return len(repr(self))


@dataclass(frozen=True)
class _Stats:
    """One term at the page's documents: what ``Snapshot.term_score`` computes, in parts.
    ``fields``: per field searched, (field, index term, frequency, norm, weighted tf)."""

    label: str
    df: int
    idf: float
    tf: np.ndarray
    saturated: np.ndarray
    fields: tuple[tuple[str, str, np.ndarray, np.ndarray, np.ndarray], ...]


class _Page:
    def __init__(self, snapshot: Snapshot, docs: np.ndarray) -> None:
        self.snapshot = snapshot
        self.docs = docs
        self._stats: dict[tuple[object, ...], _Stats] = {}

    def _at(self, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` (one per doc of ``ids``) at the page's documents; 0 where absent."""
        full = np.zeros(self.snapshot.size, dtype=np.float32)
        full[ids] = values
        return full[self.docs]

    def stats(self, terms: dict[str, str], fields: tuple[str, ...]) -> _Stats:
        key = (tuple(sorted(terms.items())), fields)
        found = self._stats.get(key)
        if found is None:
            found = self._stats[key] = self._compute(terms, fields)
        return found

    def _compute(self, terms: dict[str, str], fields: tuple[str, ...]) -> _Stats:
        snapshot = self.snapshot
        everywhere = snapshot.term_tf(terms, fields)
        df = snapshot.document_frequency(np.flatnonzero(everywhere))
        idf_value = idf(snapshot.count, df) if df else 0.0
        tf = everywhere[self.docs]
        parts = []
        for name, term in field_terms(terms, fields):
            ids, weighted = snapshot.field_tf(name, term)
            freqs = snapshot.term_docs(name, term)[1]
            parts.append(
                (
                    name,
                    term,
                    self._at(ids, freqs),
                    snapshot.norms[name][self.docs],
                    self._at(ids, weighted),
                )
            )
        label = terms.get("identifier") or next(iter(terms.values()), "")
        return _Stats(label, df, idf_value, tf, saturate(tf, idf_value), tuple(parts))

    def term_part(
        self, stats: _Stats, j: int, part: bool, weight: float, scale: float
    ) -> TermPart | None:
        """The term in the page's ``j``-th document, ``scale`` being the weights of its
        form and clause; None if the document does not hold it."""
        tf = float(stats.tf[j])
        if tf <= 0:
            return None
        score = float(stats.saturated[j]) * weight * scale
        fields = tuple(
            FieldPart(
                name,
                term,
                float(freq[j]),
                SCORED_FIELDS[name].weight,
                float(norm[j]),
                float(weighted[j]),
                score * float(weighted[j]) / tf,
            )
            for name, term, freq, norm, weighted in stats.fields
            if weighted[j] > 0
        )
        return TermPart(
            stats.label,
            part,
            weight,
            tf,
            stats.df,
            stats.idf,
            float(stats.saturated[j]),
            score,
            fields,
        )

    def form_values(self, form: Form) -> np.ndarray:
        """What ``Snapshot.form_score`` gives the page's documents, from the same parts."""
        value = np.zeros(len(self.docs))
        for word in form.words:
            for terms, weight in word_terms(word):
                value += weight * self.stats(terms, form.fields).saturated
        value *= form.weight
        if form.together is not None:
            value *= self.snapshot.phrase_docs(form.together)[self.docs]
        return value

    def word_part(self, word: str, form: Form, j: int, scale: float) -> WordPart:
        terms = []
        for number, (found, weight) in enumerate(word_terms(word)):
            term = self.term_part(self.stats(found, form.fields), j, number > 0, weight, scale)
            if term is not None:
                terms.append(term)
        return WordPart(word, sum((t.score for t in terms), 0.0), tuple(terms))

    def prefix_parts(self, clause: Clause) -> list[ClausePart]:
        """A half-typed word in each of the page's documents: one term, the typed word's
        and its completions' frequencies added up (see ``Snapshot.prefix_score``). A
        completion's field weight is the field's times its own weight."""
        snapshot, fields = self.snapshot, clause.fields or WORD_FIELDS
        included = snapshot.prefix_terms(clause)
        everywhere = snapshot.prefix_tf(included)
        df = snapshot.document_frequency(np.flatnonzero(everywhere))
        idf_value = idf(snapshot.count, df) if df else 0.0
        tf = everywhere[self.docs]
        saturated = saturate(tf, idf_value)
        parts = []  # (word, field, term, frequency, norm, weighted tf, field weight)
        for word, terms, weight, _ in included:
            for name, term in field_terms(terms, fields):
                ids, weighted = snapshot.field_tf(name, term)
                parts.append(
                    (
                        word,
                        name,
                        term,
                        self._at(ids, snapshot.term_docs(name, term)[1]),
                        snapshot.norms[name][self.docs],
                        self._at(ids, weighted) * weight,
                        SCORED_FIELDS[name].weight * weight,
                    )
                )
        label, found = " ".join(clause.typed), []
        for j in range(len(self.docs)):
            held, score, match = float(tf[j]), 0.0, None
            if held > 0:
                score = float(saturated[j]) * clause.weight
                in_doc = [part for part in parts if part[5][j] > 0]
                field_parts = tuple(
                    FieldPart(
                        name,
                        term,
                        float(freq[j]),
                        field_weight,
                        float(norm[j]),
                        float(weighted[j]),
                        score * float(weighted[j]) / held,
                    )
                    for _, name, term, freq, norm, weighted, field_weight in in_doc
                )
                term_part = TermPart(
                    label, False, 1.0, held, df, idf_value, float(saturated[j]), score, field_parts
                )
                words = list(dict.fromkeys(part[0] for part in in_doc))
                kind = "typed" if words == [clause.typed[0]] else "completion"
                match = FormPart(
                    " ".join(words),
                    kind,
                    1.0 if kind == "typed" else clause.prefix,
                    fields,
                    (WordPart(label, score, (term_part,)),),
                )
            found.append(
                ClausePart(label, clause.fields, clause.required, clause.weight, score, match)
            )
        return found

    def clause_parts(self, clause: Clause) -> list[ClausePart]:
        """The clause in each of the page's documents."""
        if clause.prefix:
            return self.prefix_parts(clause)
        forms = clause_forms(clause)
        values = np.array([self.form_values(form) for form in forms])
        best = values.argmax(axis=0)  # the first of equals: the typed form before others
        found = []
        for j in range(len(self.docs)):
            index = int(best[j])
            score = float(values[index, j]) * clause.weight
            match = None
            if score > 0:
                form = forms[index]
                scale = form.weight * clause.weight
                words = tuple(self.word_part(w, form, j, scale) for w in form.words)
                match = FormPart(
                    " ".join(form.words), _kind(clause, index), form.weight, form.fields, words
                )
                score = sum((w.score for w in words), 0.0)
            found.append(
                ClausePart(
                    clause.corrected_from or " ".join(clause.typed),
                    clause.fields,
                    clause.required,
                    clause.weight,
                    score,
                    match,
                )
            )
        return found


def _kind(clause: Clause, index: int) -> str:
    if index == 0:
        return "correction" if clause.corrected_from else "typed"
    return "synonym"


def explain(
    snapshot: Snapshot,
    parsed: ParsedQuery,
    ranked: Ranked | None,
    docs: Sequence[int],
    scores: np.ndarray | None,
    meant: dict[int, float],
    unboosted: dict[int, float],
) -> list[Explanation]:
    """An explanation of the score of each of ``docs`` (a result page).

    ``parsed``: the query as ranked (rewritten); ``ranked``: its ranking (None for a query
    with nothing to rank by, whose results all score 0); ``scores``: the final scores;
    ``meant``: what meaning added to each document's score (none: nothing);
    ``unboosted``: the score ranking gave each document the query names exactly, before
    that document was put first.
    """
    if ranked is None or scores is None:
        return [Explanation(0.0, snapshot.count, K1, (), 0.0, (), 0.0, 0.0, 0.0) for _ in docs]
    page = _Page(snapshot, np.asarray(docs, dtype=np.int64))
    clauses = [page.clause_parts(c) for c in parsed.clauses]
    pairs = [page.stats({"pairs": p}, ("pairs",)) for p in pair_terms(parsed.clauses)]
    found = []
    for j, doc in enumerate(docs):
        held = [page.term_part(stats, j, False, PAIR_WEIGHT, 1.0) for stats in pairs]
        pair_parts = tuple(part for part in held if part is not None)
        score = float(scores[doc])
        phrase = ranked.phrase_docs is not None and bool(ranked.phrase_docs[doc])
        found.append(
            Explanation(
                score=score,
                documents=snapshot.count,
                k1=K1,
                clauses=tuple(parts[j] for parts in clauses),
                pairs=sum((t.score for t in pair_parts), 0.0),
                pair_terms=pair_parts,
                phrase=PHRASE_BONUS if phrase else 0.0,
                meaning=meant.get(doc, 0.0),
                exact=score - unboosted[doc] if doc in unboosted else 0.0,
            )
        )
    return found
