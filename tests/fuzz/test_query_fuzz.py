"""Property tests of the query path below HTTP: parsing, search, autocomplete and suggestions
over a real index of the sample KB. Whatever is typed, nothing raises (a bad parameter raises
SearchRequestError, which the server answers 400), every call is quick, and nothing from an
internal article reaches a reader who may only see public ones.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from indexer import KnowledgeBase, SearchRequest, SearchRequestError, SearchResults
from indexer.search.answers import MAX_LIMIT, MAX_RESULT_WINDOW
from indexer.text.query import MAX_QUERY_CHARS, MAX_WORDS, parse

from ..fixtures import MARKER
from .strategies import any_query, param_text, pathological_queries, queries
from .support import QUERY_SECONDS, TICKET_SECONDS, bounded, count, examples

PUBLIC = frozenset({"public"})
EVERYONE = frozenset({"public", "internal"})
audiences = st.sampled_from((PUBLIC, EVERYONE, frozenset()))


def _leaks(results: SearchResults, typed: str) -> bool:
    """Whether anything but the echoed query mentions the internal-only word."""
    shown = json.dumps([r.__dict__ for r in results.hits] + [results.facets]).lower()
    corrected = (results.corrected_query or "").lower()
    return MARKER in shown or (MARKER in corrected and MARKER not in typed.lower())


def _check_results(results: SearchResults, request: SearchRequest) -> None:
    assert 0 <= len(results.hits) <= request.limit
    assert results.total >= len(results.hits)
    assert results.pages >= 1
    for hit in results.hits:
        assert hit.audience in request.audiences
        # the snippet is escaped text with <mark> around matches, and nothing else
        assert not re.search(r"[<>]", re.sub(r"</?mark>", "", hit.snippet)), hit.snippet


@examples(2)
@given(text=any_query)
@example(text="(" * 10_000 + ")" * 10_000)
@example(text='"' * 10_000)
@example(text=" OR ".join(["outlook"] * 2000))
@example(text="*a*b*c*" * 1000)
@example(text="\x00\u202e\ud800" * 2000)
def test_parsing_any_text_never_fails_and_is_bounded(text: str) -> None:
    """parse() promises never to raise: whatever does not parse as syntax is searched."""
    count("query parses")
    with bounded(QUERY_SECONDS, text):
        parsed = parse(text)
    assert len(parsed.clauses) <= MAX_WORDS
    assert len(parsed.phrases) <= MAX_WORDS
    assert len(parsed.excluded) <= MAX_WORDS
    assert all(form and all(form) for clause in parsed.clauses for form in clause.forms)
    assert parse(text[:MAX_QUERY_CHARS]) == parsed  # the rest of a long paste is never read


@examples(1)
@given(text=any_query, who=audiences)
@example(text="(" * 2000 + MARKER + ")" * 2000, who=PUBLIC)
@example(text=f'"{MARKER}" tag:{MARKER} title:{MARKER[:-1]}', who=PUBLIC)
def test_any_query_searches_quickly_without_leaking(
    kb: KnowledgeBase, text: str, who: frozenset[str]
) -> None:
    """Every query answers results within the asker's audiences, in well under a second."""
    count("searches")
    request = SearchRequest(q=text, audiences=who)
    with bounded(QUERY_SECONDS, text):
        results = kb.search(request)
    _check_results(results, request)
    if "internal" not in who:
        assert not _leaks(results, text)


@examples(1)
@given(
    text=st.one_of(queries(max_tokens=6), st.just("")),
    page=st.integers(-2, 12_000),
    limit=st.integers(-2, 150),
    sort=st.one_of(st.sampled_from(("relevance", "updated")), param_text),
    kind=st.one_of(
        st.none(), st.sampled_from(("resolution", "config-note", "article")), param_text
    ),
    systems=st.lists(param_text, max_size=3),
    tags=st.lists(param_text, max_size=3),
    who=audiences,
)
def test_any_parameters_give_results_or_a_named_error(
    kb: KnowledgeBase,
    text: str,
    page: int,
    limit: int,
    sort: str,
    kind: str | None,
    systems: list[str],
    tags: list[str],
    who: frozenset[str],
) -> None:
    """Out-of-range paging, unknown sorts and odd filters raise SearchRequestError (a 400)."""
    count("searches with parameters")
    filters = (("systems", tuple(systems)), ("tags", tuple(tags)))
    request = SearchRequest(text, who, page, limit, kind, filters, sort)
    valid = 1 <= limit <= MAX_LIMIT and page >= 1 and page * limit <= MAX_RESULT_WINDOW
    valid = valid and sort in ("relevance", "updated")
    with bounded(QUERY_SECONDS, request):
        if not valid:
            with pytest.raises(SearchRequestError):
                kb.search(request)
            return
        results = kb.search(request)
    _check_results(results, request)


@examples(1)
@given(text=any_query, who=audiences)
@example(text=MARKER[:4], who=PUBLIC)
@example(text=f"etcdHigh {MARKER[:3]}", who=PUBLIC)
def test_autocomplete_answers_anything_with_visible_titles_only(
    kb: KnowledgeBase, text: str, who: frozenset[str]
) -> None:
    count("autocompletes")
    with bounded(QUERY_SECONDS, text):
        found = kb.autocomplete(text, who)
    assert len(found) <= 16
    assert all(c.kind in ("article", "error_code", "tag") and c.text for c in found)
    if "internal" not in who:
        assert not any(MARKER in c.text.lower() or c.ref == "KB-2003" for c in found)


ticket_parts = st.one_of(
    any_query,
    st.text(max_size=2000),
    st.builds(
        lambda unit, n: unit * n,
        st.sampled_from(("word ", "Err_1x ", "ab.ab ", "é")),
        st.integers(1000, 60_000),
    ),
)


@examples(0.5)
@given(subject=ticket_parts, description=ticket_parts, limit=st.integers(1, 20), who=audiences)
@example(
    subject="",
    description=" ".join(f"word{i}x{i * 7919}" for i in range(30_000)),
    limit=5,
    who=PUBLIC,
)
def test_suggest_handles_any_ticket_text(
    kb: KnowledgeBase, subject: str, description: str, limit: int, who: frozenset[str]
) -> None:
    """A ticket is searched in bounded time and answers with a bounded query, even with pages
    of pasted logs."""
    count("suggestions")
    with bounded(TICKET_SECONDS, (subject[:100], description[:100])):
        results = kb.suggest(subject, description, who, limit)
    assert len(results.query) <= MAX_QUERY_CHARS
    _check_results(results, SearchRequest(q=results.query, audiences=who, limit=limit))
    if "internal" not in who:
        assert not _leaks(results, subject + description)


@examples(0.25)
@given(text=pathological_queries())
def test_pathological_queries_take_well_under_a_second_everywhere(
    kb: KnowledgeBase, text: str
) -> None:
    """Nesting and repetition thousands deep: no parser here recurses or backtracks on them."""
    count("pathological queries")
    with bounded(QUERY_SECONDS, text):
        kb.search(SearchRequest(q=text[:4000], audiences=EVERYONE))
    with bounded(QUERY_SECONDS, text):
        kb.autocomplete(text, EVERYONE)
