"""Keeping the index equal to the kb folder: full builds, incremental batches, reconciliation.

There is one write path. Every change, whether from a full build, the watcher, start-up
reconciliation or a git pull, goes through :meth:`Indexer._write_batch` or :meth:`Indexer.build`,
under a lock that also excludes other processes. A file that cannot be parsed is recorded
in :attr:`Indexer.problems` and skipped; it never stops the batch, and an article that was
indexed before it broke keeps being served until the file is fixed or deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.codec.base import Segment
from whoosh.index import Index
from whoosh.reading import SegmentReader
from whoosh.writing import IndexWriter

from ..documents.articles import (
    Article,
    file_hash,
    is_article_path,
    iter_article_paths,
    parse_article,
    read_article,
)
from ..documents.fields import AUDIENCES, DEFAULT_AUDIENCE
from ..documents.gitmeta import FileHistory, GitHistory, read_history
from ..documents.schema import indexed_files, live_hashes, meaning_text, to_document
from ..errors import ArticleError, IndexUnavailable
from ..text.phrases import synonym_phrases
from ..text.synonyms import SynonymSource
from ..whoosh_internals import ranked_together
from .bulk import commit_segments, default_workers, index_chunks
from .storage import Generation, IndexStorage, index_writer
from .vectors import VectorStore, fill

log = logging.getLogger(__name__)

RENAME_MEMORY = 30.0  # seconds a deleted file's name is kept for a file with the same content
SAVE_MERGE_DOCS = 24  # a save merges at most this many documents of small segments (~0.1 s)
# a quiet KB's merge, which a save arriving meanwhile waits for: at most this many documents
# and segments (merging 43 segments of 12-24 documents took 11 s at 100,000 articles)
QUIET_MERGE_DOCS = 2_000
QUIET_MERGE_SEGMENTS = 10
MERGE_RATIO = 4  # see _small_segments
MERGE_FLOOR_DOCS = 100  # segments this small are merged whatever their sizes' ratio

Progress = Callable[[int, int], None]
"""Called as (done, total) while a full build runs."""


@dataclass
class Report:
    """What one write did, for logs, the CLI and /healthz."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    errors: list[ArticleError] = field(default_factory=list)
    seconds: float = 0.0
    full_build: bool = False
    drafts: int = 0  # files marked draft: not indexed

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.deleted

    def summary(self) -> str:
        kind = "built" if self.full_build else "indexed"
        drafts = f", not published (drafts): {self.drafts}" if self.drafts else ""
        return (
            f"{kind}: {self.added} added, {self.updated} updated, {self.deleted} deleted, "
            f"{len(self.errors)} with errors{drafts} ({self.seconds:.2f}s)"
        )


def _small_segments(segments: list[Segment], limit: int, most: int) -> list[Segment]:
    """The smallest segments, at most ``most`` of them, in order, while their running total
    stays within ``limit`` documents and each is at most MERGE_RATIO times the total of those
    before it (or of MERGE_FLOOR_DOCS, if more); two at least, or none. Segments of similar size are merged first, so a document is rewritten a
    few times in its life, not at every merge, and the number of segments stays bounded.

    (Before, a Fibonacci bound from Whoosh's MERGE_SMALL stopped at a first segment of five
    documents or more: the 10- to 24-document segments that saves' merges leave were never
    merged again, and 43 of them had piled up on a KB an author saved every second.)"""
    chosen: list[Segment] = []
    total = 0
    for segment in sorted(segments, key=lambda segment: segment.doc_count_all()):
        count = segment.doc_count_all()
        too_big = chosen and count > MERGE_RATIO * max(total, MERGE_FLOOR_DOCS)
        if len(chosen) == most or total + count > limit or too_big:
            break
        chosen.append(segment)
        total += count
    return chosen if len(chosen) > 1 else []


def _mergeable(folder: Path, segments: list[Segment]) -> list[Segment]:
    """Segments a merge may take: not those of rank sets (a full build's)."""
    together = ranked_together(folder)
    return [segment for segment in segments if segment.segment_id() not in together]


