"""Explanations of scores (SearchRequest(explain=True)): the parts add up to each hit's
score, say which form of each word matched and where, and count only what the caller may
see."""

from __future__ import annotations

import math

import pytest

from indexer import Explanation, Indexer, KnowledgeBase, SearchRequest, SearchResults
from indexer.search.explain import ClausePart, TermPart

from ..conftest import ROOT

PUBLIC = frozenset({"public"})
EVERYONE = frozenset({"public", "internal"})
# ranking adds in float32 and hits carry scores rounded to 4 decimals
TOLERANCE = 1e-3


def search(
    kb: KnowledgeBase, q: str, audiences: frozenset[str] = EVERYONE, **kwargs
) -> SearchResults:  # type: ignore[no-untyped-def]
    return kb.search(SearchRequest(q=q, audiences=audiences, explain=True, **kwargs))


def total(explanation: Explanation) -> float:
    clauses = sum(c.score for c in explanation.clauses)
    parts = explanation.pairs + explanation.phrase + explanation.meaning + explanation.exact
    return clauses + parts


def terms(clause: ClausePart) -> list[TermPart]:
    return [t for w in clause.match.words for t in w.terms] if clause.match else []


def check_adds_up(explanation: Explanation, score: float) -> None:
    """Each level is the sum of the one below, down to fields, and the top is the score."""
    assert explanation.score == pytest.approx(score, abs=TOLERANCE)
    assert total(explanation) == pytest.approx(explanation.score, rel=1e-5, abs=1e-6)
    for clause in explanation.clauses:
        words = clause.match.words if clause.match else ()
        assert clause.score == pytest.approx(sum(w.score for w in words), abs=1e-6)
        for word in words:
            assert word.score == pytest.approx(sum(t.score for t in word.terms), abs=1e-6)
    for term in [t for c in explanation.clauses for t in terms(c)] + [*explanation.pair_terms]:
        assert term.score == pytest.approx(sum(f.score for f in term.fields), rel=1e-5)
        assert term.tf == pytest.approx(sum(f.tf for f in term.fields), rel=1e-5)
        for part in term.fields:
            assert part.tf == pytest.approx(part.weight * part.frequency / part.norm, rel=1e-5)
        n, df, k1 = explanation.documents, term.df, explanation.k1
        assert 1 <= df <= n
        assert term.idf == pytest.approx(math.log(1 + (n - df + 0.5) / (df + 0.5)))
        assert term.saturated == pytest.approx(
            term.idf * term.tf * (k1 + 1) / (k1 + term.tf), rel=1e-5
        )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped sample KB: enough articles for pages of several hits."""
    indexer = Indexer(ROOT / "kb", tmp_path_factory.mktemp("sample") / "index")
    indexer.build()
    return KnowledgeBase(indexer.storage, ROOT / "kb")


QUERIES = [
    "printer offline",
    "kerberos ticket clock skew",
    "KRB_AP_ERR_MODIFIED",
    "0x80070005 access denied",
    "active directory replication",  # a synonym group of two words
    "AD",  # its alternative counts only where "active directory" stands together
    "pasword expird",  # spelling corrections
    "outl",  # a half-typed word and its completions
    "network p",
    '"clock skew" kerberos',  # a phrase
    "+dns -forwarder",
    "title:vpn",
    "2026-03-02 10:14:07 error 4625 logon failure",  # a log line: a bare number weighs less
    "KB-1022",  # an id: that article first
]


@pytest.mark.parametrize("who", ["anonymous", "tier2"])
@pytest.mark.parametrize("query", QUERIES)
def test_the_parts_add_up_to_every_hits_score(sample: KnowledgeBase, query: str, who: str) -> None:
    audiences = PUBLIC if who == "anonymous" else EVERYONE
    results = search(sample, query, audiences, limit=20)
    for hit in results.hits:
        assert hit.explain is not None
        check_adds_up(hit.explain, hit.score)


def test_the_parts_add_up_on_every_page_and_in_either_order(sample: KnowledgeBase) -> None:
    for page in (1, 2):
        for sort in ("relevance", "updated"):
            for hit in search(sample, "error service", limit=3, page=page, sort=sort).hits:
                check_adds_up(hit.explain, hit.score)


def test_without_explain_nothing_changes(sample: KnowledgeBase) -> None:
    for query in QUERIES:
        plain = sample.search(SearchRequest(q=query, audiences=EVERYONE, limit=20))
        explained = search(sample, query, limit=20)
        assert all(hit.explain is None for hit in plain.hits)
        assert [(h.id, h.score) for h in plain.hits] == [(h.id, h.score) for h in explained.hits]


def test_a_cached_answer_never_stands_for_the_other_kind(kb: KnowledgeBase) -> None:
    request = SearchRequest(q="outlook password", audiences=EVERYONE)
    assert all(hit.explain is None for hit in kb.search(request).hits)
    assert all(hit.explain is not None for hit in search(kb, "outlook password").hits)
    assert all(hit.explain is None for hit in kb.search(request).hits)


def _clause(results: SearchResults, hit_id: str, query: str) -> ClausePart:
    hit = next(h for h in results.hits if h.id == hit_id)
    return next(c for c in hit.explain.clauses if c.query == query)


def test_the_word_as_typed(kb: KnowledgeBase) -> None:
    clause = _clause(search(kb, "outlook password"), "KB-2002", "outlook")
    assert clause.match.kind == "typed" and clause.match.text == "outlook"
    assert clause.match.weight == 1.0
    fields = {f.field for t in terms(clause) for f in t.fields}
    assert "title" in fields  # "Outlook keeps asking for a password"


def test_a_synonym_match_is_labelled_as_one(kb: KnowledgeBase) -> None:
    results = search(kb, "e-mail")  # the synonyms shipped say email, e-mail
    clause = _clause(results, "KB-2002", "e-mail")
    assert clause.match.kind == "synonym" and clause.match.text == "email"
    assert clause.match.weight < 1  # an alternative counts for less than the word typed
    check_adds_up(results.hits[0].explain, results.hits[0].score)


def test_a_spelling_correction_is_labelled_as_one(kb: KnowledgeBase) -> None:
    results = search(kb, "outlok")
    assert results.corrected_query == "outlook"
    clause = _clause(results, "KB-2002", "outlok")  # the word as the user typed it
    assert clause.match.kind == "correction" and clause.match.text == "outlook"


def test_a_completion_of_a_half_typed_word_is_labelled_as_one(kb: KnowledgeBase) -> None:
    clause = _clause(search(kb, "outl"), "KB-2002", "outl")
    assert clause.match.kind == "completion" and clause.match.text == "outlook"
    assert 0 < clause.match.weight < 1


def test_a_field_restriction_shows_only_that_field(kb: KnowledgeBase) -> None:
    plain = _clause(search(kb, "outlook"), "KB-2002", "outlook")
    assert {f.field for t in terms(plain) for f in t.fields} > {"title"}  # body, meta...
    results = search(kb, "title:outlook")
    clause = _clause(results, "KB-2002", "outlook")
    assert clause.fields == ("title",) and clause.match.fields == ("title",)
    assert {f.field for t in terms(clause) for f in t.fields} == {"title"}
    check_adds_up(results.hits[0].explain, results.hits[0].score)


def test_identifier_parts_count_for_less_than_the_whole(kb: KnowledgeBase) -> None:
    clause = _clause(search(kb, "ERROR_ACCESS_DENIED"), "KB-2001", "ERROR_ACCESS_DENIED")
    whole = [t for t in terms(clause) if not t.part]
    parts = [t for t in terms(clause) if t.part]
    assert len(whole) == 1 and {t.term for t in parts} >= {"error", "access"}
    assert all(t.weight < whole[0].weight for t in parts)


def test_a_clause_that_matches_nothing_here_adds_nothing(kb: KnowledgeBase) -> None:
    hit = next(h for h in search(kb, "outlook spooler").hits if h.id == "KB-2002")
    clause = next(c for c in hit.explain.clauses if c.query == "spooler")
    assert clause.match is None and clause.score == 0


def test_neighbouring_words_the_phrase_and_an_exact_id_are_their_own_parts(
    kb: KnowledgeBase,
) -> None:
    together = search(kb, "keeps asking").hits[0]  # the title says "keeps asking"
    assert together.id == "KB-2002" and together.explain.pairs > 0
    assert together.explain.pair_terms and together.explain.phrase == 0

    phrase = search(kb, '"print spooler" crashes').hits[0]
    assert phrase.id == "printing/spooler" and phrase.explain.phrase > 0
    check_adds_up(phrase.explain, phrase.score)

    named = search(kb, "KB-2001")
    assert named.exact == "KB-2001" and named.hits[0].explain.exact > 0
    assert all(h.explain.exact == 0 for h in named.hits[1:])
    check_adds_up(named.hits[0].explain, named.hits[0].score)


def test_an_empty_query_explains_a_score_of_nothing(kb: KnowledgeBase) -> None:
    for hit in search(kb, "").hits:
        assert hit.explain.score == 0 == hit.score and hit.explain.clauses == ()


def test_the_statistics_count_only_what_the_caller_may_see(kb: KnowledgeBase) -> None:
    """Every sample article has a Resolution heading; two of the public ones (and two
    internal ones) hold the word."""
    for audiences in (PUBLIC, EVERYONE):
        visible = kb.search(SearchRequest(q="", audiences=audiences, limit=100)).total
        results = search(kb, "resolution", audiences)
        for hit in results.hits:
            assert hit.explain.documents == visible
            (term,) = terms(hit.explain.clauses[0])
            assert term.df == results.total
    assert search(kb, "resolution", PUBLIC).total < search(kb, "resolution").total
