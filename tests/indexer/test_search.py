"""Searching: ranking of codes, audiences, facets, paging, snippets and odd queries."""

from pathlib import Path

import pytest

from indexer import Indexer, KnowledgeBase, SearchRequest, SearchRequestError

from ..fixtures import MARKER, write

EVERYONE = frozenset({"public", "internal"})
PUBLIC = frozenset({"public"})


def search(kb: KnowledgeBase, q: str, audiences: frozenset[str] = EVERYONE, **kwargs):  # type: ignore[no-untyped-def]
    """``systems=(...)``, ``tags=(...)``: filter by those facets."""
    filters = tuple((name, kwargs.pop(name)) for name in ("systems", "tags") if name in kwargs)
    return kb.search(SearchRequest(q=q, audiences=audiences, filters=filters, **kwargs))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0x80070005", "KB-2001"),
        ("80070005", "KB-2001"),
        ("ERROR_ACCESS_DENIED", "KB-2001"),
        ("etcdHighFsyncDurations", "KB-2003"),
        ("outlook password prompt", "KB-2002"),
        ("event ID 7031", "printing/spooler"),
        ("2026-03-02 10:14:07:118 Agent * WARNING: Install failed, error = 0x80070005", "KB-2001"),
    ],
)
def test_the_right_article_comes_first(kb: KnowledgeBase, query: str, expected: str) -> None:
    assert search(kb, query).hits[0].id == expected


def test_anonymous_never_sees_internal_articles(kb: KnowledgeBase) -> None:
    results = search(kb, f"{MARKER} etcdHighFsyncDurations", PUBLIC)
    assert results.total == 0
    browse = search(kb, "", PUBLIC, limit=50)
    assert "KB-2003" not in {h.id for h in browse.hits}
    assert all(MARKER not in value for value, _ in browse.facets["tags"])
    assert kb.lookup("KB-2003", PUBLIC).article is None
    assert [a.id for a in kb.by_ticket("INC-1001", PUBLIC)] == ["KB-2001"]
    assert not kb.asset_visible("k8s/secret.svg", PUBLIC)
    assert kb.asset_visible("k8s/secret.svg", EVERYONE)
    assert kb.asset_visible("email/img/flow.svg", PUBLIC)


def test_ticket_lookup_is_case_insensitive(kb: KnowledgeBase) -> None:
    assert {a.id for a in kb.by_ticket("inc-1001", EVERYONE)} == {"KB-2001", "KB-2003"}


def test_facets_count_matches_and_filters_apply(kb: KnowledgeBase) -> None:
    results = search(kb, "", EVERYONE, limit=50)
    assert dict(results.facets["type"]) == {"resolution": 3, "config-note": 1, "article": 1}
    assert [h.id for h in search(kb, "", EVERYONE, type="config-note").hits] == [
        "network/dns-forwarders"
    ]
    assert [h.id for h in search(kb, "", EVERYONE, systems=("windows 11",)).hits] == ["KB-2001"]
    assert [h.id for h in search(kb, "", EVERYONE, tags=("email",)).hits] == ["KB-2002"]
    assert search(kb, "", EVERYONE, tags=("no-such-tag",)).total == 0


def test_paging_walks_through_all_results(kb: KnowledgeBase) -> None:
    first = search(kb, "", EVERYONE, limit=2, page=1)
    second = search(kb, "", EVERYONE, limit=2, page=2)
    third = search(kb, "", EVERYONE, limit=2, page=3)
    seen = [h.id for page in (first, second, third) for h in page.hits]
    assert len(seen) == len(set(seen)) == 5
    assert first.pages == 3


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"limit": 101}, {"page": 0}, {"sort": "random"}, {"page": 2000, "limit": 10}],
)
def test_bad_parameters_are_rejected_with_a_reason(kb: KnowledgeBase, kwargs: dict) -> None:
    with pytest.raises(SearchRequestError):
        search(kb, "x", **kwargs)


def test_sort_by_last_update(kb: KnowledgeBase) -> None:
    hits = search(kb, "", sort="updated", limit=50).hits
    assert [h.updated for h in hits] == sorted((h.updated for h in hits), reverse=True)


def test_snippet_shows_the_matching_passage_and_its_section(kb: KnowledgeBase) -> None:
    hit = search(kb, "SoftwareDistribution permissions").hits[0]
    assert hit.id == "KB-2001"
    assert hit.section_anchor == "cause"
    assert "<mark>SoftwareDistribution</mark>" in hit.snippet


def test_snippet_escapes_html(kb: KnowledgeBase) -> None:
    hit = search(kb, "alert xss").hits[0]
    assert "<script" not in hit.snippet


