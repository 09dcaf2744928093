"""`kb serve --workers 2`: the production layout of one machine in one command, for real.

Two gunicorn worker processes answer HTTP while the `kb serve` process keeps the index (its
watcher), over a temporary git-backed KB. Requests go over fresh connections, so the kernel
hands them to either worker; the JSON request log names the worker of each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.measure import descendants
from benchmarks.server_process import free_port
from server.activity import Database

from ..conftest import wait_until
from ..fixtures import ARTICLES, TIER2_TOKEN, make_kb_repo, write
from .test_multiprocess import (
    WORKERS,
    Layout,
    answered_by,
    answering,
    found,
    search_path,
    start_logged,
    until_both_workers,
)


@contextmanager
def serving(tmp_path: Path, activity_db: str) -> Iterator[Layout]:
    kb = make_kb_repo(tmp_path / "repo")
    port = free_port()
    env = os.environ | {
        "KB_TOKENS": f"tier2:{TIER2_TOKEN}",
        "KB_ACTIVITY_DB": activity_db,
        "KB_LOG_FORMAT": "json",
        "KB_LOG_LEVEL": "INFO",
        "KB_THREADS": "4",
    }
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "server", "serve", "--kb", str(kb)]
    command += ["--index-dir", str(tmp_path / "index"), "--port", str(port)]
    serve = start_logged([*command, "--workers", str(WORKERS)], env, tmp_path, log)
    try:
        yield answering(Layout(port, serve, serve, log, kb))
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Layout]:
    with serving(tmp_path, str(tmp_path / "activity.sqlite3")) as layout:
        yield layout


def test_every_worker_records_into_one_postgresql_store(
    tmp_path: Path, postgres_url: str, open_database: Callable[[str], Database]
) -> None:
    # queries none of which extends another, so none is folded into the next
    queries = [f"pgworkers{chr(ord('a') + n // 26)}{chr(ord('a') + n % 26)}" for n in range(60)]
    with serving(tmp_path, postgres_url) as layout:
        answers = [layout.get(search_path(query)) for query in queries]  # new connections
        assert all(answer.status == 200 for answer in answers)
        assert len(answered_by(layout, answers)) == WORKERS

        def recorded() -> int:
            with open_database(postgres_url).connect() as connection:
                query = "SELECT count(*) FROM searches WHERE query LIKE 'pgworkers%'"
                return int(connection.execute(query).fetchone()[0])

        assert wait_until(lambda: recorded() == len(queries), timeout=10)


def test_two_workers_answer_and_both_find_an_edit(served: Layout) -> None:
    word = "serveworkersquokka"
    searches = until_both_workers(served, search_path(word))
    assert not any(found(answer, "KB-2002") for answer in searches)

    write(served.kb, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + f"\n{word}\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answers = until_both_workers(served, search_path(word))
        if all(found(answer, "KB-2002") for answer in answers[-4:]):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the workers did not find the edit within 10 s")
    # every worker has it now (the watcher in `kb serve` wrote it; each worker reopened)
    fresh = until_both_workers(served, search_path(word))
    assert all(found(answer, "KB-2002") for answer in fresh)


def test_sigterm_stops_every_process(served: Layout) -> None:
    until_both_workers(served, "/healthz")
    processes = descendants(served.gunicorn.pid)
    assert len(processes) >= 1 + WORKERS  # gunicorn's master and its workers
    served.gunicorn.send_signal(signal.SIGTERM)
    assert served.gunicorn.wait(timeout=30) == 0
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in processes), timeout=10)


def test_gunicorn_stops_when_kb_serve_is_killed(served: Layout) -> None:
    """kill -9 (or the OOM killer) leaves no workers behind serving a stale index on the
    port a restarted kb serve needs."""
    until_both_workers(served, "/healthz")
    processes = descendants(served.gunicorn.pid)
    served.gunicorn.kill()
    served.gunicorn.wait(timeout=10)
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in processes), timeout=30)


def test_a_taken_port_stops_kb_serve_with_an_error(served: Layout, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "server", "serve", "--kb", str(served.kb), "--no-watch"]
    command += ["--index-dir", str(tmp_path / "other-index"), "--port", str(served.port)]
    second = subprocess.run(
        [*command, "--workers", "2"], capture_output=True, timeout=60, cwd=tmp_path
    )
    assert second.returncode != 0
