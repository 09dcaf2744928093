"""Search events, result clicks and article feedback, kept in one SQLite file.

Why a queue: a search must not wait for a disk write. Recording an event only puts a tuple on
a queue (microseconds); one writer thread inserts them in batches, at most BATCH_SECONDS
apart. A process that stops (SIGTERM, Ctrl-C) writes what is queued first (:meth:`close`);
one that is killed loses what was not written yet. The writer also folds
search-as-you-type into one search: when a visitor's next query extends or shortens the
previous one within a few seconds and nothing was clicked in between, the earlier row is
dropped, so "kerb", "kerber", "kerberos" count as one search for "kerberos".

Feedback is written at once instead, because the visitor is told whether it counted. There is
one row per article and visitor, so a double click, or changing one's mind, never counts
twice. SQLite in WAL mode lets several server processes share the file.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id TEXT PRIMARY KEY,          -- carried by result links, so clicks find their search
    at REAL NOT NULL,             -- unix time
    visitor TEXT NOT NULL,        -- anonymous per-browser id, never a name or token
    role TEXT NOT NULL,
    source TEXT NOT NULL,         -- page, help (tier-1 page), api, suggest
    query TEXT NOT NULL,
    normalised TEXT NOT NULL,     -- lowercase, single spaces: what reports group by
    total INTEGER NOT NULL,
    shown TEXT NOT NULL           -- JSON array of the article ids on the first page
);
CREATE INDEX IF NOT EXISTS searches_at ON searches (at);
CREATE TABLE IF NOT EXISTS clicks (
    search_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    rank INTEGER NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (search_id, article_id)
);
CREATE INDEX IF NOT EXISTS clicks_at ON clicks (at);
CREATE TABLE IF NOT EXISTS feedback (
    article_id TEXT NOT NULL,
    voter TEXT NOT NULL,
    helpful INTEGER NOT NULL,     -- 1 yes, 0 no
    comment TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL,
    client TEXT NOT NULL DEFAULT '',  -- keyed hash of the client's address, for the limit
    PRIMARY KEY (article_id, voter)
);
CREATE INDEX IF NOT EXISTS feedback_at ON feedback (at);
"""
ADDED_COLUMNS = {"feedback": {"client": "TEXT NOT NULL DEFAULT ''"}}  # files made before them
INDEXES = "CREATE INDEX IF NOT EXISTS feedback_client ON feedback (client, at);"
REFINE_SECONDS = 8.0  # a query edited within this time replaces the one before it
BATCH_SECONDS = 0.5  # a batch gathers events this long at most: about what kill -9 loses
SHUTDOWN_SECONDS = 3.0
"""How long a stopping process waits for the queue to be written. Short enough that, after
waitress's 5 s for requests in flight, a stop stays under the 10 s `docker stop` gives before
SIGKILL; a database that does not answer by then costs the events still queued, not a hung
shutdown."""
PRUNE_EVERY_SECONDS = 3600.0
MAX_COMMENT_CHARS = 2000


MOST_OPENED_SECONDS = 60.0  # how stale the popular articles may be


class ActivityUnavailable(Exception):
    """The activity store cannot be written (bad path, read-only or full disk)."""


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


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


@contextmanager
def store_connection(
    path: Path, problem: str | None, unavailable: type[Exception], name: str
) -> Iterator[sqlite3.Connection]:
    """A connection to a store kept in the activity file, closed after use. A store that
    could not be set up (``problem``) or a database error raises ``unavailable``, so a
    caller answers with what it can do without the file instead of a 500."""
    if problem:
        raise unavailable(problem)
    try:
        with closing(connect(path)) as connection:
            yield connection
    except sqlite3.Error as exc:
        raise unavailable(f"{name} {path}: {exc}") from exc


