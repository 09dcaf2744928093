"""Everything kb-search does below Whoosh's public API, in one place.

Whoosh stays the index of record, but two jobs need its internals: ranking reads whole
posting lists and field lengths as numpy arrays (Whoosh's matchers score one posting at a
time in Python, which is slow for the long queries support engineers paste; see
:mod:`indexer.search.ranking`), and full builds write segments of their own in worker processes
(:mod:`indexer.writing.bulk`), reading each field's lengths once. So a change in Whoosh's codec or
writer shows up here and in this module's tests, nowhere else: no other module reaches
for a private attribute of a Whoosh object.

Segments are immutable once written, so everything read here is cached by segment id and
shared between threads. Deletions are not part of a segment's files; callers apply them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN
from whoosh.index import Index
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from .search.caching import BoundedCache

EMPTY_IDS = np.zeros(0, dtype=np.int32)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)
_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)

Postings = tuple[np.ndarray, np.ndarray]  # (segment-local doc numbers, term frequencies)


_POSTINGS = BoundedCache(max_bytes=64 << 20)
_LENGTHS = BoundedCache(max_bytes=64 << 20)  # 100,000 documents x 7 fields = 2.8 MB


def segment_key(reader: SegmentReader) -> str:
    """Whoosh names each segment with 16 random characters: unique across indexes too."""
    return f"{reader.segment().segment_id()}:{reader.doc_count_all()}"


def postings(reader: SegmentReader, fieldname: str, term: str, key: str | None = None) -> Postings:
    """All postings of ``term`` in one segment, deleted documents included. ``key``: the
    segment's :func:`segment_key`, if the caller has it already."""
    cache_key = (key or segment_key(reader), fieldname, term)
    cached = _POSTINGS.get(cache_key)
    if cached is not None:
        return cached
    found = _read_postings(reader, fieldname, term)
    _POSTINGS.put(cache_key, found, found[0].nbytes + found[1].nbytes)
    return found


def _read_postings(reader: SegmentReader, fieldname: str, term: str) -> Postings:
    if (fieldname, term) not in reader:
        return EMPTY_IDS, EMPTY_WEIGHTS
    fieldobj = reader.schema[fieldname]
    # the raw matcher, without the per-posting deletion filter reader.postings() adds
    matcher = reader._terms.matcher(fieldname, fieldobj.to_bytes(term), fieldobj.format)
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    while matcher.is_active():  # one posting block (up to 128 documents) at a time
        matcher._read_ids()
        matcher._read_weights()
        ids.append(np.asarray(matcher._ids, dtype=np.int32))
        weights.append(np.asarray(matcher._weights, dtype=np.float32))
        matcher._next_block()
    return np.concatenate(ids), np.concatenate(weights)


def field_lengths(reader: SegmentReader, fieldname: str) -> np.ndarray:
    """Terms per document in ``fieldname`` (Whoosh stores them rounded, in one byte)."""
    key = (segment_key(reader), fieldname)
    cached = _LENGTHS.get(key)
    if cached is not None:
        return cached
    count = reader.doc_count_all()
    encoded = _length_bytes(reader._perdoc, fieldname)
    if encoded is None:
        lengths = np.zeros(count, dtype=np.float32)
    else:
        raw = np.frombuffer(encoded, dtype=np.uint8)
        lengths = _BYTE_TO_LENGTH[np.pad(raw, (0, max(0, count - len(raw))))[:count]]
    _LENGTHS.put(key, lengths, lengths.nbytes)
    return lengths


def _length_bytes(perdoc: Any, fieldname: str) -> bytes | None:
    """A field's length column as Whoosh writes it, one byte per document (None: no
    column), from a segment's per-document reader."""
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    return None if column is None else bytes(column.load())


def open_stored_fields(reader: SegmentReader) -> bool:
    """Open a segment's stored-fields column now, while its file surely exists; False if it
    is already gone. Whoosh opens it on the first ``stored_fields`` call, after asking the
    disk whether it exists: once a writer has removed a superseded commit's files, a
    searcher still on that commit failed on the results it was showing. A file opened
    before its removal stays readable."""
    if not reader.doc_count_all():
        return True
    return reader._perdoc._cached_reader("_stored", STORED_COLUMN) is not None


# ---------------------------------------------------------------------- writing segments


def segment_writer(ix: Index, limitmb: int, **options: Any) -> SegmentWriter:
    """A writer of one segment of ``ix`` for a worker process of a full build. It takes no
    lock (``_lk=False``): the parent holds the index's lock and, like Whoosh's MpWriter's
    sub-writers, each worker writes only its own segment files, never the table of
    contents."""
    return _BulkSegmentWriter(ix, _lk=False, limitmb=limitmb, **options)


def finish_segment(writer: SegmentWriter) -> Segment:
    """Write out ``writer``'s segment and return it, uncommitted: the parent commits the
    segments of every worker in one table-of-contents write."""
    return writer._finalize_segment()


class _BulkSegmentWriter(SegmentWriter):
    """Whoosh's segment writer, with field lengths read once per field when postings are
    written: Whoosh looks each one up in the length column file for every posting, a
    seventh of a full build's time."""

    def _flush_segment(self) -> None:  # as SegmentWriter's, with preloaded lengths
        self.perdocwriter.close()
        lengths = _PreloadedLengths(self.per_document_reader())
        try:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
            self.fieldwriter.close()
        finally:
            lengths.close()


class _PreloadedLengths:
    """``doc_field_length`` of a per-document reader, from each field's column loaded once."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._fields: dict[str, list[int | None] | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        if fieldname not in self._fields:
            encoded = _length_bytes(self._reader, fieldname)
            # as Whoosh decodes them: None for a zero byte
            decoded = [byte_to_length(b) if b else None for b in encoded or b""]
            self._fields[fieldname] = decoded if encoded is not None else None
        lengths = self._fields[fieldname]
        if lengths is None:
            return default
        return lengths[docnum] if docnum < len(lengths) else None

    def close(self) -> None:
        self._reader.close()