def test_quoted_phrase_must_match_as_a_phrase(kb: KnowledgeBase) -> None:
    assert [h.id for h in search(kb, '"cached credentials"').hits] == ["KB-2002"]
    # a phrase nothing contains falls back to the words
    assert search(kb, '"credentials cached outlook"').total >= 1


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""""',
        "AND OR NOT",
        "(((",
        "*",
        "?",
        "title:",
        "\\",
        "x" * 3000,
        "🔥 ошибка",
        "\x00",
        "0x",
        "a:b:c",
    ],
)
def test_odd_queries_never_raise(kb: KnowledgeBase, query: str) -> None:
    results = search(kb, query)
    assert results.total >= 0


# ---------------------------------------------------------------------- query syntax


def ids(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.id for h in results.hits]


def test_advanced_syntax_filters_and_excludes(kb: KnowledgeBase) -> None:
    assert "KB-2002" in ids(search(kb, "password"))
    assert "KB-2002" not in ids(search(kb, "password -outlook"))
    assert ids(search(kb, "tag:email password")) == ["KB-2002"]
    assert ids(search(kb, "type:config-note")) == ["network/dns-forwarders"]
    assert ids(search(kb, "title:spooler")) == ["printing/spooler"]
    assert ids(search(kb, "credentials AND outlook")) == ["KB-2002"]
    assert search(kb, "credentials AND windows").total == 0
    assert ids(search(kb, '"print spooler"'))[0] == "printing/spooler"
    # a phrase no article has is relaxed to its words rather than finding nothing
    assert search(kb, '"spooler print unexpectedly crashed"').total >= 1


def test_misspelt_words_are_corrected_from_the_visible_vocabulary(kb: KnowledgeBase) -> None:
    results = search(kb, "outlok pasword")
    assert results.corrected_query == "outlook password"
    assert ids(results)[0] == "KB-2002"
    assert search(kb, "outlook password").corrected_query is None


def test_corrections_never_reveal_words_of_hidden_articles(kb: KnowledgeBase) -> None:
    typo = MARKER[:-2] + MARKER[-1]  # one letter dropped
    assert search(kb, typo, EVERYONE).corrected_query == MARKER
    public = search(kb, typo, PUBLIC)
    assert MARKER not in (public.corrected_query or "")
    assert public.total == 0


def test_synonyms_file_is_applied_without_a_rebuild(kb: KnowledgeBase, kb_dir) -> None:  # type: ignore[no-untyped-def]
    assert "printing/spooler" not in ids(search(kb, "zebrafax"))
    (kb_dir / "_synonyms.yml").write_text("synonyms:\n  - zebrafax, print spooler\n")
    assert ids(search(kb, "zebrafax"))[0] == "printing/spooler"
    (kb_dir / "_synonyms.yml").write_text("synonyms: [unclosed\n")  # broken: keep the last good
    assert ids(search(kb, "zebrafax"))[0] == "printing/spooler"
    assert kb.synonyms.problem is not None
    assert "_synonyms.yml" in str(kb.synonyms.problem)


def test_shipped_synonyms_expand_acronyms(kb: KnowledgeBase, indexer, kb_dir) -> None:  # type: ignore[no-untyped-def]
    (kb_dir / "identity").mkdir()
    (kb_dir / "identity" / "push.md").write_text(
        "---\nid: KB-2009\naudience: public\n---\n# Push prompts never arrive\n\n"
        "The multi-factor authentication app shows nothing.\n"
    )
    indexer.update(["identity/push.md"])
    assert ids(search(kb, "2FA")) == ["KB-2009"]  # 2FA = multi-factor authentication


# ---------------------------------------------------------------------- autocomplete, related


def test_autocomplete_offers_titles_codes_and_tags_the_asker_may_see(kb: KnowledgeBase) -> None:
    found = {(c.kind, c.text) for c in kb.autocomplete("outl", PUBLIC)}
    assert ("article", "Outlook keeps asking for a password") in found
    # as the article writes it, not as it is indexed ("80070005")
    assert ("error_code", "0x80070005") in {
        (c.kind, c.text) for c in kb.autocomplete("0x8007", PUBLIC)
    }
    assert ("tag", "email") in {(c.kind, c.text) for c in kb.autocomplete("ema", PUBLIC)}
    assert kb.autocomplete("etcdH", EVERYONE)
    for text in ("etcdH", MARKER[:4], "zanz"):
        assert not kb.autocomplete(text, PUBLIC), text


def test_related_articles_share_words_and_respect_access(kb: KnowledgeBase) -> None:
    related = [a.id for a in kb.related("KB-2001", EVERYONE)]
    assert related and "KB-2001" not in related
    assert "KB-2003" not in [a.id for a in kb.related("KB-2001", PUBLIC)]
    assert kb.related("KB-2003", PUBLIC) == []


def test_repeated_searches_follow_every_commit(kb: KnowledgeBase, indexer, kb_dir) -> None:  # type: ignore[no-untyped-def]
    """Results are cached per commit: the same query after a save shows the saved text."""
    assert ids(search(kb, "spooler"))[0] == "printing/spooler"
    (kb_dir / "printing" / "spooler.md").unlink()
    indexer.update(["printing/spooler.md"])
    assert "printing/spooler" not in ids(search(kb, "spooler"))


def test_words_stay_findable_after_most_articles_are_rewritten(
    kb: KnowledgeBase,
    indexer,  # type: ignore[no-untyped-def]
    kb_dir,
) -> None:
    """Rewritten articles leave deleted postings until a merge; a word's document count
    must not include them (it once exceeded the live count and no article matched)."""
    paths = [f"bulk/a{n}.md" for n in range(8)]
    for version in (1, 2):
        for n, path in enumerate(paths):
            write(kb_dir, path, f"---\nid: BULK-{n}\n---\nrewrittenword, version {version}\n")
        indexer.update(paths)
    assert search(kb, "rewrittenword").total == 8
    assert search(kb, "version").total >= 8


def _public_scores(kb: KnowledgeBase, query: str) -> dict[str, float]:
    return {hit.id: hit.score for hit in search(kb, query, PUBLIC, limit=50).hits}


def test_what_anonymous_readers_get_never_depends_on_internal_articles(
    kb: KnowledgeBase, indexer: Indexer, kb_dir: Path
) -> None:
    """Scores and order are computed over what the caller may see: internal articles holding
    the words, more of them, and longer ones leave every public score exactly as it was."""
    queries = ["update error", "outlook password", "0x80070005 permissions", "dns"]
    before = {q: _public_scores(kb, q) for q in queries}
    related_before = [a.id for a in kb.related("KB-2001", PUBLIC)]
    completions_before = kb.autocomplete("outl", PUBLIC)
    words = "update error outlook password permissions dns 0x80070005 " * 40
    for n in range(5):
        write(
            kb_dir,
            f"secret/extra-{n}.md",
            f"---\nid: KB-S{n}\naudience: internal\n---\n"
            f"# Update error outlook password {n}\n\n{words * (n + 1)}\n",
        )
    indexer.update([f"secret/extra-{n}.md" for n in range(5)])
    assert search(kb, "update error", EVERYONE).total > search(kb, "update error", PUBLIC).total
    assert {q: _public_scores(kb, q) for q in queries} == before
    assert [a.id for a in kb.related("KB-2001", PUBLIC)] == related_before
    assert kb.autocomplete("outl", PUBLIC) == completions_before


def test_a_quoted_message_with_stop_words_in_it_matches_where_it_is_written(
    tmp_path: Path,
) -> None:
    """ "Access is denied" is how Windows says it. The index leaves the stop word's place
    empty: the phrase must match there, exactly (it matched only "access denied")."""
    for name, message in (("said", "Access is denied"), ("other", "access denied")):
        write(
            tmp_path / "kb",
            f"{name}.md",
            (
                f"---\nid: KB-{len(name)}\ntitle: Replication stops\ntype: resolution\n"
                f"audience: public\n---\n## Symptoms\n\nThe log shows: {message}, then retries.\n"
            ),
        )
    indexer = Indexer(tmp_path / "kb", tmp_path / "index")
    indexer.build()
    kb = KnowledgeBase(indexer.storage, tmp_path / "kb")
    assert [hit.path for hit in search(kb, '"access is denied"').hits] == ["said.md"]
    assert [hit.path for hit in search(kb, '"access denied"').hits] == ["other.md"]


def test_a_phrase_answer_follows_the_articles_after_saves(tmp_path: Path) -> None:
    """Phrase matches are kept per segment between commits: an article that no longer
    says it drops out, and a new one that does comes in."""
    page = "---\ntitle: Replication stops\ntype: resolution\naudience: public\n---\n{}\n"
    write(tmp_path / "kb", "a.md", page.format("The log shows: access is denied, then retries."))
    write(tmp_path / "kb", "b.md", page.format("The log shows nothing."))
    indexer = Indexer(tmp_path / "kb", tmp_path / "index")
    indexer.build()
    kb = KnowledgeBase(indexer.storage, tmp_path / "kb")
    assert [hit.path for hit in search(kb, '"access is denied"').hits] == ["a.md"]
    write(tmp_path / "kb", "a.md", page.format("The log shows: the disk is full."))
    write(tmp_path / "kb", "c.md", page.format("Then: access is denied, again."))
    indexer.update(["a.md", "c.md"])
    assert [hit.path for hit in search(kb, '"access is denied"').hits] == ["c.md"]
