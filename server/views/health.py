"""Liveness and freshness for load balancers and monitoring."""

from __future__ import annotations

from flask import Blueprint, jsonify

from indexer import IndexUnavailable

from ..services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 with index figures while an index can be served, 503 otherwise."""
    found = services()
    pending = found.watcher.pending if found.watcher else 0
    problems = len(found.indexer.problems) if found.indexer else 0
    try:
        stats = found.kb.stats()
    except IndexUnavailable:
        message = "no index can be served yet"
        return jsonify({"status": "unavailable", "message": message, "pending": pending}), 503
    return jsonify(
        {
            "status": "ok",
            "documents": stats["documents"],
            "pending": pending,
            "last_indexed": stats["last_indexed"],
            "problems": problems,
        }
    )
