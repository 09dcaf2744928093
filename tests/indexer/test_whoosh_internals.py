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
