"""Errors the indexer raises, worded for the person who has to act on them."""

from __future__ import annotations

import datetime as dt


class ArticleError(Exception):
    """An article file that cannot be indexed; names the file and the line to fix."""

    def __init__(self, path: str, message: str, line: int | None = None, since: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        # when the problem was first found (ISO 8601, UTC): authors ask "since when?"
        self.since = since or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def __reduce__(self) -> tuple[type, tuple[str, str, int | None, str]]:
        """Full builds collect errors from worker processes, so they must pickle."""
        return ArticleError, (self.path, self.message, self.line, self.since)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "message": self.message, "since": self.since}


class IndexUnavailable(Exception):
    """No usable index exists yet (first build still running, or the index directory is gone)."""


class SearchRequestError(ValueError):
    """A search parameter is out of range; the message says which and why."""
