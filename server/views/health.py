"""Liveness and freshness for load balancers and monitoring.

/healthz answers 200 while an index is served and it keeps up with the working tree. It
answers 503 when there is no index to serve yet, when the indexing thread has died, or when
a change has waited longer than ``health_max_lag`` seconds to be indexed (a stuck or failing
indexer: the body says why). Readers keep searching the last good index in every case.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from indexer import IndexUnavailable

from ..auth import current_principal
from ..services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    found = services()
    watcher = found.watcher
    answer: dict[str, Any] = {
        "status": "ok",
        "pending": watcher.pending if watcher else 0,
        "lag_seconds": round(watcher.lag, 1) if watcher else None,
        "problems": len(found.indexer.problems) if found.indexer else 0,
    }
    try:
        stats = found.kb.stats(current_principal().audiences)
    except IndexUnavailable:
        if watcher:
            watcher.request_reconcile()  # builds one if the index is missing or damaged
        answer |= {"status": "unavailable", "message": "no index can be served yet"}
        return jsonify(answer), 503
    answer |= {"documents": stats["documents"], "last_indexed": stats["last_indexed"]}
    max_lag = current_app.config["KB"].health_max_lag
    if watcher and not watcher.alive:
        answer |= {"status": "not indexing", "message": "the indexing thread has stopped"}
    elif watcher and watcher.lag > max_lag:
        why = f": {watcher.last_error}" if watcher.last_error else ""
        answer |= {"status": "behind",
                   "message": f"a change has waited {watcher.lag:.0f} s to be indexed{why}"}  # fmt: skip
    return jsonify(answer), 200 if answer["status"] == "ok" else 503
