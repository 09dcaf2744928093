"""What kb-search reads and writes below Whoosh's public API agrees with Whoosh's own
public answers: a new Whoosh release that changes its codec or writer fails here first."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

from indexer import Indexer
from indexer.documents.schema import build_schema
from indexer.whoosh_internals import field_lengths, finish_segment, postings, segment_writer
from indexer.writing.storage import WRITER_OPTIONS

from ..conftest import ROOT


@pytest.fixture(scope="module")
def sample_reader(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    indexer = Indexer(ROOT / "kb", tmp_path_factory.mktemp("internals") / "index")
    indexer.build()
    _generation, searcher = indexer.storage.open_searcher()
    (reader,) = [sub.reader() for sub, _ in searcher.leaf_searchers()]
    yield reader
    searcher.close()


def test_posting_arrays_are_whooshs_postings(sample_reader) -> None:  # type: ignore[no-untyped-def]
    for fieldname in ("title", "body", "error_codes", "pairs"):
        for term in list(sample_reader.field_terms(fieldname))[:300]:
            ids, weights = postings(sample_reader, fieldname, term)
            matcher = sample_reader.postings(fieldname, term)
            expected = list(matcher.items_as("frequency"))
            assert ids.tolist() == [doc for doc, _ in expected], (fieldname, term)
            assert weights.tolist() == pytest.approx([freq for _, freq in expected])


def test_field_lengths_are_whooshs(sample_reader) -> None:  # type: ignore[no-untyped-def]
    for fieldname in ("title", "body", "symptoms"):
        lengths = field_lengths(sample_reader, fieldname)
        expected = [
            sample_reader.doc_field_length(doc, fieldname, 0) or 0  # None: none
            for doc in range(sample_reader.doc_count_all())
        ]
        assert lengths.tolist() == pytest.approx(expected)


def test_a_bulk_segment_holds_what_was_added(tmp_path: Path) -> None:
    """A worker's segment, read back: its postings and lengths as a plain writer's."""
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = segment_writer(ix, limitmb=16, **WRITER_OPTIONS)
    writer.add_document(id="KB-1", path="a.md", title="Printer offline", body="spooler stopped")
    writer.add_document(id="KB-2", path="b.md", title="Outlook", body="the spooler spooler again")
    segment = finish_segment(writer)
    assert segment.doc_count() == 2
    reader = SegmentReader(ix.storage, ix.schema, segment)
    try:
        ids, weights = postings(reader, "body", "spooler")
        assert ids.tolist() == [0, 1] and weights.tolist() == [1.0, 2.0]
        assert field_lengths(reader, "body").tolist() == [2.0, 3.0]  # "the" is a stop word
    finally:
        reader.close()


# ---------------------------------------------------------------- rank files (issue 19)


def _decoded(reader: SegmentReader, fieldname: str, term: str) -> tuple[list[int], list[float]]:
    """A term's postings as Whoosh's public matcher gives them."""
    if (fieldname, term) not in reader:
        return [], []
    expected = list(reader.postings(fieldname, term).items_as("frequency"))
    return [doc for doc, _ in expected], [freq for _, freq in expected]


def _every_term_agrees(reader: SegmentReader) -> int:
    checked = 0
    for fieldname in reader.indexed_field_names():
        if fieldname in ("updated",):  # numeric terms: ranking never asks for them
            continue
        for term in reader.field_terms(fieldname):
            ids, weights = postings(reader, fieldname, term)
            expected_ids, expected_weights = _decoded(reader, fieldname, term)
            assert ids.tolist() == expected_ids, (fieldname, term)
            assert weights.tolist() == pytest.approx(expected_weights), (fieldname, term)
            checked += 1
    return checked


def test_every_segment_gets_a_rank_file_with_every_posting(tmp_path: Path) -> None:
    """Full builds, saves and merges all write one, and it holds exactly Whoosh's postings
    for every term of every field."""
    import shutil

    from indexer.whoosh_internals import rank_file_path, read_rank_file

    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    indexer = Indexer(kb, tmp_path / "index")
    indexer.build()
    (kb / "email" / "new-one.md").write_text("---\ntitle: Spooler stops\n---\nspooler again\n")
    indexer.reconcile()  # a save: a second, small segment
    generation, searcher = indexer.storage.open_searcher()
    try:
        readers = [sub.reader() for sub, _ in searcher.leaf_searchers()]
        assert len(readers) == 2
        for reader in readers:
            path = rank_file_path(generation.path, reader.segment().segment_id())
            assert read_rank_file(path, reader.doc_count_all()) is not None
        assert [_every_term_agrees(reader) > 10 for reader in readers] == [True, True]
    finally:
        searcher.close()
    indexer.merge_segments()  # what the watcher does when the KB is quiet
    generation, searcher = indexer.storage.open_searcher()
    try:
        for merged in [sub.reader() for sub, _ in searcher.leaf_searchers()]:
            path = rank_file_path(generation.path, merged.segment().segment_id())
            assert read_rank_file(path, merged.doc_count_all()) is not None
            assert _every_term_agrees(merged) > 10
    finally:
        searcher.close()


def test_a_segment_without_a_usable_rank_file_is_read_from_whoosh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexer import whoosh_internals
    from indexer.search.caching import BoundedCache
    from indexer.whoosh_internals import rank_file_path, read_rank_file

    indexer = Indexer(ROOT / "kb", tmp_path / "index")
    indexer.build()
    generation, searcher = indexer.storage.open_searcher()
    with searcher:
        path = rank_file_path(generation.path, searcher.reader().segment().segment_id())
    cut = path.with_suffix(".cut")
    cut.write_bytes(path.read_bytes()[:-4])  # cut short
    cut.replace(path)
    generation.write_state(files=generation.segment_files())  # as if written so
    # a process started after the damage: none of its rank files mapped yet
    monkeypatch.setattr(whoosh_internals, "_RANK_FILES", BoundedCache(max_bytes=1 << 20))
    generation, searcher = indexer.storage.open_searcher()
    try:
        (reader,) = [sub.reader() for sub, _ in searcher.leaf_searchers()]
        assert read_rank_file(path, reader.doc_count_all()) is None
        assert read_rank_file(path.with_suffix(".missing"), 1) is None
        assert _every_term_agrees(reader) > 100  # decoded instead
    finally:
        searcher.close()


# ------------------------------------------- phrases listed in rank files (issue 19)

PHRASE_ARTICLES = {
    "ad.md": "---\ntitle: Active Directory replication fails\n---\nThe active directory site is down.\n",
    "hyphen.md": "---\ntitle: Active-Directory sync\n---\nSee `Get-ADUser` and active-directory.\n",
    "reversed.md": "---\ntitle: Directory not active\n---\nThe directory was active yesterday.\n",
    "apart.md": "---\ntitle: Active users\n---\nAn active user and a directory listing.\n",
    "gap.md": "---\ntitle: Access is denied\n---\nAccess denied to the share, then access is denied.\n",
    "stems.md": "---\ntitle: Users logged in twice\n---\nSigning in fails; sign-in works; log on.\n",
    "code.md": "---\ntitle: Kerberos\n---\n```\nkinit: kerberos 5 ticket\n```\nThe group policy object.\n",
}


def _phrase_kb(root: Path) -> Path:
    kb = root / "kb"
    kb.mkdir()
    for name, text in PHRASE_ARTICLES.items():
        (kb / name).write_text(text)
    # a stop word inside a phrase, besides the shipped groups
    (kb / "_synonyms.yml").write_text("synonyms:\n  - access is denied, access denied\n")
    return kb


def _listed_as_whoosh_matches(indexer: Indexer) -> int:
    """Every synonym phrase's documents in each segment's rank file are those Whoosh's
    phrase matching finds there; returns how many (segment, phrase) lists held any."""
    from whoosh.searching import Searcher

    from indexer.search.ranking import phrase_query
    from indexer.text.phrases import placement, synonym_phrases
    from indexer.whoosh_internals import phrase_key, rank_file, segment_key

    phrases = synonym_phrases(indexer.synonyms.current())
    assert "access is denied" in phrases and "active directory" in phrases
    _generation, searcher = indexer.storage.open_searcher()
    held = 0
    try:
        leaves: list[Searcher] = [sub for sub, _ in searcher.leaf_searchers()]
        for leaf in leaves:
            reader = leaf.reader()
            rank = rank_file(reader, segment_key(reader))
            assert rank is not None
            for text in phrases:
                placed = placement(reader.schema, text)
                listed = rank.lookup(phrase_key(placed))
                assert listed is not None, text
                matched = sorted(leaf.docs_for_query(phrase_query(placed)))
                assert listed.tolist() == matched, text
                held += bool(matched)
    finally:
        searcher.close()
    return held


def test_rank_files_list_each_synonym_phrase_as_whoosh_matches_it(tmp_path: Path) -> None:
    """Written by a build and by a save, and through a merge: the same documents as
    Whoosh's phrase and span queries, stop-word gaps, stems and identifiers included."""
    indexer = Indexer(_phrase_kb(tmp_path), tmp_path / "index")
    indexer.build()
    assert _listed_as_whoosh_matches(indexer) >= 5
    kb = indexer.kb_root
    (kb / "saved.md").write_text("---\ntitle: Domain controller down\n---\nactive directory\n")
    indexer.update(["saved.md"])
    assert _listed_as_whoosh_matches(indexer) >= 6
    indexer.merge_segments()
    assert _listed_as_whoosh_matches(indexer) >= 5


