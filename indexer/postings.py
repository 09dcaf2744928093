"""Whoosh segments read as numpy arrays: postings, field lengths and columns.

Whoosh's matchers score one posting at a time in Python, which is slow for the long,
many-word queries support engineers paste. Ranking instead reads whole posting lists as
arrays and scores them with numpy (see :mod:`indexer.ranking`). This module is the only
place that reaches below Whoosh's public reader API (posting blocks, the length and
stored-field columns),
so a change in the codec shows up here and in its tests, nowhere else.

Segments are immutable once written, so everything read here is cached by segment id and
shared between threads. Deletions are not part of a segment's files; callers apply them.
"""

from __future__ import annotations

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length

from .caching import BoundedCache

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
    perdoc = reader._perdoc
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if column is None:
        lengths = np.zeros(count, dtype=np.float32)
    else:
        raw = np.frombuffer(bytes(column.load()), dtype=np.uint8)
        lengths = _BYTE_TO_LENGTH[np.pad(raw, (0, max(0, count - len(raw))))[:count]]
    _LENGTHS.put(key, lengths, lengths.nbytes)
    return lengths


def open_stored_fields(reader: SegmentReader) -> bool:
    """Open a segment's stored-fields column now, while its file surely exists; False if it
    is already gone. Whoosh opens it on the first ``stored_fields`` call, after asking the
    disk whether it exists: once a writer has removed a superseded commit's files, a
    searcher still on that commit failed on the results it was showing. A file opened
    before its removal stays readable."""
    if not reader.doc_count_all():
        return True
    return reader._perdoc._cached_reader("_stored", STORED_COLUMN) is not None
