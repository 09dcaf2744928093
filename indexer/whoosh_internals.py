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

Rank files. Decoding Whoosh's posting blocks (pickled, zipped, one Python object a posting)
is most of a long query's time once a KB no longer fits the posting cache: at 100,000
articles a common word holds tens of thousands of postings in each field. So every segment
kb-search writes gets a second, flat copy of its postings beside it, made from the same
stream Whoosh writes them from: ``<segment id>.kbrank``, sorted 64-bit term keys, offsets,
then every posting's document number (int32) and frequency (float32). It is read through a
memory map, so a term's postings are two array slices: no decoding, no copy, no file
descriptor held, and the page cache shared by every process serving the index. It also
lists, under keys of their own, the documents holding each phrase the writer was given (the
synonym groups' terms of several words, matched from the positions in the same stream):
Whoosh's phrase matching took most of a second per phrase at 100,000 articles, and a ticket
brings dozens of them. A phrase the file does not list (synonyms added since) is matched by
Whoosh. Whoosh's own clean-up deletes the file with its segment (it matches the segment's
file names). A segment without a valid one (an index written before, a damaged file) is
read the old way.

Rank sets. A full build on several cores ends with tens of segments (each worker closes one
whenever its postings reach a bound, which keeps its memory bounded), and a ticket's few
hundred terms were looked up in every one of them: at 100,000 articles and 120 segments,
70 ms of a ticket went to finding each term's slice in each file and joining the pieces.
Merging the segments themselves is no way out (Whoosh's merge decodes every posting: 44
articles a second). So the build merges its segments' rank files instead, into one
``<first segment id>.kbrankset`` that lists its segments and holds their postings under
each term in one run, numbered from its first segment's first document: one lookup per
term for the whole build (11 ms for the same ticket). Its segments' own rank files are then
removed, and merges leave those segments alone (:func:`ranked_together`), so the set stays
whole for as long as the generation lives. A set whose segments are no longer all there, in
its order, is not used: each of its segments is read on its own (decoded, logged).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import shutil
import struct
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN
from whoosh.fields import Schema
from whoosh.index import TOC, Index, clean_files
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from .search.caching import BoundedCache
from .text.phrases import Placement, placement

EMPTY_IDS = np.zeros(0, dtype=np.int32)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)
_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)

Postings = tuple[np.ndarray, np.ndarray]  # (segment-local doc numbers, term frequencies)


_POSTINGS = BoundedCache(max_bytes=64 << 20)
_LENGTHS = BoundedCache(max_bytes=64 << 20)  # 100,000 documents x 7 fields = 2.8 MB
_COLUMNS = BoundedCache(max_bytes=128 << 20)  # 100,000 documents x 2 columns: about 20 MB


def segment_key(reader: SegmentReader) -> str:
    """Whoosh names each segment with 16 random characters: unique across indexes too."""
    return f"{reader.segment().segment_id()}:{reader.doc_count_all()}"


def postings(reader: SegmentReader, fieldname: str, term: str, key: str | None = None) -> Postings:
    """All postings of ``term`` in one segment, deleted documents included. ``key``: the
    segment's :func:`segment_key`, if the caller has it already."""
    key = key or segment_key(reader)
    ranked = rank_file(reader, key)
    if ranked is not None:
        return ranked.postings(term_key(reader, fieldname, term))
    return decoded_postings(reader, fieldname, term, key)


def decoded_postings(reader: SegmentReader, fieldname: str, term: str, key: str) -> Postings:
    """:func:`postings` decoded from Whoosh's own files, for a segment without a rank file."""
    return _POSTINGS.get_or_build(
        (key, fieldname, term),
        lambda: _read_postings(reader, fieldname, term),
        lambda found: found[0].nbytes + found[1].nbytes,
    )


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

    def decode() -> np.ndarray:
        count = reader.doc_count_all()
        encoded = _length_bytes(reader._perdoc, fieldname)
        if encoded is None:
            return np.zeros(count, dtype=np.float32)
        raw = np.frombuffer(encoded, dtype=np.uint8)
        return _BYTE_TO_LENGTH[np.pad(raw, (0, max(0, count - len(raw))))[:count]]

    return _LENGTHS.get_or_build((segment_key(reader), fieldname), decode, lambda a: a.nbytes)


def _length_bytes(perdoc: Any, fieldname: str) -> bytes | None:
    """A field's length column as Whoosh writes it, one byte per document (None: no
    column), from a segment's per-document reader."""
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    return None if column is None else bytes(column.load())