def _merge(writer: IndexWriter, segments: list[Segment], limit: int, most: int) -> list[Segment]:
    chosen = _small_segments(_mergeable(Path(writer.storage.folder), segments), limit, most)
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [segment for segment in segments if segment not in chosen]


def _merge_quiet(writer: IndexWriter, segments: list[Segment]) -> list[Segment]:
    """The merge a quiet KB gets: the same choice, up to QUIET_MERGE_DOCS documents."""
    return _merge(writer, segments, QUIET_MERGE_DOCS, QUIET_MERGE_SEGMENTS)


def merge_small_segments(writer: IndexWriter, segments: list[Segment]) -> list[Segment]:
    """A save's merge policy: the small segments (see :func:`_small_segments`), but never
    more than SAVE_MERGE_DOCS documents, so a save is not held up by a merge (uncapped, those took
    up to 0.7 s and made the slowest saves miss the one-second target). The rest waits for
    :meth:`Indexer.merge_segments`, which the watcher runs when the KB is quiet."""
    return _merge(writer, segments, SAVE_MERGE_DOCS, SAVE_MERGE_DOCS)


class Indexer:
    """Writes the index for one kb folder. Safe to call from several threads."""

    def __init__(
        self,
        kb_root: Path,
        index_dir: Path,
        default_audience: str = DEFAULT_AUDIENCE,
        workers: int = 0,
    ) -> None:
        """``workers``: processes for full builds; 0 means one per core."""
        self.kb_root = kb_root.resolve()
        self.workers = workers or default_workers()
        self.storage = IndexStorage(index_dir)
        self.default_audience = default_audience
        self.problems: dict[str, ArticleError] = {}
        self._lock = threading.Lock()
        self._git = GitHistory.open(self.kb_root)
        self._recently_gone: dict[str, tuple[str, float]] = {}  # content hash -> (path, when)
        self.vectors = VectorStore(index_dir)
        self.synonyms = SynonymSource(self.kb_root)
        self._meaning_lock = threading.Lock()
        self._meaning_wanted = False
        self._meaning_thread: threading.Thread | None = None

    def _writer(self, ix: Index, **options: Any) -> IndexWriter:
        """A writer whose segments list the documents of the synonym groups' phrases."""
        return index_writer(ix, synonym_phrases(self.synonyms.current()), **options)

    # ------------------------------------------------------------------ entry points

    def _rebuild_instead(self, error: IndexUnavailable) -> Report:
        """The live index is gone or damaged (deleted, truncated): build a new one. Readers
        keep the searchers they have open until the new generation is live."""
        log.error("%s: rebuilding the index from the working tree", error)
        return self.build()

    def build(self, progress: Progress | None = None) -> Report:
        """Index every article into a fresh generation, then make it live in one step."""
        started = time.perf_counter()
        with self._lock, self.storage.write_lock():
            self.storage.remove_unfinished()
            generation, ix = self.storage.create_generation(self.kb_root)
            try:
                report = self._build_into(ix, progress)
                generation.write_state(
                    git_head=self._git.head() if self._git else None,
                    last_indexed=dt.datetime.now(dt.UTC).isoformat(),
                    files=generation.segment_files(),
                )
            except BaseException:
                self.storage.discard(generation)
                raise
            self.storage.swap(generation)
        report.seconds = time.perf_counter() - started
        self._finished(report)
        self.fill_meaning(self.workers, prune=True)  # the words are searchable already
        return report

    def reconcile(self, progress: Progress | None = None) -> Report:
        """Compare the working tree with the index by content hash and apply the difference.

        Catches changes made while the service was down, a `git checkout`, and any events
        the watcher missed. Files whose git history moved (a commit, a pull) are refreshed too.
        Without a usable index (none yet, another schema version, deleted, damaged) it builds
        one instead; ``progress`` is called during such a build.
        """
        if self.storage.usable(self.kb_root) is None:
            return self.build(progress)
        try:
            generation, searcher = self.storage.open_searcher()
            with searcher:
                indexed = {path: digest for path, (_, digest) in indexed_files(searcher).items()}
        except IndexUnavailable as error:
            return self._rebuild_instead(error)
        refused: list[str] = []
        on_disk = set(iter_article_paths(self.kb_root, self.storage.index_dir, refused))
        self._refuse_links(refused, None)
        stale = {p for p in on_disk if self._hash_differs(p, indexed.get(p))}
        stale |= indexed.keys() - on_disk
        stale |= self._moved_in_git(generation) & (on_disk | indexed.keys())
        stale |= {p for p in on_disk if p not in indexed}  # includes files that failed before
        return self.update(stale)

    def update(self, relpaths: Iterable[str]) -> Report:
        """Bring the given kb-relative paths up to date: add, re-index or delete each."""
        started = time.perf_counter()
        paths = {p for p in relpaths if is_article_path(p)}
        try:
            return self._update(paths, started)
        except IndexUnavailable as error:
            return self._rebuild_instead(error)

    def _update(self, paths: set[str], started: float) -> Report:
        with self._lock, self.storage.write_lock():
            self.storage.remove_unfinished()
            generation, ix = self.storage.open_current()
            report = self._write_batch(ix, paths) if paths else Report()
            generation.write_state(
                git_head=self._git.head() if self._git else None,
                last_indexed=dt.datetime.now(dt.UTC).isoformat(),
                files=generation.segment_files(),
            )
        report.seconds = time.perf_counter() - started
        self._finished(report)
        if report.changed:
            self._fill_meaning_soon()
        return report

    def fill_meaning(self, workers: int = 1, prune: bool = False) -> int:
        """Encode the meaning vectors the live articles lack (see :mod:`indexer.writing.vectors`);
        ``prune``: also forget those of content no article has any more. Returns how
        many were written."""
        try:
            _generation, searcher = self.storage.open_searcher()
        except IndexUnavailable:
            return 0
        try:
            with searcher:
                live = live_hashes(searcher)

                def texts(wanted: set[str]) -> dict[str, str]:
                    return {h: meaning_text(searcher.stored_fields(live[h])) for h in wanted}

                written = fill(self.vectors, texts, set(live), workers)
            if prune:
                self.vectors.keep_only(set(live))
        except (OSError, sqlite3.Error) as error:  # a full or read-only disk, say: the
            log.warning("meaning vectors not written: %s", error)  # words stay searchable
            return 0
        return written

    def _fill_meaning_soon(self) -> None:
        """Fill the vectors on a thread of their own: a save's words are searchable at
        once, and a pull of a thousand files is not held up by encoding them."""
        with self._meaning_lock:
            self._meaning_wanted = True
            if self._meaning_thread is None:
                self._meaning_thread = threading.Thread(
                    target=self._fill_meaning_while_wanted, name="meaning", daemon=True
                )
                self._meaning_thread.start()

    def _fill_meaning_while_wanted(self) -> None:
        while True:
            with self._meaning_lock:
                if not self._meaning_wanted:
                    self._meaning_thread = None
                    return
                self._meaning_wanted = False
            try:
                self.fill_meaning()
            except Exception:  # the words stay searchable; the next save tries again
                log.exception("meaning vectors could not be written")

    def merge_segments(self) -> bool:
        """Merge the small segments that saves left (what their capped merges put off); the
        watcher calls this once the KB has been quiet for a while. True if more are left
        for another merge (each is capped, so that a save never waits long for one)."""
        with self._lock, self.storage.write_lock():
            generation, ix = self.storage.open_current()
            self._writer(ix, timeout=30.0).commit(mergetype=_merge_quiet)
            generation.write_state(files=generation.segment_files())
            with ix.reader() as reader:
                segments = [leaf.segment() for leaf, _ in reader.leaf_readers()]
            left = _mergeable(generation.path, segments)
            return bool(_small_segments(left, QUIET_MERGE_DOCS, QUIET_MERGE_SEGMENTS))

    def sync_git(self) -> Report:
        """After a commit, pull or checkout: refresh the files whose git history moved."""
        generation = self.storage.current()
        return self.update(self._moved_in_git(generation)) if generation else Report()

    def git_dir(self) -> Path | None:
        """The repository's .git folder, watched for commits; None outside git."""
        return self._git.toplevel / ".git" if self._git else None

    # ------------------------------------------------------------------ internals

    def _finished(self, report: Report) -> None:
        level = logging.INFO if report.changed or report.full_build else logging.DEBUG
        log.log(level, "%s", report.summary())
        for error in report.errors:
            log.warning("skipped %s", error)

    def _hash_differs(self, relpath: str, indexed_hash: str | None) -> bool:
        return indexed_hash is None or file_hash(self.kb_root / relpath) != indexed_hash

    def _moved_in_git(self, generation: Generation) -> set[str]:
        """Files touched by commits since the last index (their author and date changed)."""
        if self._git is None:
            return set()
        old, new = generation.read_state().get("git_head"), self._git.head()
        if not old or not new or old == new:
            return set()
        return self._git.changed_between(old, new) or set()

    def _refuse_links(self, refused: list[str], report: Report | None) -> None:
        """Links to files outside the KB are never indexed; say so, as for a broken file."""
        for relpath in refused:
            error = ArticleError(relpath, "is a link to a file outside the knowledge base")
            if report is not None:
                report.errors.append(error)
            self._problem(error)

    def _problem(self, error: ArticleError) -> None:
        """Remember a file's problem; the same problem found again (files that failed are
        retried with every batch) keeps the time it was first found."""
        before = self.problems.get(error.path)
        if before is not None and before.message == error.message:
            error.since = before.since
        self.problems[error.path] = error

    def _parse(self, relpath: str, report: Report) -> Article | None:
        try:
            article = read_article(self.kb_root, relpath, self.default_audience)
        except ArticleError as error:
            report.errors.append(error)
            self._problem(error)
            return None
        self.problems.pop(relpath, None)
        return article

    def _build_into(self, ix: Index, progress: Progress | None) -> Report:
        report = Report(full_build=True)
        refused: list[str] = []
        paths = list(iter_article_paths(self.kb_root, self.storage.index_dir, refused))
        histories = read_history(self.kb_root, paths, self._git, follow_renames=True)
        histories = {
            path: history.with_former({p: self._audience_at(p) for p in history.former_paths})
            if history.former_paths
            else history
            for path, history in histories.items()
        }
        self.problems.clear()
        self._refuse_links(refused, report)
        chunks = index_chunks(
            ix,
            self.kb_root,
            paths,
            histories,
            self.default_audience,
            self.workers,
            synonym_phrases(self.synonyms.current()),
            progress,
        )
        owners: dict[str, str] = {}
        duplicates = []
        for chunk in chunks:
            report.drafts += chunk.drafts
            for error in chunk.errors:
                report.errors.append(error)
                self._problem(error)
            for article_id, relpath in chunk.claims:
                if self._claim_id(article_id, relpath, owners, report):
                    report.added += 1
                else:
                    duplicates.append(relpath)
        commit_segments(ix, [segment for chunk in chunks for segment in chunk.segments])
        if duplicates:  # rare: a second commit is simpler than telling every worker
            writer = self._writer(ix)
            for relpath in duplicates:
                writer.delete_by_term("path", relpath)
            writer.commit(merge=False)
        return report

    def _claim_id(
        self, article_id: str, relpath: str, owners: dict[str, str], report: Report
    ) -> bool:
        """Record which file owns an id; a second file with the same id is an error."""
        owner = owners.setdefault(article_id, relpath)
        if owner == relpath:
            return True
        error = ArticleError(relpath, f"id {article_id} is already used by {owner}", line=None)
        report.errors.append(error)
        self._problem(error)
        return False

    def _write_batch(self, ix: Index, paths: Collection[str]) -> Report:
        report = Report()
        # files that failed before are retried with every batch: the batch may have fixed
        # them (a deleted file frees the id a copy of it was refused for)
        paths = set(paths) | set(self.problems)
        present = [p for p in sorted(paths) if (self.kb_root / p).is_file()]
        parsed = [a for p in present if (a := self._parse(p, report))]
        articles = [a for a in parsed if not a.draft]
        drafts = {a.path for a in parsed if a.draft}  # removed from the index, if they were in it
        report.drafts = len(drafts)
        # only the ids this batch claims are looked up: reading every indexed id and
        # checking every file on each save cost a third of a second at 10,000 articles
        with ix.searcher() as searcher:
            owners = {}
            for article in articles:
                if (owner := searcher.document(id=article.id)) is not None:
                    owners[article.id] = owner["path"]
            # an owner no longer on disk is gone even if its event has not arrived yet (a
            # move into a new folder reports the new path first)
            paths |= {p for p in owners.values() if not (self.kb_root / p).is_file()}
            before = {p: searcher.document(path=p) for p in paths}
        gone = (paths - set(present)) | drafts
        for relpath in gone:
            self.problems.pop(relpath, None)
            old = before[relpath]
            if old is not None and owners.get(old["id"]) == relpath:
                del owners[old["id"]]
        for article in articles:  # ids freed by this batch can be taken by files in it
            old = before[article.path]
            if old is not None and owners.get(old["id"]) == article.path:
                del owners[old["id"]]
        # a rename can reach us as a deletion and a creation in two batches: remember
        # deleted files for a while, so the new file still inherits the old name
        now = time.monotonic()
        self._recently_gone = {
            h: (p, t) for h, (p, t) in self._recently_gone.items() if now - t < RENAME_MEMORY
        }
        self._recently_gone.update(
            (before[p]["content_hash"], (p, now)) for p in gone if before[p] is not None
        )
        renamed_from = {h: p for h, (p, _) in self._recently_gone.items()}
        histories = read_history(self.kb_root, [a.path for a in articles], self._git)
        gone_audience = {p: before[p]["audience"] for p in gone if before[p] is not None}

        writer = self._writer(ix, timeout=30.0)
        try:
            for relpath in gone:
                if before[relpath] is not None:
                    writer.delete_by_term("path", relpath)
                    report.deleted += 1
            for article in articles:
                old = before[article.path]
                if not self._claim_id(article.id, article.path, owners, report):
                    continue
                history = self._carry_former_paths(
                    article.path,
                    histories[article.path],
                    old,
                    renamed_from.get(article.content_hash),
                    gone_audience,
                )
                if old is not None:
                    writer.delete_by_term("path", article.path)
                writer.update_document(**to_document(article, history))
                if old is None:
                    report.added += 1
                else:
                    report.updated += 1
            writer.commit(mergetype=merge_small_segments)
        except BaseException:
            writer.cancel()
            raise
        return report

    def _audience_at(self, relpath: str) -> str:
        """The audience of the article that ``relpath`` held when git last had it ("" if that
        cannot be told: then it counts as whatever audience the file has now)."""
        raw = self._git.last_version(relpath) if self._git else None
        if raw is None:
            return ""
        try:
            return parse_article(relpath, raw, self.default_audience).audience
        except ArticleError:
            return AUDIENCES[-1]  # unreadable then: as hidden as anything can be

    def _carry_former_paths(
        self,
        relpath: str,
        history: FileHistory,
        old: dict | None,
        renamed_from: str | None,
        gone: dict[str, str],
    ) -> FileHistory:
        """Keep old names working: paths this file had before, with the audience it had
        there: in the index already, moved away in this batch (same content), or, for a new
        file while others went (a pull that renamed and edited), by git's rename detection.
        ``gone``: audience of each file this batch deleted."""
        former: dict[str, str] = {}
        if old is not None:
            record = json.loads(old["record"])
            known = record.get("former_audiences", ())
            former |= dict(zip(record.get("former_paths", ()), known, strict=False))
            former |= {p: "" for p in record.get("former_paths", ()) if p not in former}
        if renamed_from:
            former[renamed_from] = gone.get(renamed_from, "")
        if old is None and gone and self._git is not None:
            for path in self._git.renamed_from(relpath):
                former.setdefault(path, gone.get(path) or self._audience_at(path))
        return history.with_former(former)