class Activity:
    """The store: queued search and click events, synchronous feedback, read connections."""

    def __init__(
        self,
        path: Path,
        retention_days: int = 180,
        feedback_per_hour: int = 30,
        enabled: bool = True,
    ) -> None:
        self.path = Path(path)
        self.retention_seconds = retention_days * 86_400
        self.feedback_per_hour = feedback_per_hour
        self.enabled = enabled
        self.problem: str | None = None
        self.dropped = 0
        self._queue: queue.SimpleQueue[SearchEvent | ClickEvent | _Flush] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # the last most_opened answer: ((days, limit), when read, ids); the first page
        # and every no-result keystroke of search-as-you-type ask for it
        self._opened: tuple[tuple[int, int], float, list[str]] | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(connect(self.path)) as connection:
                connection.executescript(SCHEMA)
                _add_columns(connection)
                connection.executescript(INDEXES)
        except (OSError, sqlite3.Error) as exc:
            self.problem = f"activity store {self.path} cannot be written: {exc}"
            log.warning("%s; searches are not recorded and feedback is refused", self.problem)

    # ------------------------------------------------------------------ queued events

    def record(self, event: SearchEvent | ClickEvent) -> None:
        """Queue an event for the writer thread; never blocks, never raises."""
        if not self.enabled or self.problem:
            return
        if self._thread is None:
            self._start()
        self._queue.put(event)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (tests and shutdown)."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(_Flush(done))
        return done.wait(timeout)

    def close(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Before the process exits: write everything queued, waiting at most ``timeout``."""
        if not self.flush(timeout):
            log.warning(
                "stopping with activity events not recorded: the store at %s did not "
                "answer within %.0f s",
                self.path,
                timeout,
            )

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_forever, name="activity-writer", daemon=True
                )
                self._thread.start()

    def _write_forever(self) -> None:
        connection = connect(self.path)
        last: dict[tuple[str, str], SearchEvent] = {}  # (visitor, source) -> latest search
        next_prune = 0.0  # prune with the first batch, then hourly
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + BATCH_SECONDS
            while not isinstance(batch[-1], _Flush) and time.monotonic() < deadline:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                self._write(connection, batch, last)
                if time.monotonic() >= next_prune:
                    self._prune(connection)
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            except sqlite3.Error as exc:
                self.dropped += len(batch)
                log.warning("could not record %d activity events: %s", len(batch), exc)
            for item in batch:
                if isinstance(item, _Flush):
                    item.done.set()

    def _write(
        self, connection: sqlite3.Connection, batch: list, last: dict[tuple[str, str], SearchEvent]
    ) -> None:
        searches, clicks, superseded = [], [], []
        for item in batch:
            if isinstance(item, SearchEvent):
                key = (item.visitor, item.source)
                before = last.get(key)
                if before is not None and _refines(before, item):
                    superseded.append(before.id)
                last[key] = item
                searches.append(item)
            elif isinstance(item, ClickEvent):
                clicks.append(item)
                for key, before in list(last.items()):
                    if before.id == item.search_id:
                        del last[key]  # a clicked search is kept, whatever is typed next
        if len(last) > 10_000:
            last.clear()
        dropped = set(superseded)
        in_batch = {e.id for e in searches}
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT OR IGNORE INTO searches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.id,
                    e.at,
                    e.visitor,
                    e.role,
                    e.source,
                    e.query,
                    e.normalised,
                    e.total,
                    json.dumps(list(e.shown)),
                )
                for e in searches
                if e.id not in dropped
            ],
        )
        connection.executemany(
            "DELETE FROM searches WHERE id = ?", [(i,) for i in dropped - in_batch]
        )
        connection.executemany(
            "INSERT OR IGNORE INTO clicks VALUES (?, ?, ?, ?)",
            [(c.search_id, c.article_id, c.rank, c.at) for c in clicks],
        )
        connection.execute("COMMIT")

    def _prune(self, connection: sqlite3.Connection) -> None:
        cutoff = time.time() - self.retention_seconds
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
        if self.problem:
            raise ActivityUnavailable(self.problem)
        now = time.time()
        try:
            with closing(connect(self.path)) as connection:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    existing = connection.execute(
                        "SELECT comment FROM feedback WHERE article_id = ? AND voter = ?",
                        (article_id, voter),
                    ).fetchone()
                    if existing is None:
                        (recent,) = connection.execute(
                            "SELECT count(*) FROM feedback WHERE (voter = ? OR client = ?) "
                            "AND at > ?",
                            (voter, client, now - 3600),
                        ).fetchone()
                        if recent >= self.feedback_per_hour:
                            raise FeedbackLimited(
                                f"at most {self.feedback_per_hour} articles an hour"
                            )
                    kept = comment.strip()[:MAX_COMMENT_CHARS] or (existing or ("",))[0]
                    connection.execute(
                        "INSERT INTO feedback (article_id, voter, helpful, comment, at, client) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id, voter) DO UPDATE "
                        "SET helpful = excluded.helpful, comment = excluded.comment, "
                        "at = excluded.at, client = excluded.client",
                        (article_id, voter, int(helpful), kept, now, client),
                    )
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise ActivityUnavailable(f"feedback could not be saved: {exc}") from exc
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
        first (callers keep only those the reader may see); read again at most every
        MOST_OPENED_SECONDS."""
        kept = self._opened
        fresh = kept is not None and time.monotonic() - kept[1] < MOST_OPENED_SECONDS
        if kept is not None and fresh and kept[0] == (days, limit):
            return kept[2]
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
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reports; raises :class:`ActivityUnavailable` if there is none."""
        with store_connection(
            self.path, self.problem, ActivityUnavailable, "activity store"
        ) as connection:
            yield connection


def _add_columns(connection: sqlite3.Connection) -> None:
    """Columns added since a table was first made: SQLite's CREATE TABLE IF NOT EXISTS
    leaves an existing table as it was."""
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def _refines(before: SearchEvent, after: SearchEvent) -> bool:
    """Whether ``after`` is ``before`` still being typed (or backspaced)."""
    if after.at - before.at > REFINE_SECONDS:
        return False
    old, new = before.normalised, after.normalised
    return new.startswith(old) or old.startswith(new)