def test_a_phrase_added_to_the_synonyms_after_a_build_is_matched_by_whoosh(
    tmp_path: Path,
) -> None:
    from indexer import IndexStorage, KnowledgeBase, SearchRequest

    kb = _phrase_kb(tmp_path)
    Indexer(kb, tmp_path / "index").build()
    (kb / "_synonyms.yml").write_text("synonyms:\n  - frobnicator, directory listing\n")
    search = KnowledgeBase(IndexStorage(tmp_path / "index"), kb)
    request = SearchRequest("frobnicator", frozenset({"public", "internal"}))
    assert [hit.path for hit in search.search(request).hits] == ["apart.md"]


def test_a_snapshots_posting_lists_join_every_segments_in_order(tmp_path: Path) -> None:
    """Looked up many terms at a time over several segments (one without a rank file): each
    list is every segment's postings, in document order, as Whoosh's matchers give them."""
    import shutil

    from indexer.search.ranking import Snapshot
    from indexer.whoosh_internals import rank_file_path

    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    indexer = Indexer(kb, tmp_path / "index")
    indexer.build()
    (kb / "saved.md").write_text("---\ntitle: Spooler stops\n---\nspooler spooler again\n")
    indexer.update(["saved.md"])  # a save: a small segment after the built one
    generation, searcher = indexer.storage.open_searcher()
    try:
        leaves = list(searcher.leaf_searchers())
        assert len(leaves) == 2
        last = leaves[-1][0].reader()
        rank_file_path(generation.path, last.segment().segment_id()).unlink()
        wanted = [
            (fieldname, term)
            for fieldname in ("title", "body", "pairs")
            for term in searcher.reader().field_terms(fieldname)
        ]
        joined = Snapshot(searcher).postings_of([*wanted, ("body", "nosuchword")])
        assert joined[-1][0].tolist() == []
        for (fieldname, term), (ids, weights) in zip(wanted, joined, strict=False):
            expected: list[tuple[int, float]] = []
            for sub, offset in leaves:
                found = _decoded(sub.reader(), fieldname, term)
                expected += [(doc + offset, w) for doc, w in zip(*found, strict=True)]
            assert ids.tolist() == [doc for doc, _ in expected], (fieldname, term)
            assert weights.tolist() == pytest.approx([w for _, w in expected])
    finally:
        searcher.close()


