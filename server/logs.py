"""Structured logs: every record may carry ``fields`` (a dict), written as key=value pairs
in text mode or as members of one JSON object per line in json mode.

Request logs (one per request, see :func:`init_app`) carry a request id that is also sent
back in the ``X-Request-ID`` header, so a user's report can be matched with the log line.
Nothing secret is logged: no Authorization header, no cookie, no query text. Each request
line names the process (``pid``), which tells gunicorn's workers apart.
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

REQUEST_LOG = logging.getLogger("kb.request")
RequestObserver = Callable[[str, str, int, float], None]
"""Called as (method, route, status, seconds) after each request."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a caller's id is kept only if plain


class StructuredFormatter(logging.Formatter):
    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        when = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        message = record.getMessage()
        if self.as_json:
            entry = {"ts": when, "level": record.levelname, "logger": record.name,
                     "message": message, **fields}  # fmt: skip
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            return json.dumps(entry, default=str)
        pairs = " ".join(f"{key}={_quoted(value)}" for key, value in fields.items())
        line = f"{when} {record.levelname} {record.name}: {message}" + (
            f" {pairs}" if pairs else ""
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quoted(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=\n') else text


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
            "%s %s %d", request.method, request.path, response.status_code,
            extra={"fields": {
                "method": request.method, "path": request.path, "route": route,
                "status": response.status_code, "ms": round(seconds * 1000, 1),
                "bytes": response.calculate_content_length() or 0,
                "role": current_principal().role, "request_id": g.get("request_id", ""),
                "remote": request.remote_addr or "", "query_chars": len(request.query_string),
                "pid": os.getpid(),
            }},
        )  # fmt: skip
        return response
