"""Browser sign-ins, kept on the server: the session cookie holds only a random id.

So a session ends for every copy of its cookie, in every worker, process and replica
sharing the activity database (server/activity/: a SQLite file, or PostgreSQL), when the
reader signs out, when it has been idle for ``idle_seconds``, and ``lifetime_seconds``
after sign-in however busy it is. The row holds a hash of the id (the database signs
nobody in) and an HMAC of the token under the app's key (it reveals no token), which
auth.py matches against the configured tokens on every request, so a token taken out of
the configuration signs its sessions out too.

Failed sign-ins are counted here as well, per client address and in the same database, so
the limit holds across workers and replicas: a token cannot be guessed at speed, and a
client that keeps trying only delays itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .activity import Database, DatabaseError
from .activity.database import Connection

log = logging.getLogger(__name__)

# A working day: sign in once a shift, and a copied cookie is good for a shift at most.
LIFETIME_SECONDS = 12 * 3600
# Long enough for a meeting or lunch away from the desk; a browser left open on a shared PC
# overnight is signed out.
IDLE_SECONDS = 2 * 3600
SEEN_EVERY_SECONDS = 60  # a session in use is marked as such at most once a minute (a write)
FAILED_PER_MINUTE = 10  # a person mistyping a pasted token needs far fewer
MINUTE = 60.0


class SignInsUnavailable(Exception):
    """The activity database cannot be read or written: nobody can be signed in by cookie."""


class SignInLimited(Exception):
    """Too many failed sign-ins from this client in the last minute."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"try again in {retry_after} s")
        self.retry_after = retry_after


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SignIns:
    """The live sessions, in the activity database."""

    def __init__(
        self,
        database: Database,
        lifetime_seconds: float = LIFETIME_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.database = database
        self.lifetime_seconds = lifetime_seconds
        self.idle_seconds = idle_seconds
        if database.problem:
            log.warning("%s; browsers cannot sign in (API tokens still work)", database.problem)

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

    def charge(self, client: str) -> str:
        """Count a sign-in attempt against ``client`` before its token is checked, so
        guesses sent in parallel cannot overtake the count; the attempt's id, for
        :meth:`forgive` if the token is right. Raises :class:`SignInLimited`."""
        attempt = secrets.token_hex(8)
        with self._connection() as connection:
            self._refuse_if_limited(connection, client)  # reads only: a flood takes no lock
            with connection.transaction("signins"):
                self._refuse_if_limited(connection, client)
                now = time.time()
                connection.execute("DELETE FROM failed_signins WHERE at <= ?", (now - MINUTE,))
                connection.execute(
                    "INSERT INTO failed_signins VALUES (?, ?, ?)", (attempt, client, now)
                )
        return attempt

    def forgive(self, attempt: str) -> None:
        """The token was right: the attempt was no failure."""
        with self._connection() as connection:
            connection.execute("DELETE FROM failed_signins WHERE id = ?", (attempt,))

    @staticmethod
    def _refuse_if_limited(connection: Connection, client: str) -> None:
        now = time.time()
        recent = connection.execute(
            "SELECT at FROM failed_signins WHERE client = ? AND at > ? ORDER BY at DESC LIMIT ?",
            (client, now - MINUTE, FAILED_PER_MINUTE),
        ).fetchall()
        if len(recent) >= FAILED_PER_MINUTE:  # the oldest of them leaves the minute first
            raise SignInLimited(max(1, math.ceil(recent[-1][0] + MINUTE - now)))

    def end(self, session_id: str) -> None:
        """Sign out: the session stops working for every copy of its cookie."""
        with self._connection() as connection:
            connection.execute("DELETE FROM signins WHERE id = ?", (_key(session_id),))

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        try:
            with self.database.connect() as connection:
                yield connection
        except DatabaseError as exc:
            raise SignInsUnavailable(f"sign-in store: {exc}") from exc
