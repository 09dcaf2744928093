"""Liveness and freshness for load balancers and monitoring.

/healthz answers 200 while an index is served and it keeps up with the working tree. It
answers 503 when there is no index to serve yet, when the indexing thread has died, or when
a change has waited longer than ``health_max_lag`` seconds to be indexed (a stuck or failing
indexer: the body says why), unless the writer is still working through a long batch
(status "indexing", 200: a replica serving its last commit is better than none). Readers keep searching the last good index in every case.
Only callers who may see every article get the figures and the reasons; others (a load
balancer, anonymous readers) get the status and the number of articles they may see.

A gunicorn worker has no watcher of its own: it reports what ``kb watch`` publishes beside
the index (:mod:`indexer.writing.status`), and a writer silent for ``health_max_lag`` seconds counts
as stopped.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from indexer import IndexUnavailable, read_status

from ..auth import current_principal
from ..services import services

bp = Blueprint("health", __name__)


STUCK_FACTOR = 10  # a batch running this many times health_max_lag is stuck, not slow


def _progressing(busy_seconds: float, last_error: str, max_lag: int) -> bool:
    """Whether the writer is in the middle of a batch that has not failed and may still be
    making progress (it has run for less than STUCK_FACTOR x ``max_lag``)."""
    return 0 < busy_seconds < STUCK_FACTOR * max_lag and not last_error


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    found = services()
    config = current_app.config["KB"]
    # this process's own watcher, or the one `kb watch` publishes beside the index
    writer = found.watcher.status() if found.watcher else read_status(config.index_dir)
    answer: dict[str, Any] = {
        "status": "ok",
        "pending": writer.pending if writer else 0,
        "lag_seconds": round(writer.lag_seconds, 1) if writer else None,
        "problems": len(writer.problems) if writer else len(found.problems()),
    }
    try:
        stats = found.kb.stats(current_principal().audiences)
    except IndexUnavailable:
        if found.watcher:
            found.watcher.request_reconcile()  # builds one if the index is missing or damaged
        answer |= {"status": "unavailable", "message": "no index can be served yet"}
        return jsonify(answer), 503
    answer |= {"documents": stats["documents"], "last_indexed": stats["last_indexed"]}
    max_lag = config.health_max_lag
    if writer is None:
        pass  # no writer here or beside the index: nothing can fall behind
    elif writer.silent_for > max_lag:
        answer |= {
            "status": "not indexing",
            "message": f"the index writer (pid {writer.pid}) has not reported for "
            f"{writer.silent_for:.0f} s",
        }
    elif not writer.alive:
        answer |= {"status": "not indexing", "message": "the indexing thread has stopped"}
    elif writer.lag_seconds > max_lag and _progressing(
        writer.busy_seconds, writer.last_error, max_lag
    ):
        # a long batch (a large pull, heavy files) under way: still a good replica, serving
        # its last commit; every replica of a balancer gets the same pull at once
        answer |= {
            "status": "indexing",
            "message": f"writing {writer.pending} changes, for {writer.busy_seconds:.0f} s",
        }
    elif writer.lag_seconds > max_lag:
        why = f": {writer.last_error}" if writer.last_error else ""
        answer |= {
            "status": "behind",
            "message": f"a change has waited {writer.lag_seconds:.0f} s to be indexed{why}",
        }
    code = 200 if answer["status"] in ("ok", "indexing") else 503
    if not current_principal().sees_everything:
        # problems, lag and times move when internal articles are edited or broken, and a
        # writer's last error names a file: a load balancer needs the status, not those
        answer = {"status": answer["status"], "documents": answer["documents"]}
    return jsonify(answer), code
