"""gunicorn settings for the production layout (README, "Production layout")::

    gunicorn -c python:server.gunicorn_conf server.wsgi:app   # readers: several processes
    kb watch                                                  # the one process writing the index

The address, the number of worker processes and their threads come from the kb settings
(kb.toml, ``KB_*`` variables), like everything else. Workers are ``gthread``: the app is
built for threads (each keeps its own searcher) and they keep a browser's connection alive.
With ``PROMETHEUS_MULTIPROC_DIR`` set, /metrics adds up every worker's figures (see
server/metrics.py); the hooks below keep that folder right.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from server.config import SERVE_PID_ENV, ConfigError, load_config
from server.limits import allow_open_files, open_files_needed
from server.metrics import MULTIPROCESS_DIR

try:
    _config = load_config()
except ConfigError as exc:
    raise SystemExit(str(exc)) from None

_host = f"[{_config.host}]" if ":" in _config.host else _config.host
bind = [f"{_host}:{_config.port}"]
workers = _config.workers
threads = _config.threads
worker_class = "gthread"
# as waitress's channel_timeout: gunicorn's own 2 s closed connections clients were about to
# reuse, and a client sending on one that was just closed gets no answer at all
keepalive = _config.idle_timeout
proc_name = "kb-search"
accesslog = None  # the app logs every request itself, with its worker's pid (server/logs.py)
forwarded_allow_ips = ""  # gunicorn believes no forwarding headers: the app decides (clients.py)
control_socket_disable = True  # unused; its default path, in $HOME, would be every instance's


def on_starting(server: Any) -> None:
    """Raise the open-file limit the workers inherit (server/limits.py), and start from
    empty figures: files left by an earlier run would be counted again. Started by
    `kb serve`, stop when it has gone, however it went (kill -9, the OOM killer): workers
    without the process that writes the index would go on serving it stale, and hold the
    port a restarted `kb serve` needs."""
    parent = os.environ.get(SERVE_PID_ENV)
    if parent:
        threading.Thread(target=_stop_without, args=(int(parent),), daemon=True).start()
    allow_open_files(open_files_needed(_config))
    folder = os.environ.get(MULTIPROCESS_DIR)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def _stop_without(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)  # gunicorn's graceful stop


def child_exit(server: Any, worker: Any) -> None:
    """A worker has gone: drop its live gauges (its counts stay in the totals)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(worker.pid)


def worker_exit(server: Any, worker: Any) -> None:
    """A worker is stopping (SIGTERM once its requests in flight are answered; SIGINT, SIGQUIT,
    max_requests): it writes the searches and clicks it queued before the process exits
    (bounded: server/activity.py, SHUTDOWN_SECONDS)."""
    app = getattr(worker, "wsgi", None)  # None if the app never loaded
    if app is not None:
        app.extensions["kb"].close()
