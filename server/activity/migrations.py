"""The activity store's schema, as numbered migrations the service applies itself.

Each migration runs once per store, in order, and the store remembers which ran
(``schema_migrations``). All of them run in one transaction under the ``schema`` lock, so
replicas and workers that start together apply each exactly once: the first to take the
lock migrates, the others find the work done. The SQL is written to mean the same on SQLite
and PostgreSQL; the files made before migrations existed were created with the statements
of migration 1 (``IF NOT EXISTS``), so they pick up from there.

Add a migration at the end, never edit one that has shipped: stores in use have run it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .database import Connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    purpose: str
    statements: tuple[str, ...] = ()
    step: Callable[[Connection], None] | None = None  # what SQL alone cannot say; runs first


def _add_feedback_client(connection: Connection) -> None:
    # SQLite has no ADD COLUMN IF NOT EXISTS, and files made by the first releases of the
    # feedback limit have the column already
    if not connection.has_column("feedback", "client"):
        connection.execute("ALTER TABLE feedback ADD COLUMN client TEXT NOT NULL DEFAULT ''")


MIGRATIONS = (
    Migration(
        1,
        "searches, result clicks and article feedback",
        (
            """CREATE TABLE IF NOT EXISTS searches (
                id TEXT PRIMARY KEY,          -- carried by result links: clicks find it
                at DOUBLE PRECISION NOT NULL, -- unix time
                visitor TEXT NOT NULL,        -- anonymous per-browser id, never a name
                role TEXT NOT NULL,
                source TEXT NOT NULL,         -- page, help (tier-1 page), api, suggest
                query TEXT NOT NULL,
                normalised TEXT NOT NULL,     -- lowercase, single spaces: reports group by
                total INTEGER NOT NULL,
                shown TEXT NOT NULL           -- JSON array of the ids on the first page
            )""",
            "CREATE INDEX IF NOT EXISTS searches_at ON searches (at)",
            """CREATE TABLE IF NOT EXISTS clicks (
                search_id TEXT NOT NULL,
                article_id TEXT NOT NULL,
                rank INTEGER NOT NULL,
                at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (search_id, article_id)
            )""",
            "CREATE INDEX IF NOT EXISTS clicks_at ON clicks (at)",
            """CREATE TABLE IF NOT EXISTS feedback (
                article_id TEXT NOT NULL,
                voter TEXT NOT NULL,
                helpful INTEGER NOT NULL,     -- 1 yes, 0 no
                comment TEXT NOT NULL DEFAULT '',
                at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (article_id, voter)
            )""",
            "CREATE INDEX IF NOT EXISTS feedback_at ON feedback (at)",
        ),
    ),
    Migration(
        2,
        "feedback keeps a keyed hash of the client's address, for the hourly limit",
        ("CREATE INDEX IF NOT EXISTS feedback_client ON feedback (client, at)",),
        step=_add_feedback_client,
    ),
    Migration(
        3,
        "browser sign-ins, and failed sign-ins with ids of their own (the failures kept "
        "before it, which count for a minute only, are dropped)",
        (
            """CREATE TABLE IF NOT EXISTS signins (
                id TEXT PRIMARY KEY,          -- sha256 of the random id in the cookie
                token TEXT NOT NULL,          -- HMAC of the token under the app's key
                started DOUBLE PRECISION NOT NULL,
                seen DOUBLE PRECISION NOT NULL
            )""",
            "DROP TABLE IF EXISTS failed_signins",
            """CREATE TABLE failed_signins (
                id TEXT PRIMARY KEY,
                client TEXT NOT NULL,         -- keyed hash of the client's address
                at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX failed_signins_client ON failed_signins (client, at)",
            "CREATE INDEX failed_signins_at ON failed_signins (at)",
        ),
    ),
    Migration(
        4,
        "a visitor's searches by time, to fold search-as-you-type in the store itself "
        "(so keystrokes answered by different replicas fold too)",
        ("CREATE INDEX IF NOT EXISTS searches_visitor ON searches (visitor, source, at)",),
    ),
)
LATEST = MIGRATIONS[-1].version


def migrate(connection: Connection, where: str) -> list[int]:
    """Apply the migrations this store has not run; the versions applied."""
    # a migration's step runs before its statements: migration 2 adds the column that its
    # index is made on
    with connection.transaction("schema"):
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "purpose TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
        )
        done = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            if migration.step is not None:
                migration.step(connection)
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (migration.version, migration.purpose, time.time()),
            )
            applied.append(migration.version)
    if applied:
        log.info("activity store %s: applied migrations %s", where, applied)
    newer = max(done, default=0)
    if newer > LATEST:
        log.warning(
            "activity store %s was migrated by a newer kb-search (version %d; this one knows "
            "up to %d): upgrade this replica",
            where,
            newer,
            LATEST,
        )
    return applied
