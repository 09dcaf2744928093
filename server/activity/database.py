"""The one database behind the activity store and the sign-ins: a SQLite file or PostgreSQL.

Why a layer of our own: the stores' SQL is written once, with ``?`` placeholders and the few
fragments where the two dialects differ (:class:`Dialect`), and every driver's error reaches
callers as :class:`DatabaseError`, or :class:`DatabaseDown` when the database cannot be
reached at all, so that the event writer keeps its events for later instead of dropping
them. SQLite opens a connection per use (cheap; WAL lets processes share the file).
PostgreSQL keeps a pool per process, made on first use, so each forked gunicorn worker has
its own.

A request never waits on a database that is not there: once a call finds it down, calls
made for a request (``wait=False``) fail at once, and the pages answer without what it
holds, until a connection succeeds again: the writer's retries, or a probe in the
background at most every PROBE_SECONDS. Statements made for a request are cancelled after
REQUEST_STATEMENT_SECONDS, so a slow database costs a request little. The writer
thread passes ``wait=True``: it waits longer, and retries on its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool

log = logging.getLogger(__name__)

PROBE_SECONDS = 2.0  # while down, how often a background probe tries to connect
CONNECT_SECONDS = 2  # libpq's connect_timeout (its minimum)
REQUEST_WAIT_SECONDS = 0.5  # longest a request waits for a pooled connection
WRITER_WAIT_SECONDS = 5.0
REQUEST_STATEMENT_SECONDS = 1  # PostgreSQL cancels a request's statement running longer
WRITER_STATEMENT_SECONDS = 30  # and the writer's and exports' (migrations have no limit)
POOL_SIZE = 8  # connections per process at most: the writer, feedback, sign-ins, reports


class DatabaseError(Exception):
    """A statement failed, or the store cannot be used (its message says which)."""


class DatabaseDown(DatabaseError):
    """The database cannot be reached now (not running, refusing connections, locked)."""


@dataclass(frozen=True)
class Dialect:
    """The SQL that differs between SQLite and PostgreSQL, as templates."""

    day_template: str  # the UTC date (YYYY-MM-DD) of a unix time
    elements_template: str  # a FROM item: the strings of a JSON array, as <alias>.value
    joined_template: str  # an aggregate joining strings with a separator

    def day(self, column: str) -> str:
        return self.day_template.format(column=column)

    def elements(self, column: str, alias: str) -> str:
        return self.elements_template.format(column=column, alias=alias)

    def joined(self, expression: str, separator: str) -> str:
        return self.joined_template.format(expression=expression, separator=separator)


SQLITE = Dialect(
    day_template="date({column}, 'unixepoch')",
    elements_template="json_each({column}) AS {alias}",
    joined_template="group_concat({expression}, '{separator}')",
)
POSTGRESQL = Dialect(
    day_template="to_char(to_timestamp({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    elements_template="json_array_elements_text({column}::json) AS {alias}(value)",
    joined_template="string_agg({expression}, '{separator}')",
)


def _lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key (signed 64 bits) for a named critical section."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Connection:
    """One connection: statements with ``?`` placeholders, and transactions that serialise
    writers (``lock`` names what they guard; every process and replica takes the same)."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        if self.dialect is POSTGRESQL:
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The cursor: ``fetchone()``, ``fetchall()`` and iteration work on either driver."""
        with _translated_errors():
            return self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with _translated_errors():
            if self.dialect is POSTGRESQL:
                with self.raw.cursor() as cursor:
                    cursor.executemany(self._sql(sql), rows)
            else:
                self.raw.executemany(sql, rows)

    def has_column(self, table: str, column: str) -> bool:
        if self.dialect is POSTGRESQL:
            found = self.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = ? AND column_name = ?",
                (table, column),
            ).fetchone()
            return found is not None
        return any(row[1] == column for row in self.execute(f"PRAGMA table_info({table})"))

    @contextmanager
    def transaction(self, lock: str) -> Iterator[None]:
        """Statements that commit together, one writer at a time per ``lock``: SQLite's
        BEGIN IMMEDIATE takes the file's one write lock; PostgreSQL takes an advisory lock
        that every replica's processes share, held until the transaction ends."""
        if self.dialect is POSTGRESQL:
            with _translated_errors(), self.raw.transaction():
                self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(lock),))
                yield
            return
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.execute("COMMIT")


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout) as exc:
        raise DatabaseDown(str(exc).strip() or type(exc).__name__) from exc
    except sqlite3.OperationalError as exc:
        message = str(exc)
        down = "locked" in message or "unable to open" in message or "disk I/O" in message
        raise (DatabaseDown if down else DatabaseError)(message) from exc
    except (psycopg.Error, sqlite3.Error) as exc:
        raise DatabaseError(str(exc).strip()) from exc


