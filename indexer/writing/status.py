"""The writer's state, published beside the index for reader processes.

In the production layout one process writes the index (``kb watch``) and several gunicorn
workers read it. Only the writer knows how far behind the working tree it is, why its last
write failed and which files could not be indexed, yet load balancers ask the workers
(``/healthz``) and authors look at ``/problems`` on any of them. So the watcher writes this
small JSON file once a second and after every batch, and readers take it from there. A
writer that stops cleanly removes the file; one whose heartbeat stops has crashed or hung.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArticleError

STATUS_FILE = "writer-status.json"
HEARTBEAT_SECONDS = 1.0


@dataclass(frozen=True)
class WriterStatus:
    pid: int
    heartbeat: float  # time.time() of the last report
    alive: bool  # the indexing thread is running
    pending: int
    lag_seconds: float
    last_error: str = ""
    problems: list[dict[str, Any]] = field(default_factory=list)  # ArticleError.as_dict()
    busy_seconds: float = 0.0  # how long batches have been written without a pause; 0 if idle

    @property
    def silent_for(self) -> float:
        """Seconds since the writer last reported (a stopped writer stops reporting)."""
        return max(0.0, time.time() - self.heartbeat)

    def problem_errors(self) -> list[ArticleError]:
        return [
            ArticleError(p["path"], p["message"], p.get("line"), p.get("since", ""))
            for p in self.problems
        ]


def write_status(index_dir: Path, status: WriterStatus) -> None:
    """Replace the status file atomically: readers never see half of one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{STATUS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(status)))
    os.replace(tmp, index_dir / STATUS_FILE)


def remove_status(index_dir: Path, pid: int) -> None:
    """Withdraw the status of writer ``pid`` (a clean stop), unless another writer took over."""
    found = read_status(index_dir)
    if found is not None and found.pid == pid:
        (index_dir / STATUS_FILE).unlink(missing_ok=True)


def read_status(index_dir: Path) -> WriterStatus | None:
    """The last status a writer published, or None if no writer ever ran here."""
    try:
        data = json.loads((index_dir / STATUS_FILE).read_text())
        return WriterStatus(**data)
    except (OSError, ValueError, TypeError):
        return None