# ------------------------------------------- a full build ranked from one rank set (issue 19)


def _many_segment_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Indexer:
    """The sample KB plus the phrase articles, built into a segment every few articles."""
    import shutil

    from indexer.writing import bulk

    monkeypatch.setattr(bulk, "SEGMENT_BYTES", 40_000)
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    for name, text in PHRASE_ARTICLES.items():
        (kb / name).write_text(text)
    (kb / "_synonyms.yml").write_text("synonyms:\n  - access is denied, access denied\n")
    indexer = Indexer(kb, tmp_path / "index", workers=1)
    indexer.build()
    return indexer


def _joined_as_whoosh_gives(indexer: Indexer) -> int:
    """Every term's posting list over the commit, as a snapshot gives it, is each
    segment's postings in document order (deleted documents aside: Whoosh's matchers skip
    them, ranking masks them); and each synonym phrase's documents are
    those Whoosh's phrase matching finds. Returns how many lists were compared."""
    from indexer.search.ranking import Snapshot, phrase_query
    from indexer.text.phrases import placement, synonym_phrases
    from indexer.text.query import Phrase

    _generation, searcher = indexer.storage.open_searcher()
    try:
        leaves = list(searcher.leaf_searchers())
        wanted = [
            (fieldname, term)
            for fieldname in ("title", "body", "error_codes", "audience", "pairs")
            for term in searcher.reader().field_terms(fieldname)
        ]
        snapshot = Snapshot(searcher)
        for (fieldname, term), (ids, weights) in zip(
            wanted, snapshot.postings_of(wanted), strict=True
        ):
            expected: list[tuple[int, float]] = []
            for sub, offset in leaves:
                found = _decoded(sub.reader(), fieldname, term)
                expected += [(doc + offset, w) for doc, w in zip(*found, strict=True)]
            live = [
                (doc, w)
                for doc, w in zip(ids.tolist(), weights.tolist(), strict=True)
                if snapshot.live[doc]
            ]
            assert [doc for doc, _ in live] == [doc for doc, _ in expected], (fieldname, term)
            assert [w for _, w in live] == pytest.approx([w for _, w in expected])
        for text in synonym_phrases(indexer.synonyms.current()):
            placed = placement(searcher.schema, text)
            matched = {
                doc + offset
                for sub, offset in leaves
                for doc in sub.docs_for_query(phrase_query(placed))
            }
            found = snapshot.phrase_docs(Phrase(text, ("title", "headings", "body"), False))
            assert set(found.nonzero()[0].tolist()) == matched, text
        return len(wanted)
    finally:
        searcher.close()