def is_postgresql(location: str | os.PathLike[str]) -> bool:
    """Whether an activity_db setting names a PostgreSQL database (else a SQLite file)."""
    return str(location).startswith(("postgresql://", "postgres://"))


class Database:
    """Where the activity is kept: ``location`` is a SQLite file's path or a
    ``postgresql://`` URL. ``problem`` is set, for good, when a SQLite file cannot be made."""

    def __init__(self, location: str | os.PathLike[str]) -> None:
        text = str(location)
        self.is_postgresql = is_postgresql(text)
        self.dialect = POSTGRESQL if self.is_postgresql else SQLITE
        self.location = text  # a path, or a URL with its password: never shown
        self.path = None if self.is_postgresql else Path(text).expanduser()
        self.problem: str | None = None
        self._down = False
        self._probed = 0.0
        self._probe_lock = threading.Lock()
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()
        self._timeouts: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self._migrated = False
        self._migrate_lock = threading.Lock()
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with closing(self._sqlite()):
                    pass
            except (OSError, sqlite3.Error) as exc:
                self.problem = f"{self.where} cannot be written: {exc}"

    @property
    def where(self) -> str:
        """The store, for messages and logs: a URL's password is never shown."""
        if self.path is not None:
            return str(self.path)
        parts = urllib.parse.urlsplit(self.location)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"

    def _sqlite(self) -> sqlite3.Connection:
        assert self.path is not None
        connection = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def _postgresql(self) -> psycopg_pool.ConnectionPool:
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():  # new, or forked
                self._pool = psycopg_pool.ConnectionPool(
                    self.location,
                    min_size=1,
                    max_size=POOL_SIZE,
                    open=False,
                    timeout=WRITER_WAIT_SECONDS,
                    check=psycopg_pool.ConnectionPool.check_connection,
                    kwargs={
                        "autocommit": True,
                        "connect_timeout": CONNECT_SECONDS,
                        "application_name": "kb-search",
                    },
                    name="kb-activity",
                )
                self._pool.open(wait=False)
                self._pool_pid = os.getpid()
            return self._pool

    @contextmanager
    def connect(
        self, wait: bool = False, statement_seconds: float | None = None
    ) -> Iterator[Connection]:
        """A connection with the schema in place. ``wait=False`` (a request is waiting):
        fail at once while the database is known to be down, and wait little for it.
        ``statement_seconds``: how long a statement may run on PostgreSQL, if not the
        default for a request or the writer."""
        if self.problem:
            raise DatabaseError(self.problem)
        if not wait and self._down:
            self._probe_soon()
            raise DatabaseDown(f"{self.where} is not answering")
        try:
            with self._raw(wait) as raw:
                connection = Connection(raw, self.dialect)
                if not self._migrated:
                    self._migrate(connection)
                if self.is_postgresql:
                    seconds = statement_seconds or (
                        WRITER_STATEMENT_SECONDS if wait else REQUEST_STATEMENT_SECONDS
                    )
                    # a round trip only when this pooled connection has another limit
                    if self._timeouts.get(raw) != seconds:
                        connection.execute(
                            "SELECT set_config('statement_timeout', ?, false)", (f"{seconds}s",)
                        )
                        self._timeouts[raw] = seconds
                self._down = False  # it answers (again)
                yield connection
        except DatabaseDown:
            self._down = True
            raise

    def _probe_soon(self) -> None:
        """Try to connect in the background, so that a request learns the database is
        back without waiting for it to answer."""
        with self._probe_lock:
            if time.monotonic() - self._probed < PROBE_SECONDS:
                return
            self._probed = time.monotonic()
        threading.Thread(target=self._probe, name="activity-probe", daemon=True).start()

    def _probe(self) -> None:
        try:
            with self.connect(wait=True):
                pass
        except DatabaseError:
            pass  # still down: the next request's probe tries again

    def _raw(self, wait: bool) -> AbstractContextManager[Any]:
        if self.is_postgresql:
            timeout = WRITER_WAIT_SECONDS if wait else REQUEST_WAIT_SECONDS
            return _pooled(self._postgresql(), timeout)
        with _translated_errors():
            return closing(self._sqlite())

    def _migrate(self, connection: Connection) -> None:
        from .migrations import migrate  # the migrations use this module's Connection

        with self._migrate_lock:
            if not self._migrated:
                migrate(connection, self.where)
                self._migrated = True

    def close(self) -> None:
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close(timeout=1.0)
        self._pool = None


@contextmanager
def _pooled(pool: psycopg_pool.ConnectionPool, timeout: float) -> Iterator[Any]:
    with _translated_errors(), pool.connection(timeout=timeout) as raw:
        yield raw