def column_values(reader: SegmentReader, fieldname: str) -> list[Any]:
    """A segment's values of a column field as Whoosh stores them (bytes for text, the
    sortable integer for dates), read once per process: segments never change, and a
    superseded commit's files may be removed while searchers still use it (see
    :func:`open_commit`, which reads them first)."""
    return _COLUMNS.get_or_build(
        (segment_key(reader), fieldname),
        lambda: list(reader.column_reader(fieldname, translate=False)),
        lambda values: 100 * len(values) + 100,
    )


def open_commit(ix: Index, searcher: Searcher, columns: Sequence[str]) -> bool:
    """Read, for every segment of ``searcher``, what searches read of it per document (its
    field lengths, the ``columns`` given, the rank file or set it is ranked from) into this
    process's caches, and open its stored fields; False if the commit was superseded
    meanwhile and some of its files may have been gone. Whoosh reads each column on first use, after asking the disk
    whether it exists: once a writer had removed a superseded commit's files, a searcher
    still on that commit failed on the results it was showing, or read a removed column as
    empty (documents with no update time; content hashes of the wrong segment). The
    commit's table of contents is looked for last: a writer of kb-search removes it before
    any file of its segments (see :func:`_clean_files`), so if it is still there, nothing
    was read from a removed file. Segments read before cost nothing: their values are
    cached, and no file is opened for them (a file per column, segment and request thread
    ran out of descriptors at 100,000 articles)."""
    leaves = [leaf for leaf, _ in searcher.reader().leaf_readers() if leaf.doc_count_all()]
    try:
        for leaf in leaves:
            if leaf._perdoc._cached_reader("_stored", STORED_COLUMN) is None:
                return False
            for name, field in leaf.schema.items():
                if field.scorable:
                    field_lengths(leaf, name)
            for name in columns:
                column_values(leaf, name)
        rank_units(leaves)
    except FileNotFoundError:  # removed between asking and opening
        return False
    generation = searcher.reader().generation()
    if generation is None:  # an index without segments: nothing was read
        return True
    return bool(ix.storage.file_exists(TOC._filename(ix.indexname, generation)))


# ---------------------------------------------------------------------- writing segments


def index_writer(ix: Index, phrases: Sequence[str] = (), **options: Any) -> SegmentWriter:
    """Whoosh's writer for ``ix`` (it takes the index's lock), writing segments as
    :class:`_SegmentWriter` does; ``phrases``: those whose documents each segment's rank
    file lists."""
    return _SegmentWriter(ix, phrases, **options)


def segment_writer(
    ix: Index, limitmb: int, phrases: Sequence[str] = (), **options: Any
) -> SegmentWriter:
    """A writer of one segment of ``ix`` for a worker process of a full build. It takes no
    lock (``_lk=False``): the parent holds the index's lock and, like Whoosh's MpWriter's
    sub-writers, each worker writes only its own segment files, never the table of
    contents."""
    return _SegmentWriter(ix, phrases, _lk=False, limitmb=limitmb, **options)


def finish_segment(writer: SegmentWriter) -> Segment:
    """Write out ``writer``'s segment and return it, uncommitted: the parent commits the
    segments of every worker in one table-of-contents write."""
    return writer._finalize_segment()


class _SegmentWriter(SegmentWriter):
    """Whoosh's segment writer, for every segment kb-search writes (saves, merges, full
    builds), with two changes where postings are written: each field's lengths are read
    once (Whoosh looks each one up in the length column file for every posting, a seventh
    of a full build's time), and the postings are also written to the segment's rank file,
    before the table of contents names the segment, with the documents holding each of
    ``phrases``."""

    def __init__(self, ix: Index, phrases: Sequence[str] = (), **options: Any) -> None:
        super().__init__(ix, **options)
        self._phrases = phrases

    def _flush_segment(self) -> None:  # as SegmentWriter's, with the two changes
        self.perdocwriter.close()
        lengths = _PreloadedLengths(self.per_document_reader())
        flat = _FlatPostings(self.schema, self._phrases)
        try:
            postings = flat.copy_of(self.pool.iter_postings())
            self.fieldwriter.add_postings(self.schema, lengths, postings)
            self.fieldwriter.close()
        finally:
            lengths.close()
        flat.write(Path(self.storage.folder), self.get_segment().segment_id(), self.docnum)

    def _commit_toc(self, segments: list[Segment]) -> None:  # as Whoosh's, but cleaning up
        TOC(self.schema, segments, self.generation).write(self.storage, self.indexname)
        _clean_files(self.storage, self.indexname, self.generation, segments)


