"""Structured logs: every record may carry ``fields`` (a dict), written as key=value pairs
in text mode or as members of one JSON object per line in json mode.

Request logs (one per request, see :func:`init_app`) carry a request id that is also sent
back in the ``X-Request-ID`` header, so a user's report can be matched with the log line.
Nothing secret is logged: no Authorization header, no cookie, no query text. Each request
line names the process (``pid``), which tells gunicorn's workers apart.

Paths, file names and error messages come from users and authors, so nothing they write may
start a line that reads like a record of its own: the formatter escapes every value (see
:func:`escape`), whoever logged it (this app, the indexer, waitress).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Sequence

from flask import Flask, Response, g, request

from .auth import current_principal
from .clients import client_address

REQUEST_LOG = logging.getLogger("kb.request")
RequestObserver = Callable[[str, str, int, float], None]
"""Called as (method, route, status, seconds) after each request."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a caller's id is kept only if plain


CONTINUATION = "  | "
"""Starts each line of a traceback, so only a record's own first line starts with a date."""
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """``text`` as printable characters on one line: a backslash is doubled, and every character
    Python does not print (line breaks of every kind, the other C0 and C1 controls, format
    characters such as bidi overrides, lone surrogates) is written as its escape (``\\n``,
    ``\\x1b``, ``\\u2028``). So a logged value can neither start a forged record nor hide
    text, and the original is recoverable."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(char if char.isprintable() and char != "\\" else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class StructuredFormatter(logging.Formatter):
    """One record per line: text with the message and values escaped, or one JSON object."""

    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        when = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        message = record.getMessage()
        if self.as_json:
            entry = {
                "ts": when,
                "level": record.levelname,
                "logger": record.name,
                "message": message,
                **fields,
            }
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            # JSON escapes every control character; ensure_ascii also U+2028, U+2029 and the
            # rest beyond ASCII, which some readers take for line breaks
            return json.dumps(entry, default=str, ensure_ascii=True)
        pairs = " ".join(f"{key}={_quoted(value)}" for key, value in fields.items())
        line = f"{when} {record.levelname} {record.name}: {escape(message)}" + (
            f" {pairs}" if pairs else ""
        )
        if record.exc_info:
            trace = self.formatException(record.exc_info).split("\n")
            line += "".join(f"\n{CONTINUATION}{escape(part)}" for part in trace)
        return line


def _quoted(value: object) -> str:
    """A field's value, escaped, and in double quotes if it is empty or holds a separator."""
    text = escape(str(value))
    if text and not any(separator in text for separator in ' "='):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def configure(level: str, log_format: str) -> None:
    """Send every log record to stderr in the chosen format (called once by the CLI)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(StructuredFormatter(as_json=log_format == "json"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" noise


def init_app(app: Flask, on_finished: Sequence[RequestObserver] = ()) -> None:
    """Time and log every request, give each one an id, and tell ``on_finished`` (metrics)."""

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex[:16]

    @app.after_request
    def log_request(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else "unmatched"
        response.headers["X-Request-ID"] = g.get("request_id", "")
        for observe in on_finished:
            observe(request.method, route, response.status_code, seconds)
        REQUEST_LOG.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status_code,
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status_code,
                    "ms": round(seconds * 1000, 1),
                    "bytes": response.calculate_content_length() or 0,
                    "role": current_principal().role,
                    "request_id": g.get("request_id", ""),
                    "remote": client_address(),
                    "query_chars": len(request.query_string),
                    "pid": os.getpid(),
                }
            },
        )
        return response
