"""The short version of `make bench-load`: 32 clients for 5 s against a real `kb serve` while
an author saves an article every second. Nothing may fail, and every save is found."""

from __future__ import annotations

from pathlib import Path

from benchmarks.load import TOKEN, run_load
from benchmarks.synthetic import generate

from ..conftest import start_server, stop_server
from ..figures import report


def test_32_clients_for_5_seconds_while_an_author_saves(tmp_path: Path) -> None:
    kb = generate(tmp_path / "repo", 300)
    server = start_server(
        kb,
        tmp_path / "index",
        tmp_path / "serve.log",
        KB_LOG_LEVEL="WARNING",
        KB_TOKENS=f"tier2:{TOKEN}",
    )
    server.token = TOKEN
    try:
        result = run_load(server, kb, seconds=5, clients=32)
    finally:
        stop_server(server)
    figures = result.summary()
    report(
        "load (300 articles, 32 clients, 5 s)",
        f"{figures['requests']} requests, {figures['errors']} errors, "
        f"p50 {figures['latency_ms']['p50']} ms, p95 {figures['latency_ms']['p95']} ms, "
        f"RSS {figures['rss_warm_mb']} -> {figures['rss_end_mb']} MB, "
        f"saves searchable {figures['catch_up_s']} s after the run",
    )
    assert result.errors == []
    assert result.requests > 100
    assert result.saves >= 3 and result.saves_found == result.saves
    assert result.rss_end <= 1.2 * result.rss_warm
