"""HTTP errors and the one place that turns any exception into a response.

API paths (``/api/...`` and ``/healthz``) always answer JSON in one shape,
``{"error": {"status": 404, "message": "..."}}``; pages answer the error template.
Unexpected exceptions are logged with a traceback and shown as a plain 500, never a trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from indexer import IndexUnavailable, SearchRequestError

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class TooManyRequests(ApiError):
    status = 429


class Unavailable(ApiError):
    status = 503


def wants_json() -> bool:
    """Machine endpoints answer errors as JSON (and are never sent to a sign-in page)."""
    return request.path.startswith("/api/") or request.path in ("/healthz", "/metrics")


def error_response(status: int, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> ResponseReturnValue:
        return error_response(error.status, error.message)

    @app.errorhandler(SearchRequestError)
    def handle_bad_search(error: SearchRequestError) -> ResponseReturnValue:
        return error_response(400, str(error))

    @app.errorhandler(IndexUnavailable)
    def handle_no_index(error: IndexUnavailable) -> ResponseReturnValue:
        log.warning("index unavailable: %s", error)
        watcher = app.extensions["kb"].watcher
        if watcher is not None:
            watcher.request_reconcile()  # rebuilds a missing or damaged index
        response, status = error_response(
            503, "The search index is not available yet; try again shortly."
        )
        return response, status, {"Retry-After": "5"}

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> ResponseReturnValue:
        return error_response(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Something went wrong on our side; it has been logged.")
