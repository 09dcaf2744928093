"""Measuring helpers the benchmarks share: memory from /proc, percentiles, keep-alive HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import statistics
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path


def _proc_kilobytes(path: str, label: str) -> int:
    """Bytes of the ``label:`` line (in kB) of a /proc file; 0 once the process has gone
    (a worker may exit between two reads)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(label + ":"):
            return int(line.split()[1]) * 1024
    return 0


def rss_bytes(pid: int) -> int:
    """VmRSS of one process; 0 once it has gone."""
    return _proc_kilobytes(f"/proc/{pid}/status", "VmRSS")


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError):  # the task ended meanwhile
            found += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
    return found


def descendants(pid: int) -> list[int]:
    """Every process started by ``pid``, and by those, and so on (as they are now)."""
    found: list[int] = []
    pending = _children(pid)
    while pending:
        current = pending.pop()
        if current not in found:
            found.append(current)
            pending += _children(current)
    return found


def pss_bytes(pid: int) -> int:
    """Proportional set size of one process: pages shared with other processes (the
    memory-mapped index that every worker reads) count a share each, so adding up a process
    tree counts each page once; 0 once it has gone."""
    return _proc_kilobytes(f"/proc/{pid}/smaps_rollup", "Pss")


def tree_bytes(pid: int, measure: Callable[[int], int]) -> int:
    """``measure`` summed over a process and all its descendants: a build's spawned workers
    and a server's worker processes hold their own memory, which the parent's does not show."""
    return sum(measure(current) for current in [pid, *descendants(pid)])


def tree_rss_bytes(pid: int) -> int:
    """VmRSS summed over a process tree (a build's peak)."""
    return tree_bytes(pid, rss_bytes)


def server_bytes(pid: int) -> int:
    """The memory of a server: the PSS of its processes added up (one process for
    ``kb serve`` and the peers; with ``--workers``, this one, gunicorn's master and its
    workers)."""
    return tree_bytes(pid, pss_bytes)


class PeakRss:
    """Samples a memory figure of ``pid`` in a thread every ``interval`` s and keeps the
    highest; a context manager. Sampling rather than reading once: the peak of a build
    comes and goes between its start and its end."""

    def __init__(
        self, pid: int, measure: Callable[[int], int] = tree_rss_bytes, interval: float = 0.2
    ) -> None:
        self.pid = pid
        self.measure = measure
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.measure(self.pid))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def dir_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (or of ``path`` itself if it is a file)."""
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def percentiles(times: list[float], digits: int = 1) -> dict[str, float]:
    """p50/p95/p99 of ``times`` (seconds) in milliseconds; empty with fewer than two."""
    if len(times) < 2:
        return {}
    cuts = statistics.quantiles(times, n=100)
    return {
        name: round(cuts[cut] * 1000, digits)
        for name, cut in (("p50", 49), ("p95", 94), ("p99", 98))
    }


class KeepAlive:
    """One persistent HTTP/1.1 connection, as an API client or a browser holds one.

    After a failure the connection is closed and the next request opens a new one."""

    def __init__(
        self, url: str, headers: dict[str, str] | None = None, timeout: float = 30
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        self.headers = headers or {}
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def get(self, path: str) -> tuple[int, bytes]:
        """Status and body; raises OSError or http.client.HTTPException when it fails."""
        return self.request("GET", path)

    def post_json(self, path: str, data: object) -> tuple[int, bytes]:
        """:meth:`get`'s answer to a JSON POST."""
        headers = {"Content-Type": "application/json"}
        return self.request("POST", path, json.dumps(data).encode(), headers)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        try:
            self.connection.request(method, path, body, headers=self.headers | (headers or {}))
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise

    def close(self) -> None:
        self.connection.close()
