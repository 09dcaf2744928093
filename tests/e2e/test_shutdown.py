"""A server that is stopped writes every search it answered before it exits (issue 16,
finding 13): `kb serve` on SIGTERM (a supervisor) and SIGINT (Ctrl-C), gunicorn's workers on
the SIGTERM their master passes on; and a database that does not answer delays a stop by
SHUTDOWN_SECONDS at most. Searches are queued and written in batches (server/activity.py),
so before this, a stop lost the batch being gathered."""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from benchmarks.server_process import GUNICORN, Server, free_port

from ..conftest import wait_until

SEARCHES = 150  # about as many as the red-team run recorded (and lost 78 of) at kill -9


def _search(port: int, count: int, keep_alive: bool = True) -> None:
    """``count`` searches, none refining another (so none is folded into the next)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        for number in range(count):
            if not keep_alive:
                conn.close()  # a new connection: gunicorn's workers take turns
            conn.request("GET", f"/api/search?q=outlook+{number:04d}+password")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
    finally:
        conn.close()


def _recorded(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute("SELECT count(*) FROM searches").fetchone()[0]


def _stopped(process: subprocess.Popen, number: int) -> tuple[int, float]:
    """Send ``number``; the exit status and how long the process took to exit."""
    started = time.monotonic()
    process.send_signal(number)
    status = process.wait(timeout=30)
    return status, time.monotonic() - started


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_kb_serve_writes_every_answered_search_before_it_exits(
    kb_dir: Path, tmp_path: Path, number: int
) -> None:
    database = tmp_path / "activity.sqlite3"
    server = Server(kb_dir, tmp_path / "index", timeout=60, KB_ACTIVITY_DB=str(database))
    try:
        _search(server.port, SEARCHES)
        status, took = _stopped(server.process, number)
    finally:
        server.stop()
    assert _recorded(database) == SEARCHES
    assert status == 0, server.log_path.read_text()  # a clean exit, not death by the signal
    assert took < 5


def test_gunicorn_workers_write_every_answered_search_before_they_exit(
    kb_dir: Path, tmp_path: Path
) -> None:
    database = tmp_path / "activity.sqlite3"
    port = free_port()
    env = os.environ | {
        "KB_KB_DIR": str(kb_dir),
        "KB_INDEX_DIR": str(tmp_path / "index"),
        "KB_HOST": "127.0.0.1",
        "KB_PORT": str(port),
        "KB_WORKERS": "2",
        "KB_THREADS": "4",
        "KB_ACTIVITY_DB": str(database),
        "KB_LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-m", "server", "index"], env=env, check=True, capture_output=True
    )
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        gunicorn = subprocess.Popen(
            GUNICORN,
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=out,
        )
    try:

        def healthy() -> bool:
            assert gunicorn.poll() is None, log.read_text()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            except OSError:
                return False
            finally:
                conn.close()

        wait_until(healthy, timeout=60, interval=0.1)
        _search(port, SEARCHES, keep_alive=False)
        status, took = _stopped(gunicorn, signal.SIGTERM)
    finally:
        if gunicorn.poll() is None:
            gunicorn.kill()
            gunicorn.wait()
    assert _recorded(database) == SEARCHES
    assert status == 0, log.read_text()
    assert took < 10


def test_a_database_that_does_not_answer_delays_a_stop_by_seconds_only(
    kb_dir: Path, tmp_path: Path
) -> None:
    """Another process holds the activity file's write lock: the stop gives up on the queued
    searches after SHUTDOWN_SECONDS, says so, and exits."""
    from server.activity.store import SHUTDOWN_SECONDS

    database = tmp_path / "activity.sqlite3"
    server = Server(kb_dir, tmp_path / "index", timeout=60, KB_ACTIVITY_DB=str(database))
    with closing(sqlite3.connect(database, isolation_level=None)) as holder:
        try:
            wait_until(lambda: database.exists())
            holder.execute("BEGIN EXCLUSIVE")
            _search(server.port, 20)
            status, took = _stopped(server.process, signal.SIGTERM)
        finally:
            server.stop()
            holder.execute("ROLLBACK")
    assert status == 0
    assert SHUTDOWN_SECONDS <= took < SHUTDOWN_SECONDS + 3
    assert "not recorded" in server.log_path.read_text()