def _clean_files(storage: Any, indexname: str, generation: int, segments: list[Segment]) -> None:
    """Remove what commits before ``generation`` left, superseded tables of contents first:
    a reader that finds its commit's table of contents after opening its files
    (:func:`open_commit`) knows none of them was removed before it opened them (Whoosh
    removes them in no particular order)."""
    for filename in list(storage):
        found = TOC._pattern(indexname).match(filename)
        if found and int(found.group(1)) != generation:
            with contextlib.suppress(OSError):
                storage.delete_file(filename)
    clean_files(storage, indexname, generation, segments)


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


# ---------------------------------------------------------------------- rank files

RANK_EXTENSION = ".kbrank"
_MAGIC = b"KBRANK01"
_HEADER = struct.Struct("<8sqqq")  # magic, documents, terms, postings
_RANK_FILES = BoundedCache(max_bytes=1 << 20)  # open memory maps, ~1 KB accounted each
_PHRASES_FIELD = "\0phrases"  # no field has this name: phrase keys never meet term keys
log = logging.getLogger(__name__)


def term_key(reader: SegmentReader, fieldname: str, term: str) -> np.uint64:
    """A term's key in every rank file of an index (the same for every segment)."""
    return np.uint64(_key(fieldname, reader.schema[fieldname].to_bytes(term)))


def phrase_key(placed: Placement) -> np.uint64:
    """A phrase's key in every rank file of an index, from where its terms stand."""
    return np.uint64(_key(_PHRASES_FIELD, repr(placed).encode()))


def _key(fieldname: str, term: bytes) -> int:
    """A 64-bit key of a term as Whoosh encodes it (a stable hash: files outlive processes)."""
    digest = hashlib.blake2b(fieldname.encode() + b"\0" + term, digest_size=8).digest()
    return int.from_bytes(digest, "little")


