"""Full builds on several cores: worker processes each index a slice of the KB into segments.

Whoosh writes postings in pure Python, so one process builds about 80 articles a second;
a 10,000-article KB would take minutes on one core. A full build therefore splits the sorted
article paths into one contiguous chunk per core, and worker processes each parse and index
their chunk into segments of their own in the new generation (how Whoosh's own ``MpWriter``
works, without its pickled document queue, so parsing runs in parallel too). The parent then
commits all the segments in one table-of-contents write: readers see every segment or none.

A worker closes a segment whenever its postings reach :data:`SEGMENT_MB`, so its memory
stays bounded however big the KB is. Small KBs are built in-process: starting workers
costs more than they save.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec.base import Segment
from whoosh.index import Index
from whoosh.writing import SegmentWriter

from ..documents.articles import read_article
from ..documents.gitmeta import FileHistory
from ..documents.schema import build_schema, to_document
from ..errors import ArticleError
from ..whoosh_internals import finish_segment, segment_writer, write_rank_set
from .storage import WRITER_OPTIONS, index_writer

PARALLEL_FROM = 1_000  # fewer articles are built in-process
SEGMENT_MB = 192  # Whoosh's estimate of a segment's postings in memory (~1.1M postings)
SEGMENT_BYTES = SEGMENT_MB << 20

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Chunk:
    """One worker's share of a full build."""

    index_dir: str
    kb_root: Path
    paths: Sequence[str]
    histories: dict[str, FileHistory]
    default_audience: str
    phrases: Sequence[str]  # whose documents each segment's rank file lists


@dataclass
class ChunkResult:
    segments: list[Segment] = field(default_factory=list)
    claims: list[tuple[str, str]] = field(default_factory=list)  # (id, path) in path order
    errors: list[ArticleError] = field(default_factory=list)
    drafts: int = 0  # articles not indexed until their authors publish them


_done_counter = None  # articles parsed so far, shared by all workers of a build (a Value)


def _start_worker(counter: object, parent: int) -> None:
    """In each worker: count into the shared counter, and exit if the parent dies (a kill -9
    of `kb index` must not leave workers writing into an index nobody will use)."""
    global _done_counter
    _done_counter = counter
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.25)
    os._exit(1)


def index_chunk(chunk: Chunk, on_article: Callable[[], None] | None = None) -> ChunkResult:
    """Parse and index one chunk into new segments of the index in ``chunk.index_dir``.

    A segment is closed whenever Whoosh's posting pool reaches :data:`SEGMENT_MB`: past
    that it would spill sorted runs to disk and pickle every posting twice more, which made
    builds of a few thousand articles half again as slow. So memory stays bounded too.
    """
    ix = whoosh_index.open_dir(chunk.index_dir, schema=build_schema())
    result = ChunkResult()
    writer = _segment_writer(ix, chunk.phrases)
    try:
        for relpath in chunk.paths:
            try:
                article = read_article(chunk.kb_root, relpath, chunk.default_audience)
            except ArticleError as error:
                result.errors.append(error)
            else:
                if article.draft:
                    result.drafts += 1
                    _count(on_article)
                    continue
                writer.add_document(**to_document(article, chunk.histories[relpath]))
                result.claims.append((article.id, relpath))
                if writer.pool.currentsize > SEGMENT_BYTES:
                    result.segments.append(finish_segment(writer))
                    writer = _segment_writer(ix, chunk.phrases)
            _count(on_article)
        if writer.docnum:
            result.segments.append(finish_segment(writer))
        else:
            writer.cancel()
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    return result


def _segment_writer(ix: Index, phrases: Sequence[str]) -> SegmentWriter:
    return segment_writer(ix, limitmb=SEGMENT_MB * 2, phrases=phrases, **WRITER_OPTIONS)


def _count(on_article: Callable[[], None] | None) -> None:
    if on_article is not None:
        on_article()
    elif _done_counter is not None:
        with _done_counter.get_lock():  # type: ignore[attr-defined]
            _done_counter.value += 1  # type: ignore[attr-defined]


def default_workers() -> int:
    """Cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _chunks(paths: Sequence[str], workers: int) -> list[Sequence[str]]:
    """``paths`` cut into at most ``workers`` runs of near-equal length (none for no paths)."""
    size = max(1, -(-len(paths) // workers))
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def index_chunks(
    ix: Index,
    kb_root: Path,
    paths: Sequence[str],
    histories: dict[str, FileHistory],
    default_audience: str,
    workers: int,
    phrases: Sequence[str],
    progress: Progress | None = None,
) -> list[ChunkResult]:
    """Index ``paths`` into new segments of ``ix`` (not yet committed), in path order."""
    directory = ix.storage.folder
    workers = max(1, min(workers, -(-len(paths) // PARALLEL_FROM)))

    def chunk(part: Sequence[str]) -> Chunk:
        return Chunk(
            directory, kb_root, part, {p: histories[p] for p in part}, default_audience, phrases
        )

    if workers == 1:
        done = 0

        def counted() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(paths))

        return [index_chunk(chunk(part), counted) for part in _chunks(paths, 1)]

    # spawn, not fork: the server builds from a thread while others serve requests, and a
    # forked child could inherit a lock some other thread held
    context = multiprocessing.get_context("spawn")
    counter = context.Value("i", 0)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(counter, os.getpid())
    ) as pool:
        futures: list[Future[ChunkResult]] = [
            pool.submit(index_chunk, chunk(part)) for part in _chunks(paths, workers)
        ]
        try:
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                if progress:
                    progress(counter.value, len(paths))
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def commit_segments(ix: Index, segments: list[Segment]) -> None:
    """Make the workers' segments the index's content, in one table-of-contents write,
    ranked from one rank set (see :mod:`indexer.whoosh_internals`): a search then looks each
    term up once, not once per segment."""
    members = [(segment.segment_id(), segment.doc_count_all()) for segment in segments]
    write_rank_set(Path(ix.storage.folder), members)
    index_writer(ix).commit(mergetype=lambda _writer, existing: [*existing, *segments])
