"""Search events, result clicks and article feedback, in the activity database.

Why a queue: a search must not wait for a database write. Recording an event only puts it
on a bounded queue (microseconds); one writer thread per process inserts them in batches,
at most BATCH_SECONDS apart. When the database is down or slow, the writer keeps its batch
and retries, backing off, while new events wait in the queue; once QUEUE_LIMIT events wait,
new ones are dropped and counted (``/metrics``). A process that stops (SIGTERM, Ctrl-C)
writes what is queued first, for SHUTDOWN_SECONDS at most (:meth:`Activity.close`).

The store folds search-as-you-type into one search: when a visitor's query extends or
shortens their previous one within REFINE_SECONDS and nothing was clicked in between, only
the later one is kept, so "kerb", "kerber", "kerberos" count as one search for "kerberos".
The fold is decided in the database, against the visitor's rows there, so keystrokes that
a load balancer sent to different replicas fold too.

Feedback is written at once instead, because the visitor is told whether it counted. There is
one row per article and visitor, so a double click, or changing one's mind, never counts
twice, and the hourly limit is counted over every replica sharing the store.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .database import Connection, Database, DatabaseDown, DatabaseError

log = logging.getLogger(__name__)

REFINE_SECONDS = 8.0  # a query edited within this time replaces the one before it
BATCH_SECONDS = 0.5  # a batch gathers events this long at most: about what kill -9 loses
BATCH_LIMIT = 1000  # events written in one transaction at most
QUEUE_LIMIT = 20_000  # events a process holds while the store cannot be written
RETRY_FIRST_SECONDS, RETRY_MOST_SECONDS = 0.25, 5.0
SHUTDOWN_SECONDS = 3.0
"""How long a stopping process waits for the queue to be written. Short enough that, after
waitress's 5 s for requests in flight, a stop stays under the 10 s `docker stop` gives before
SIGKILL; a database that does not answer by then costs the events still queued, not a hung
shutdown."""
PRUNE_EVERY_SECONDS = 3600.0
MAX_COMMENT_CHARS = 2000
MOST_OPENED_SECONDS = 60.0  # how stale the popular articles may be
REPORT_SECONDS = 30.0  # the insights page's statements may run this long


class ActivityUnavailable(Exception):
    """The activity store cannot be read or written now (its message says why)."""


class FeedbackLimited(Exception):
    """This visitor gave too much feedback in the last hour."""


@dataclass(frozen=True)
class SearchEvent:
    id: str
    at: float
    visitor: str
    role: str
    source: str
    query: str
    total: int
    shown: tuple[str, ...]

    @property
    def normalised(self) -> str:
        return " ".join(self.query.lower().split())


@dataclass(frozen=True)
class ClickEvent:
    search_id: str
    article_id: str
    rank: int
    at: float


@dataclass(frozen=True)
class _Flush:
    done: threading.Event


@dataclass(frozen=True)
class WriterReport:
    """What happened to events since the last report, for /metrics; None: not known."""

    written: int = 0
    dropped: int = 0
    queued: int | None = None  # events waiting now
    up: bool | None = None  # whether the last write succeeded


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except DatabaseError as exc:
        raise ActivityUnavailable(f"activity store: {exc}") from exc


class Activity:
    """The store: queued search and click events, synchronous feedback, read connections."""

    def __init__(
        self,
        database: Database,
        retention_days: int = 180,
        feedback_per_hour: int = 30,
        enabled: bool = True,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self.database = database
        self.retention_seconds = retention_days * 86_400
        self.feedback_per_hour = feedback_per_hour
        self.enabled = enabled
        self.dropped = 0
        self.written = 0
        self.listeners: list[Callable[[WriterReport], None]] = []
        self._queue: queue.Queue[SearchEvent | ClickEvent | _Flush] = queue.Queue(queue_limit)
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # the last most_opened answer: ((days, limit), when read, ids); the first page
        # and every no-result keystroke of search-as-you-type ask for it
        self._opened: tuple[tuple[int, int], float, list[str]] | None = None
        self._refreshing = threading.Lock()
        if database.problem:
            log.warning("%s; searches are not recorded and feedback is refused", database.problem)

    @property
    def problem(self) -> str | None:
        """Why nothing can ever be recorded (a SQLite file that cannot be made), or None."""
        return self.database.problem

    # ------------------------------------------------------------------ queued events

    def record(self, event: SearchEvent | ClickEvent) -> None:
        """Queue an event for the writer thread; never blocks, never raises."""
        if not self.enabled or self.problem:
            return
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._report(WriterReport(dropped=1))
        else:
            self._report(WriterReport(queued=self.queued))

    @property
    def queued(self) -> int:
        """Events not written yet: in the queue, and in the batch the writer holds."""
        return self._queue.qsize() + self._in_flight

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (tests and shutdown)."""
        if self._thread is None:
            return True
        done = threading.Event()
        try:
            self._queue.put(_Flush(done), timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Before the process exits: write everything queued, waiting at most ``timeout``."""
        if not self.flush(timeout):
            log.warning(
                "stopping with %d activity events not recorded: the store at %s did not "
                "answer within %.0f s",
                self.queued,
                self.database.where,
                timeout,
            )

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_forever, name="activity-writer", daemon=True
                )
                self._thread.start()

    def _report(self, report: WriterReport) -> None:
        self.written += report.written
        self.dropped += report.dropped
        for listener in self.listeners:
            listener(report)

    def _gather(self) -> list[SearchEvent | ClickEvent | _Flush]:
        batch = [self._queue.get()]
        deadline = time.monotonic() + BATCH_SECONDS
        while (
            not isinstance(batch[-1], _Flush)
            and len(batch) < BATCH_LIMIT
            and time.monotonic() < deadline
        ):
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _write_forever(self) -> None:
        next_prune = 0.0  # prune with the first batch, then hourly
        retry = RETRY_FIRST_SECONDS
        batch: list[SearchEvent | ClickEvent | _Flush] = []
        while True:
            batch = batch or self._gather()
            events = [item for item in batch if not isinstance(item, _Flush)]
            self._in_flight = len(events)
            try:
                self._write(events)
                if time.monotonic() >= next_prune:
                    self._prune()
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            except DatabaseDown as exc:
                if retry == RETRY_FIRST_SECONDS:
                    log.warning(
                        "activity store %s is not answering (%s); %d events wait and are "
                        "written when it is back",
                        self.database.where,
                        exc,
                        self.queued,
                    )
                self._report(WriterReport(queued=self.queued, up=False))
                time.sleep(retry)
                retry = min(RETRY_MOST_SECONDS, retry * 2)
                continue  # the same batch again
            except DatabaseError as exc:
                log.warning("could not record %d activity events: %s", len(events), exc)
                self._in_flight = 0
                self._report(WriterReport(dropped=len(events), queued=self.queued, up=False))
            else:
                if retry != RETRY_FIRST_SECONDS:
                    log.warning("activity store %s is back", self.database.where)
                self._in_flight = 0
                self._report(WriterReport(written=len(events), queued=self.queued, up=True))
            retry = RETRY_FIRST_SECONDS
            for item in batch:
                if isinstance(item, _Flush):
                    item.done.set()
            batch = []

    def _write(self, events: list[SearchEvent | ClickEvent]) -> None:
        if not events:
            return
        with self.database.connect(wait=True) as connection, connection.transaction("activity"):
            for event in events:
                if isinstance(event, SearchEvent):
                    _insert_search(connection, event)
                else:
                    connection.execute(
                        "INSERT INTO clicks VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (event.search_id, event.article_id, event.rank, event.at),
                    )

    def _prune(self) -> None:
        cutoff = time.time() - self.retention_seconds
        with self.database.connect(wait=True) as connection, connection.transaction("activity"):
            connection.execute("DELETE FROM searches WHERE at < ?", (cutoff,))
            connection.execute("DELETE FROM clicks WHERE at < ?", (cutoff,))

    # ------------------------------------------------------------------ feedback

    def feedback(
        self, article_id: str, voter: str, client: str, helpful: bool, comment: str = ""
    ) -> bool:
        """Record one visitor's vote on an article; True if it is new, False if it replaced
        their earlier vote. New votes are limited per hour for the visitor and for the
        ``client`` address alike: a client that drops its cookie is a new visitor each time.
        Raises :class:`FeedbackLimited` or :class:`ActivityUnavailable`."""
        now = time.time()
        with (
            _unavailable_on_error(),
            self.database.connect() as connection,
            connection.transaction("feedback"),
        ):
            existing = connection.execute(
                "SELECT comment FROM feedback WHERE article_id = ? AND voter = ?",
                (article_id, voter),
            ).fetchone()
            if existing is None:
                (recent,) = connection.execute(
                    "SELECT count(*) FROM feedback WHERE (voter = ? OR client = ?) AND at > ?",
                    (voter, client, now - 3600),
                ).fetchone()
                if recent >= self.feedback_per_hour:
                    raise FeedbackLimited(f"at most {self.feedback_per_hour} articles an hour")
            kept = comment.strip()[:MAX_COMMENT_CHARS] or (existing or ("",))[0]
            connection.execute(
                "INSERT INTO feedback (article_id, voter, helpful, comment, at, client) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id, voter) DO UPDATE "
                "SET helpful = excluded.helpful, comment = excluded.comment, "
                "at = excluded.at, client = excluded.client",
                (article_id, voter, int(helpful), kept, now, client),
            )
        return existing is None

    def votes(self, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) counts for one article."""
        with self.reading() as connection:
            row = connection.execute(
                "SELECT coalesce(sum(helpful), 0), count(*) - coalesce(sum(helpful), 0) "
                "FROM feedback WHERE article_id = ?",
                (article_id,),
            ).fetchone()
        return int(row[0]), int(row[1])

    def most_opened(self, days: int, limit: int) -> list[str]:
        """Ids of the articles opened most from results over the last ``days`` days, most
        first (callers keep only those the reader may see). Read once, then again in the
        background when MOST_OPENED_SECONDS old: a page never waits for it twice."""
        kept = self._opened
        if kept is None or kept[0] != (days, limit):
            return self._read_opened(days, limit)
        if time.monotonic() - kept[1] >= MOST_OPENED_SECONDS and not self._refreshing.locked():
            threading.Thread(target=self._refresh_opened, args=(days, limit), daemon=True).start()
        return kept[2]

    def _refresh_opened(self, days: int, limit: int) -> None:
        with self._refreshing:
            try:
                self._read_opened(days, limit)
            except ActivityUnavailable:
                kept = self._opened  # the store is down: keep the last answer a while
                if kept is not None:
                    self._opened = (kept[0], time.monotonic(), kept[2])

    def _read_opened(self, days: int, limit: int) -> list[str]:
        with self.reading() as connection:
            rows = connection.execute(
                "SELECT article_id FROM clicks WHERE at >= ? GROUP BY article_id "
                "ORDER BY count(*) DESC, max(at) DESC LIMIT ?",
                (time.time() - days * 86_400, limit),
            )
            found = [row[0] for row in rows]
        self._opened = ((days, limit), time.monotonic(), found)
        return found

    # ------------------------------------------------------------------ reading

    @contextmanager
    def reading(self, statement_seconds: float | None = None) -> Iterator[Connection]:
        """A connection for reports; raises :class:`ActivityUnavailable` if there is none,
        at once while the store is known to be down. ``statement_seconds``: for reports
        that may take longer than a request's default (PostgreSQL)."""
        with (
            _unavailable_on_error(),
            self.database.connect(statement_seconds=statement_seconds) as connection,
        ):
            yield connection


def _insert_search(connection: Connection, event: SearchEvent) -> None:
    """Insert a search, folding it with the visitor's neighbouring searches in the store:
    an unclicked earlier one that it refines is deleted, and it is not inserted at all if a
    later one (written first, by another process) refines it."""
    neighbours = (event.visitor, event.source, event.id)
    before = connection.execute(
        "SELECT s.id, s.normalised, s.at, "
        "EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.id) FROM searches s "
        "WHERE s.visitor = ? AND s.source = ? AND s.id != ? AND s.at <= ? AND s.at >= ? "
        "ORDER BY s.at DESC LIMIT 1",
        (*neighbours, event.at, event.at - REFINE_SECONDS),
    ).fetchone()
    if before and not before[3] and _refines(before[1], before[2], event.normalised, event.at):
        connection.execute("DELETE FROM searches WHERE id = ?", (before[0],))
    after = connection.execute(
        "SELECT normalised, at FROM searches "
        "WHERE visitor = ? AND source = ? AND id != ? AND at > ? AND at <= ? "
        "ORDER BY at LIMIT 1",
        (*neighbours, event.at, event.at + REFINE_SECONDS),
    ).fetchone()
    if after and _refines(event.normalised, event.at, after[0], after[1]):
        return
    connection.execute(
        "INSERT INTO searches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            event.id,
            event.at,
            event.visitor,
            event.role,
            event.source,
            event.query,
            event.normalised,
            event.total,
            json.dumps(list(event.shown)),
        ),
    )


def _refines(old: str, old_at: float, new: str, new_at: float) -> bool:
    """Whether the query ``new`` is ``old`` still being typed (or backspaced)."""
    if new_at - old_at > REFINE_SECONDS:
        return False
    return new.startswith(old) or old.startswith(new)