class RankFile:
    """One segment's postings as arrays, memory-mapped."""

    def __init__(self, keys: np.ndarray, starts: np.ndarray, docs: np.ndarray, tfs: np.ndarray):
        self.keys, self.starts, self.docs, self.tfs = keys, starts, docs, tfs

    def postings(self, key: np.uint64) -> Postings:
        """A term's documents and frequencies, given its :func:`term_key`."""
        ids, tfs, _ = self.gathered(np.array([key], dtype=np.uint64))
        return ids, tfs

    def lookup(self, key: np.uint64) -> np.ndarray | None:
        """The documents listed under ``key`` (a :func:`phrase_key`); None when the file
        has no such key (a phrase it was not written with), unlike an empty list."""
        at = int(self.keys.searchsorted(key))
        if at == len(self.keys) or self.keys[at] != key:
            return None
        return self.docs[self.starts[at] : self.starts[at + 1]]

    def gathered(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The postings of all of ``keys`` in one pair of arrays, key after key, and how many
        each key has (0 for a key the segment lacks): a ticket asks each of 77 segments for
        hundreds of terms, and a slice per term and segment cost more than the arithmetic."""
        if not len(self.keys):
            return EMPTY_IDS, EMPTY_WEIGHTS, np.zeros(len(keys), dtype=np.int64)
        at = np.minimum(self.keys.searchsorted(keys), len(self.keys) - 1)
        starts = self.starts[at]
        counts = np.where(self.keys[at] == keys, self.starts[at + 1] - starts, 0)
        firsts = np.cumsum(counts) - counts  # where each key's postings begin in the answer
        where = np.repeat(starts - firsts, counts) + np.arange(int(counts.sum()))
        return self.docs[where], self.tfs[where], counts


def rank_file_path(folder: Path, segment_id: str) -> Path:
    return folder / f"{segment_id}{RANK_EXTENSION}"


def read_rank_file(path: Path, documents: int) -> RankFile | None:
    """The rank file at ``path`` if it is whole and made for a segment of ``documents``
    documents; None otherwise (missing, cut short, another segment's)."""
    raw = _mapped(path)
    if raw is None or len(raw) < _HEADER.size:
        return None
    magic, count, terms, postings = _HEADER.unpack(bytes(raw[: _HEADER.size]))
    if magic != _MAGIC or count != documents:
        return None
    return _rank_arrays(raw, _HEADER.size, terms, postings)


def _rank_arrays(raw: np.ndarray, start: int, terms: int, postings: int) -> RankFile | None:
    """The four arrays of a rank file or set, from ``start`` to the end of ``raw`` (None if
    the file is not exactly their size: cut short, or grown)."""
    sizes = (8 * terms, 8 * (terms + 1), 4 * postings, 4 * postings)
    if len(raw) != start + sum(sizes):
        return None
    offsets = np.cumsum((start, *sizes))
    parts = [raw[offsets[i] : offsets[i + 1]] for i in range(4)]
    dtypes = (np.uint64, np.int64, np.int32, np.float32)
    return RankFile(*(part.view(dtype) for part, dtype in zip(parts, dtypes, strict=True)))


def _mapped(path: Path) -> np.ndarray | None:
    """The whole file as bytes, memory-mapped (None if missing or empty)."""
    try:
        with open(path, "rb") as handle:
            # a plain array over the map (np.memmap's subclass costs microseconds a slice)
            return np.frombuffer(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ), np.uint8)
    except (OSError, ValueError):  # missing, or empty
        return None


def rank_file(reader: SegmentReader, key: str) -> RankFile | None:
    """The segment's rank file (``key``: its :func:`segment_key`), opened once per process;
    None if it has no usable one."""

    def open_once() -> RankFile | Literal[False]:
        path = rank_file_path(Path(reader._storage.folder), reader.segment().segment_id())
        found = read_rank_file(path, reader.doc_count_all())
        if found is None and reader.doc_count_all():
            log.warning("segment %s has no usable rank file: its postings are decoded", key)
        return found or False  # kept too: None would be read as not looked for yet

    return _RANK_FILES.get_or_build(key, open_once, lambda _: 1_000) or None


# ---------------------------------------------------------------------- rank sets

RANK_SET_EXTENSION = ".kbrankset"
_SET_MAGIC = b"KBRSET01"
_SET_HEADER = struct.Struct("<8sqqq")  # magic, segments, terms, postings
_SET_MEMBER = struct.Struct("<40sq")  # a segment's id (padded) and its documents
_SET_CHUNK_POSTINGS = 4_000_000  # merged a slice of the key space at a time: ~80 MB


@dataclass(frozen=True)
class RankUnit:
    """Consecutive segments of a commit ranked from one file: a rank set, or one segment's
    rank file (``rank`` None: a segment read from Whoosh's own files)."""

    first: int  # the position of its first segment among the commit's segments
    size: int  # how many segments it covers
    rank: RankFile | None


def write_rank_set(folder: Path, members: Sequence[tuple[str, int]]) -> bool:
    """Merge the rank files of ``members`` ((segment id, documents), in commit order,
    written with the same phrases: one build's) into one rank set, then remove theirs.
    False, leaving them as they were, if one has no usable rank file."""

    def opened() -> list[RankFile] | None:
        """The members' rank files, mapped anew for each slice: pages of a map stay in the
        process's memory until it is closed (1.1 GB at 100,000 articles, kept whole)."""
        files = [read_rank_file(rank_file_path(folder, name), count) for name, count in members]
        return None if any(found is None for found in files) else files  # type: ignore[return-value]

    too_long = any(len(name.encode()) > _SET_MEMBER.size - 8 for name, _ in members)
    first = opened() if len(members) > 1 and not too_long else None
    if first is None:
        return False
    bases = np.cumsum([0, *(count for _, count in members)])[:-1]
    total = sum(len(rank.docs) for rank in first)
    del first
    pieces = max(1, -(-total // _SET_CHUNK_POSTINGS))
    # keys are hashes, spread evenly: equal slices of the key space hold similar shares
    bounds = [np.uint64((2**64 * i) // pieces) for i in range(pieces)]
    keys: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    with tempfile.TemporaryDirectory(prefix=".kbrankset-", dir=folder) as scratch:
        docs_path, tfs_path = Path(scratch, "docs"), Path(scratch, "tfs")
        with open(docs_path, "wb") as docs_out, open(tfs_path, "wb") as tfs_out:
            for i in range(pieces):
                high = bounds[i + 1] if i + 1 < pieces else None
                ranks = opened()
                if ranks is None:  # removed meanwhile: not ours to merge any more
                    return False
                merged = _merged_slice(ranks, bases, bounds[i], high)
                del ranks
                keys.append(merged[0])
                counts.append(merged[1])
                docs_out.write(merged[2].tobytes())
                tfs_out.write(merged[3].tobytes())
        all_keys = np.concatenate(keys)
        starts = np.zeros(len(all_keys) + 1, dtype=np.int64)
        np.cumsum(np.concatenate(counts), out=starts[1:])
        table = b"".join(_SET_MEMBER.pack(name.encode(), count) for name, count in members)
        header = _SET_HEADER.pack(_SET_MAGIC, len(members), len(all_keys), int(starts[-1]))
        handle, temporary = tempfile.mkstemp(prefix=".kbrankset-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                for part in (header, table, all_keys.tobytes(), starts.tobytes()):
                    out.write(part)
                for path in (docs_path, tfs_path):
                    with open(path, "rb") as source:
                        shutil.copyfileobj(source, out, 16 << 20)
            os.replace(temporary, rank_set_path(folder, members[0][0]))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    for name, _ in members:
        rank_file_path(folder, name).unlink(missing_ok=True)
    return True


def _merged_slice(
    ranks: list[RankFile], bases: np.ndarray, low: np.uint64, high: np.uint64 | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The keys in [low, high) of every rank file, each once, with how many postings it
    has in all, and those postings: segment after segment under each key, numbered from
    the first segment's first document."""
    keys, counts, members, runs, docs, tfs = [], [], [], [], [], []
    held = 0  # postings gathered so far, from the slices before
    for member, (rank, base) in enumerate(zip(ranks, bases, strict=True)):
        first = int(rank.keys.searchsorted(low))
        last = len(rank.keys) if high is None else int(rank.keys.searchsorted(high))
        begin, end = int(rank.starts[first]), int(rank.starts[last])
        keys.append(rank.keys[first:last])
        counts.append(np.diff(rank.starts[first : last + 1]))
        members.append(np.full(last - first, member, dtype=np.int32))
        runs.append(rank.starts[first:last] - begin + held)
        docs.append(rank.docs[begin:end] + np.int32(base))
        tfs.append(rank.tfs[begin:end])
        held += end - begin
    all_keys, all_counts = np.concatenate(keys), np.concatenate(counts)
    if not len(all_keys):
        return all_keys, all_counts, EMPTY_IDS, EMPTY_WEIGHTS
    order = np.lexsort((np.concatenate(members), all_keys))  # by key, then segment
    lengths, starts = all_counts[order], np.concatenate(runs)[order]
    where = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(held)
    sorted_keys = all_keys[order]
    firsts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    per_key = np.add.reduceat(lengths, firsts)
    return sorted_keys[firsts], per_key, np.concatenate(docs)[where], np.concatenate(tfs)[where]


def rank_set_path(folder: Path, first_segment_id: str) -> Path:
    """Named after its first segment, so Whoosh's clean-up removes it with that segment."""
    return folder / f"{first_segment_id}{RANK_SET_EXTENSION}"


def read_rank_set(path: Path) -> tuple[tuple[tuple[str, int], ...], RankFile] | None:
    """The members ((segment id, documents), in order) and postings of the rank set at
    ``path``; None if it is missing or not whole."""
    raw = _mapped(path)
    if raw is None or len(raw) < _SET_HEADER.size:
        return None
    magic, size, terms, postings = _SET_HEADER.unpack(bytes(raw[: _SET_HEADER.size]))
    table_end = _SET_HEADER.size + size * _SET_MEMBER.size
    if magic != _SET_MAGIC or len(raw) < table_end:
        return None
    members = tuple(
        (name.rstrip(b"\0").decode(), count)
        for name, count in _SET_MEMBER.iter_unpack(bytes(raw[_SET_HEADER.size : table_end]))
    )
    rank = _rank_arrays(raw, table_end, terms, postings)
    return None if rank is None else (members, rank)


def ranked_together(folder: Path) -> set[str]:
    """The ids of the segments that rank sets in ``folder`` hold: merges leave them alone
    (a merged segment would leave its set unusable, and Whoosh's merge is slow)."""
    found: set[str] = set()
    for path in folder.glob(f"*{RANK_SET_EXTENSION}"):
        opened = read_rank_set(path)
        if opened is not None:
            found.update(name for name, _ in opened[0])
    return found


def rank_units(leaves: Sequence[SegmentReader]) -> list[RankUnit]:
    """The commit's segments (``leaves``, in order) grouped by the file each is ranked
    from: a rank set where all its segments are there in its order, else each segment's
    own rank file."""
    units: list[RankUnit] = []
    at = 0
    while at < len(leaves):
        reader = leaves[at]
        found = _rank_set(reader)
        if found is not None:
            members, rank = found
            here = tuple(
                (leaf.segment().segment_id(), leaf.doc_count_all())
                for leaf in leaves[at : at + len(members)]
            )
            if here == members:
                units.append(RankUnit(at, len(members), rank))
                at += len(members)
                continue
            log.warning("rank set of segment %s no longer matches the commit", members[0][0])
        units.append(RankUnit(at, 1, rank_file(reader, segment_key(reader))))
        at += 1
    return units


def _rank_set(reader: SegmentReader) -> tuple[tuple[tuple[str, int], ...], RankFile] | None:
    """The rank set named after this segment, if there is one, opened once per process."""

    def open_once() -> tuple[tuple[tuple[str, int], ...], RankFile] | Literal[False]:
        path = rank_set_path(Path(reader._storage.folder), reader.segment().segment_id())
        return read_rank_set(path) or False

    return (
        _RANK_FILES.get_or_build(("set", segment_key(reader)), open_once, lambda _: 1_000) or None
    )


class _FlatPostings:
    """Postings copied as Whoosh writes them (sorted by field, term, then document), and
    written out as a rank file, with the documents holding each of ``phrases``."""

    def __init__(self, schema: Schema, phrases: Sequence[str]) -> None:
        self.keys = array("Q")
        self.starts = array("q")
        self.docs = array("i")
        self.tfs = array("f")
        self.schema = schema
        placements = (placement(schema, text) for text in phrases)
        self.placements = list(dict.fromkeys(p for p in placements if p))
        # (field, term as Whoosh encodes it) -> {document: its encoded positions}
        self.positions: dict[tuple[str, bytes], dict[int, bytes]] = {
            (name, schema[name].to_bytes(term)): {}
            for placed in self.placements
            for name, terms in placed
            for _, term in terms
        }

    def copy_of(self, items: Iterable[tuple]) -> Iterator[tuple]:
        keys, starts, docs, tfs = self.keys, self.starts, self.docs, self.tfs
        last: tuple[str, bytes] | None = None
        kept: dict[int, bytes] | None = None  # the current term's positions, if wanted
        for item in items:
            fieldname, term, docnum, weight = item[0], item[1], item[2], item[3]
            if (fieldname, term) != last:
                last = (fieldname, term)
                keys.append(_key(fieldname, term))
                starts.append(len(docs))
                kept = self.positions.get(last)
            docs.append(docnum)
            tfs.append(weight)
            if kept is not None:
                kept[docnum] = item[4]
            yield item
        for placed in self.placements:
            found = self._phrase_docs(placed)
            keys.append(int(phrase_key(placed)))
            starts.append(len(docs))
            docs.extend(found)
            tfs.extend([1.0] * len(found))

    def _phrase_docs(self, placed: Placement) -> list[int]:
        """Documents holding the phrase: in some field, each term at its place from the
        first (as Whoosh's phrase and span queries match it)."""
        found: set[int] = set()
        for name, terms in placed:
            decode = self.schema[name].format.decode_positions
            lists = [self.positions[(name, self.schema[name].to_bytes(t))] for _, t in terms]
            common = set(lists[0]).intersection(*lists[1:]) - found
            if len(terms) == 1:
                found |= common
                continue
            for doc in common:
                starts = {p - terms[0][0] for p in decode(lists[0][doc])}
                for (offset, _), positions in zip(terms[1:], lists[1:], strict=True):
                    starts &= {p - offset for p in decode(positions[doc])}
                    if not starts:
                        break
                if starts:
                    found.add(doc)
        return sorted(found)

    def write(self, folder: Path, segment_id: str, documents: int) -> None:
        """Write the rank file, whole or not at all (a temporary file, then a rename)."""
        keys = np.frombuffer(self.keys, dtype=np.uint64)
        starts = np.frombuffer(self.starts, dtype=np.int64)
        docs = np.frombuffer(self.docs, dtype=np.int32)
        tfs = np.frombuffer(self.tfs, dtype=np.float32)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        if len(keys) > 1 and not np.all(keys[1:] != keys[:-1]):
            log.warning("segment %s: two terms share a rank key; no rank file", segment_id)
            return
        ends = np.append(starts[1:], len(docs))
        lengths = (ends - starts)[order]
        new_starts = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_starts[1:])
        source = np.repeat(starts[order] - new_starts[:-1], lengths) + np.arange(len(docs))
        header = _HEADER.pack(_MAGIC, documents, len(keys), len(docs))
        handle, temporary = tempfile.mkstemp(prefix=".kbrank-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(header)
                for part in (keys, new_starts, docs[source], tfs[source]):
                    out.write(part.tobytes())
            os.replace(temporary, rank_file_path(folder, segment_id))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
