"""Browser sign-ins, kept on the server: the session cookie holds only a random id.

So a session ends for every copy of its cookie, in every worker and process sharing the
activity file (SQLite in WAL mode), when the reader signs out, when it has been idle for
``idle_seconds``, and ``lifetime_seconds`` after sign-in however busy it is. The row holds
a hash of the id (the file signs nobody in) and an HMAC of the token under the app's key
(the file reveals no token), which auth.py matches against the configured tokens on every
request, so a token taken out of the configuration signs its sessions out too.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from .activity import connect

log = logging.getLogger(__name__)

# A working day: sign in once a shift, and a copied cookie is good for a shift at most.
LIFETIME_SECONDS = 12 * 3600
# Long enough for a meeting or lunch away from the desk; a browser left open on a shared PC
# overnight is signed out.
IDLE_SECONDS = 2 * 3600
SEEN_EVERY_SECONDS = 60  # a session in use is marked as such at most once a minute (a write)

SCHEMA = """
CREATE TABLE IF NOT EXISTS signins (
    id TEXT PRIMARY KEY,          -- sha256 of the random id in the browser's cookie
    token TEXT NOT NULL,          -- HMAC of the token under the app's key, never the token
    started REAL NOT NULL,        -- unix time
    seen REAL NOT NULL
);
"""


class SignInsUnavailable(Exception):
    """The activity file cannot be read or written: nobody can be signed in by cookie."""


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SignIns:
    """The live sessions, in the activity file."""

    def __init__(self, path: Path, lifetime_seconds: float = LIFETIME_SECONDS,
                 idle_seconds: float = IDLE_SECONDS) -> None:  # fmt: skip
        self.path = Path(path)
        self.lifetime_seconds = lifetime_seconds
        self.idle_seconds = idle_seconds
        self.problem: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(connect(self.path)) as connection:
                connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            self.problem = f"sign-in store {self.path} cannot be written: {exc}"
            log.warning("%s; browsers cannot sign in (API tokens still work)", self.problem)

    def start(self, token_mac: str) -> str:
        """A new session for the token with that HMAC; the id for the browser's cookie.
        Sessions that have ended are deleted on the way."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        with self._connection() as connection:
            connection.execute(
                "DELETE FROM signins WHERE started <= ? OR seen <= ?",
                (now - self.lifetime_seconds, now - self.idle_seconds),
            )
            connection.execute(
                "INSERT INTO signins VALUES (?, ?, ?, ?)", (_key(session_id), token_mac, now, now)
            )
        return session_id

    def token_of(self, session_id: str) -> str | None:
        """The token HMAC of a live session, or None if it has ended (or never was)."""
        now = time.time()
        with self._connection() as connection:
            row = connection.execute(
                "SELECT token, started, seen FROM signins WHERE id = ?", (_key(session_id),)
            ).fetchone()
            if row is None:
                return None
            token_mac, started, seen = row
            if now - started >= self.lifetime_seconds or now - seen >= self.idle_seconds:
                return None
            if now - seen >= SEEN_EVERY_SECONDS:
                connection.execute(
                    "UPDATE signins SET seen = ? WHERE id = ?", (now, _key(session_id))
                )
        return token_mac

    def end(self, session_id: str) -> None:
        """Sign out: the session stops working for every copy of its cookie."""
        with self._connection() as connection:
            connection.execute("DELETE FROM signins WHERE id = ?", (_key(session_id),))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self.problem:
            raise SignInsUnavailable(self.problem)
        try:
            with closing(connect(self.path)) as connection:
                yield connection
        except sqlite3.Error as exc:
            raise SignInsUnavailable(f"sign-in store {self.path}: {exc}") from exc
