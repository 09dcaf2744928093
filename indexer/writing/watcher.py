"""Watch the kb folder and keep the index up to date within about a second of a save.

Watchdog callbacks only record what changed and wake the worker; the worker waits until
events have stopped for ``debounce`` seconds (but never longer than ``max_delay`` after the
first one), then writes the whole burst as one batch. A burst too large to handle file by
file (a ``git checkout`` of another branch), a moved folder, or the periodic safety net
all fall back to a reconciliation of the whole tree. If a write fails, the batch is kept and
retried with back-off; the index keeps serving its last good commit meanwhile. A write that
keeps failing, or a live index that cannot be opened (deleted, truncated), is answered with
a full rebuild into a new generation, which the readers switch to when it is complete.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..documents.articles import is_article_path
from .status import HEARTBEAT_SECONDS, WriterStatus, remove_status, write_status
from .writer import Indexer

log = logging.getLogger(__name__)

STORM_FILES = 500  # more changed files than this in one burst: reconcile instead
REBUILD_AFTER_FAILURES = 3  # consecutive failed writes before trying a full rebuild
QUIET_BEFORE_MERGE = 3.0  # seconds without changes before merging the segments saves left
_GIT_TRIGGERS = frozenset({"HEAD", "index", "packed-refs", "ORIG_HEAD"})


class Watcher(FileSystemEventHandler):
    """Runs an observer thread and one worker thread that applies batches to the index."""

    def __init__(
        self,
        indexer: Indexer,
        debounce: float = 0.1,
        max_delay: float = 0.5,
        reconcile_every: float = 300.0,
    ) -> None:
        self.indexer = indexer
        self.root = indexer.kb_root
        self.index_dir = indexer.storage.index_dir.resolve()
        self.debounce = debounce
        self.max_delay = max_delay
        self.reconcile_every = reconcile_every
        self._pending: set[str] = set()
        self._in_batch = 0  # changes in the batch being written
        self._batch_started: float | None = None
        self._reconcile = False
        self._git_moved = False
        self._merge_due = False  # saves merged only a little: merge the rest when quiet
        self._more_to_merge = False  # the last merge left small segments for another
        self._last_event = 0.0
        self._behind_since: float | None = None  # first change not yet in the index
        self.failures = 0  # consecutive failed writes; 0 when the last one succeeded
        self.last_error = ""  # why the last write failed, for /healthz and the log
        self.writes_failed = 0  # failed writes since start, for /metrics
        self._cond = threading.Condition()
        self._stopped = False
        self._observer = Observer()
        self._worker = threading.Thread(target=self._run, name="kb-indexer", daemon=True)
        self._reporter = threading.Thread(
            target=self._report_forever, name="kb-status", daemon=True
        )
        self._stop_reporting = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._observer.schedule(self, str(self.root), recursive=True)
        git = self.indexer.git_dir()
        if git is not None and not git.is_relative_to(self.root):
            self._observer.schedule(self, str(git), recursive=False)
        self._observer.start()
        self._worker.start()
        self._reporter.start()
        log.info("watching %s for changes", self.root)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._stop_reporting.set()
        self._observer.stop()
        self._observer.join(timeout=5)
        self._worker.join(timeout=30)
        self._reporter.join(timeout=5)
        # a clean stop withdraws the status; a crashed writer leaves a heartbeat that stops
        remove_status(self.index_dir, os.getpid())

    @property
    def pending(self) -> int:
        """Changes seen but not yet in the index (for /healthz)."""
        with self._cond:
            return self._waiting() + self._in_batch

    @property
    def busy_seconds(self) -> float:
        """How long the writer has been writing batches without a pause; 0 when idle."""
        started = self._batch_started
        return 0.0 if started is None else time.monotonic() - started

    @property
    def lag(self) -> float:
        """Seconds since the oldest change that is not in the index yet; 0 when caught up."""
        with self._cond:
            since = self._behind_since
        return 0.0 if since is None else time.monotonic() - since

    @property
    def alive(self) -> bool:
        return self._worker.is_alive()

    def request_reconcile(self) -> None:
        """Compare the whole tree with the index soon; also how a reader that found the live
        index missing or broken gets it rebuilt (see :meth:`Indexer.reconcile`)."""
        with self._cond:
            self._reconcile = True
            self._last_event = time.monotonic()
            if self._behind_since is None:
                self._behind_since = self._last_event
            self._cond.notify_all()

    def status(self) -> WriterStatus:
        """What reader processes need to know of this writer (see :mod:`indexer.writing.status`)."""
        return WriterStatus(
            pid=os.getpid(),
            heartbeat=time.time(),
            alive=self.alive,
            pending=self.pending,
            lag_seconds=round(self.lag, 2),
            busy_seconds=round(self.busy_seconds, 2),
            last_error=self.last_error,
            problems=[error.as_dict() for error in list(self.indexer.problems.values())],
        )

    def _report(self) -> None:
        try:
            write_status(self.index_dir, self.status())
        except OSError as exc:  # a full or read-only disk: the write path reports it
            log.debug("cannot publish the writer status: %s", exc)

    def _report_forever(self) -> None:
        while not self._stop_reporting.is_set():
            self._report()
            self._stop_reporting.wait(HEARTBEAT_SECONDS)

    # ------------------------------------------------------------------ events

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        changed: set[str] = set()
        reconcile = git_moved = False
        for raw in paths:
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            if path.name in _GIT_TRIGGERS and path.parent.name == ".git":
                git_moved = True
                continue
            if path.is_relative_to(self.index_dir) or not path.is_relative_to(self.root):
                continue
            relpath = path.relative_to(self.root).as_posix()
            if relpath.startswith(".git/") or relpath == ".git":
                continue
            if event.is_directory:
                reconcile = reconcile or event.event_type in ("moved", "deleted")
            elif is_article_path(relpath):
                changed.add(relpath)
        if not (changed or reconcile or git_moved):
            return
        with self._cond:
            self._pending |= changed
            self._reconcile |= reconcile
            self._git_moved |= git_moved
            self._last_event = time.monotonic()
            if self._behind_since is None:
                self._behind_since = self._last_event
            self._cond.notify_all()

    # ------------------------------------------------------------------ worker

    def _has_work(self) -> bool:
        return bool(self._pending or self._reconcile or self._git_moved)

    def _waiting(self) -> int:
        """Changes waiting for a batch: each path, and a reconcile or git move as one."""
        return len(self._pending) + (1 if self._reconcile or self._git_moved else 0)

    def _wait_for_batch(self) -> tuple[set[str], bool, bool, bool] | None:
        """The next batch: (paths, reconcile, git moved, merge only); None once stopped."""
        with self._cond:
            deadline = time.monotonic() + self.reconcile_every
            while not (self._has_work() or self._stopped):
                now = time.monotonic()
                if now >= deadline:
                    self._reconcile = True  # the safety net for events the OS dropped
                    break
                wait = (
                    min(deadline - now, QUIET_BEFORE_MERGE) if self._merge_due else deadline - now
                )
                if not self._cond.wait(timeout=wait) and self._merge_due and not self._has_work():
                    self._merge_due = False  # quiet for a while: merge what saves put off
                    return set(), False, False, True
            first = time.monotonic()
            while not self._stopped:
                now = time.monotonic()
                quiet_for = now - self._last_event
                if quiet_for >= self.debounce or now - first >= self.max_delay:
                    break
                self._cond.wait(timeout=min(self.debounce - quiet_for, self.max_delay))
            if self._stopped:
                return None
            batch = (set(self._pending), self._reconcile, self._git_moved, False)
            # still pending for /healthz until written: a long batch is not "nothing to do"
            self._in_batch = self._waiting()
            if self._batch_started is None:
                self._batch_started = time.monotonic()
            self._pending.clear()
            self._reconcile = self._git_moved = False
            return batch

    def _batch_done(self) -> None:
        """The batch is written; batches that follow one another without a pause count as
        one busy spell (a large pull arrives as several)."""
        with self._cond:
            self._in_batch = 0
            if not self._has_work():
                self._batch_started = None

    def _apply(self, paths: set[str], reconcile: bool, git_moved: bool, merge: bool) -> None:
        if merge:
            self._more_to_merge = self.indexer.merge_segments()
        elif self.failures >= REBUILD_AFTER_FAILURES:
            log.warning(
                "%d writes failed in a row: rebuilding the index from the working tree",
                self.failures,
            )
            self.indexer.build()
        elif reconcile or len(paths) > STORM_FILES:
            self.indexer.reconcile()
        else:
            if paths:
                self.indexer.update(paths)
            if git_moved:
                self.indexer.sync_git()

    def _run(self) -> None:
        backoff = 0.5
        while True:
            batch = self._wait_for_batch()
            if batch is None:
                return
            paths, reconcile, git_moved, merge = batch
            try:
                self._apply(paths, reconcile, git_moved, merge)
            except Exception as exc:
                self._batch_done()
                self.failures += 1
                self.writes_failed += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "cannot write the index (%s); still serving the last good index, "
                    "retrying in %.1f s",
                    self.last_error,
                    backoff,
                    exc_info=True,
                )
                with self._cond:
                    self._pending |= paths
                    self._reconcile |= reconcile
                    self._git_moved |= git_moved
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self._batch_done()
            backoff = 0.5
            self.failures, self.last_error = 0, ""
            with self._cond:
                if not self._has_work():
                    self._behind_since = None
                # after a save, merge when quiet; after a merge (capped), if some are left
                self._merge_due = self._more_to_merge if merge else True
            self._report()  # readers learn of new problems (or fixed ones) at once
