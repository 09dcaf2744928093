"""``/metrics`` in the Prometheus text format: requests, latency, errors, and the index.

Request counts and latencies are observed as requests finish (see logs.init_app), and the
activity writer's figures (written, dropped, queued) as it writes; the index
figures (documents, size on disk, how far it trails the working tree, files that fail to
index, failed writes) are read when Prometheus scrapes, so they are never stale. Each app
has its own registry, so several apps in one process (tests) do not mix their figures.

Labels are route patterns such as ``/kb/<path:ref>``, never raw paths: a bounded set.

Under gunicorn each worker is a process with its own counters. With ``PROMETHEUS_MULTIPROC_DIR``
set (prometheus-client's multiprocess mode, see server/gunicorn_conf.py), every worker writes
its figures to files there, and whichever worker answers a scrape adds them all up; the
``process_*`` figures are left out then, since they would describe one worker only. Without
it, nothing changes: one process, one registry.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from indexer import IndexUnavailable

from .activity import WriterReport
from .auth import requires
from .services import Services

bp = Blueprint("metrics", __name__)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own variable
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.08, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IndexCollector(Collector):
    """Index figures, computed at scrape time from the services the app runs with."""

    def __init__(self, found: Services) -> None:
        self.found = found

    def collect(self) -> Iterator[Metric]:
        found = self.found
        try:
            stats = found.kb.stats()
        except IndexUnavailable:
            stats = None
        yield _gauge("kb_index_up", "1 if an index can be served, else 0.", stats is not None)
        if stats is not None:
            yield _gauge("kb_index_documents", "Articles in the served index.", stats["documents"])
            size = _folder_bytes(found.kb.storage.index_dir / stats["generation"])
            yield _gauge("kb_index_size_bytes", "Size of the served index on disk.", size)
        yield _gauge(
            "kb_index_problem_files",
            "Article files that could not be indexed.",
            len(found.problems()),
        )
        if found.watcher is not None:
            watcher = found.watcher
            yield _gauge(
                "kb_index_lag_seconds",
                "How long the oldest change not yet in the index has waited.",
                watcher.lag,
            )
            yield _gauge(
                "kb_index_pending_changes", "Changed files waiting to be indexed.", watcher.pending
            )
            yield _gauge("kb_indexer_up", "1 while the indexing thread runs.", watcher.alive)
            failed = CounterMetricFamily(
                "kb_index_write_failures", "Index writes that failed (each is retried)."
            )
            failed.add_metric([], watcher.writes_failed)
            yield failed


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _folder_bytes(folder: Path) -> int:
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())
    except OSError:
        return 0


class Metrics:
    """The instruments of one app, and the registry a scrape reads (:attr:`exposed`)."""

    def __init__(self, found: Services) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kb_http_requests",
            "HTTP requests answered, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kb_http_request_duration_seconds",
            "Time to answer a request, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "kb_http_server_errors",
            "Requests answered with a 5xx status, by route.",
            ["route"],
            registry=self.registry,
        )
        if found.syncer is not None:
            self.synced = Gauge(
                "kb_sync_last_success_timestamp_seconds",
                "When the git clone was last pulled and indexed (unix time).",
                multiprocess_mode="max",
                registry=self.registry,
            )
            self.sync_failures = Counter(
                "kb_sync_failures", "Pulls of the git clone that failed.", registry=self.registry
            )
            found.syncer.listeners.append(self.observe_sync)
        if found.activity is not None:
            self.activity_written = Counter(
                "kb_activity_events_written",
                "Search and click events written to the activity store.",
                registry=self.registry,
            )
            self.activity_dropped = Counter(
                "kb_activity_events_dropped",
                "Search and click events lost: the queue was full while the store could not "
                "be written, or the store refused them.",
                registry=self.registry,
            )
            self.activity_queued = Gauge(
                "kb_activity_events_queued",
                "Events waiting to be written to the activity store.",
                multiprocess_mode="livesum",
                registry=self.registry,
            )
            self.activity_up = Gauge(
                "kb_activity_store_up",
                "1 if the last write to the activity store succeeded, else 0.",
                multiprocess_mode="livemin",
                registry=self.registry,
            )
            self.activity_up.set(1)
            found.activity.listeners.append(self.observe_activity)
        if os.environ.get(MULTIPROCESS_DIR):
            self.exposed = CollectorRegistry()  # the instruments' files, every worker's
            MultiProcessCollector(self.exposed)
        else:
            self.exposed = self.registry
            ProcessCollector(registry=self.registry)  # memory (RSS), CPU, open files
        self.exposed.register(IndexCollector(found))  # read from the shared index on disk

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status >= 500:
            self.errors.labels(route).inc()

    def observe_activity(self, report: WriterReport) -> None:
        if report.written:
            self.activity_written.inc(report.written)
        if report.dropped:
            self.activity_dropped.inc(report.dropped)
        if report.queued is not None:
            self.activity_queued.set(report.queued)
        if report.up is not None:
            self.activity_up.set(report.up)

    def observe_sync(self, succeeded: bool) -> None:
        if succeeded:
            self.synced.set_to_current_time()
        else:
            self.sync_failures.inc()


def init_app(app: Flask, found: Services) -> Metrics:
    metrics = app.extensions["kb-metrics"] = Metrics(found)
    app.register_blueprint(bp)
    return metrics


@bp.get("/metrics")
@requires("tier2")
def metrics_page() -> Response:
    """Counts and timings only (no titles, queries or ids), but the document count includes
    internal articles: tier 2 and above (Prometheus sends a bearer token)."""
    registry = current_app.extensions["kb-metrics"].exposed
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