def test_a_full_build_is_ranked_from_one_rank_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's segments are merged into one rank set that replaces their rank files; a
    snapshot looks terms up once in it and gets every segment's postings; saves and quiet
    merges after it leave the build's segments (and so the set) alone."""
    from indexer.whoosh_internals import (
        rank_file_path,
        rank_set_path,
        rank_units,
        ranked_together,
        read_rank_set,
    )

    indexer = _many_segment_build(tmp_path, monkeypatch)
    generation, searcher = indexer.storage.open_searcher()
    try:
        readers = [sub.reader() for sub, _ in searcher.leaf_searchers()]
        assert len(readers) > 4
        members = tuple((r.segment().segment_id(), r.doc_count_all()) for r in readers)
        opened = read_rank_set(rank_set_path(generation.path, members[0][0]))
        assert opened is not None and opened[0] == members
        assert not any(rank_file_path(generation.path, name).exists() for name, _ in members)
        units = rank_units(readers)
        assert [(unit.first, unit.size) for unit in units] == [(0, len(readers))]
    finally:
        searcher.close()
    assert _joined_as_whoosh_gives(indexer) > 200

    kb = indexer.kb_root
    for number in range(3):  # saves: small segments after the set's
        (kb / f"saved-{number}.md").write_text(f"---\ntitle: Spooler {number}\n---\nspooler\n")
        indexer.update([f"saved-{number}.md"])
    (kb / "ad.md").unlink()  # a deletion in one of the set's segments
    indexer.update(["ad.md"])
    indexer.merge_segments()
    generation, searcher = indexer.storage.open_searcher()
    try:
        readers = [sub.reader() for sub, _ in searcher.leaf_searchers()]
        assert ranked_together(generation.path) == {name for name, _ in members}
        assert tuple((r.segment().segment_id(), r.doc_count_all()) for r in readers[:-1]) == members
        units = rank_units(readers)
        assert [(unit.first, unit.size) for unit in units] == [(0, len(members)), (len(members), 1)]
    finally:
        searcher.close()
    assert _joined_as_whoosh_gives(indexer) > 200


def test_a_rank_set_that_no_longer_matches_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged set: its segments are read from Whoosh, and every answer is still right."""
    from indexer import IndexStorage, KnowledgeBase, SearchRequest, whoosh_internals
    from indexer.search.caching import BoundedCache
    from indexer.whoosh_internals import rank_set_path, rank_units

    indexer = _many_segment_build(tmp_path, monkeypatch)
    everyone = frozenset({"public", "internal"})
    request = SearchRequest("active directory replication", everyone)
    before = [
        hit.path for hit in KnowledgeBase(IndexStorage(tmp_path / "index")).search(request).hits
    ]
    generation, searcher = indexer.storage.open_searcher()
    with searcher:
        first = searcher.reader().leaf_readers()[0][0].segment().segment_id()
    path = rank_set_path(generation.path, first)
    path.write_bytes(path.read_bytes()[:-4])  # cut short
    generation.write_state(files=generation.segment_files())  # as if written so
    monkeypatch.setattr(whoosh_internals, "_RANK_FILES", BoundedCache(max_bytes=1 << 20))
    generation, searcher = indexer.storage.open_searcher()
    try:
        readers = [sub.reader() for sub, _ in searcher.leaf_searchers()]
        assert all(unit.size == 1 and unit.rank is None for unit in rank_units(readers))
    finally:
        searcher.close()
    assert _joined_as_whoosh_gives(indexer) > 200
    after = KnowledgeBase(IndexStorage(tmp_path / "index")).search(request).hits
    assert [hit.path for hit in after] == before and before[0] == "ad.md"
