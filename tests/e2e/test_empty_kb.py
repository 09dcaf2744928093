"""A new team starts from nothing: an empty kb folder in a new git repository (no commit yet)
builds an empty index, serves, and the first article saved into it becomes searchable, with
`kb index`, `kb serve` and `kb watch` alike."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.server_process import Server

from ..conftest import wait_until
from ..fixtures import ARTICLES, git, write

FIRST = "windows/update-0x80070005.md"  # the first article the team writes (KB-2001)


@pytest.fixture
def empty_kb(tmp_path: Path) -> Path:
    """``repo/kb``: an empty folder in a repository with no commit yet."""
    kb = tmp_path / "repo" / "kb"
    kb.mkdir(parents=True)
    git(kb.parent, "init", "-q", "-b", "main")
    return kb


def kb_command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | (env or {}),
    )


def cli_search(kb: Path, index: Path, query: str) -> list[str]:
    done = kb_command("search", "--kb", str(kb), "--index-dir", str(index), "--json", query)
    assert done.returncode == 0, done.stderr
    return [hit["id"] for hit in json.loads(done.stdout)["results"]]


def test_kb_index_builds_an_empty_index_then_catches_up(empty_kb: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    for _ in range(2):  # a first build, then a catch-up over the empty index
        done = kb_command("index", "--kb", str(empty_kb), "--index-dir", str(index))
        assert done.returncode == 0, done.stderr
        assert "0 added" in done.stdout
        assert "Traceback" not in done.stderr
    assert cli_search(empty_kb, index, "update") == []

    write(empty_kb, FIRST, ARTICLES[FIRST])
    done = kb_command("index", "--kb", str(empty_kb), "--index-dir", str(index))
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout
    assert cli_search(empty_kb, index, "0x80070005") == ["KB-2001"]


def test_kb_serve_answers_over_an_empty_kb_and_finds_the_first_article(
    empty_kb: Path, tmp_path: Path
) -> None:
    server = Server(empty_kb, tmp_path / "index", timeout=60)
    try:
        status, body = server.get("/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert server.search("update")["results"] == []
        assert server.search("")["results"] == []
        for page in ("/", "/?q=update", "/help", "/help?q=printer", "/api/autocomplete?q=up"):
            assert server.get(page)[0] == 200, page

        write(empty_kb, FIRST, ARTICLES[FIRST])
        assert wait_until(
            lambda: [h["id"] for h in server.search("0x80070005")["results"]] == ["KB-2001"],
            timeout=10,
        )
    finally:
        server.stop()


def test_kb_watch_builds_an_empty_index_and_indexes_the_first_save(
    empty_kb: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    env = {"KB_KB_DIR": str(empty_kb), "KB_INDEX_DIR": str(index), "KB_LOG_LEVEL": "INFO"}
    log = tmp_path / "watch.log"
    with log.open("wb") as out:
        watch = subprocess.Popen(
            [sys.executable, "-m", "server", "watch"],
            stderr=out,
            stdout=subprocess.DEVNULL,
            env=os.environ | env,
        )
    try:
        assert wait_until(lambda: (index / "CURRENT").exists(), timeout=60), log.read_text()
        assert watch.poll() is None, log.read_text()
        assert cli_search(empty_kb, index, "update") == []

        write(empty_kb, FIRST, ARTICLES[FIRST])
        assert wait_until(
            lambda: cli_search(empty_kb, index, "0x80070005") == ["KB-2001"], timeout=15
        ), log.read_text()
        assert watch.poll() is None, log.read_text()
    finally:
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(timeout=20) == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert "WARNING" not in log.read_text()  # a repository with no commit yet is no fault
