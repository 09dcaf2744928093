"""Shared fixtures: a temporary git-backed KB, a real index, the app, and a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from indexer import Indexer, KnowledgeBase
from server.app import create_app
from server.config import Config
from server.services import Services

from .fixtures import TIER2_TOKEN, make_kb_repo

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """The sample articles in a committed git repository (``<repo>/kb``)."""
    return make_kb_repo(tmp_path / "repo")


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def indexer(kb_dir: Path, index_dir: Path) -> Indexer:
    built = Indexer(kb_dir, index_dir, default_audience="internal")
    built.build()
    return built


@pytest.fixture
def kb(indexer: Indexer) -> KnowledgeBase:
    return KnowledgeBase(indexer.storage)


@pytest.fixture
def config(kb_dir: Path, index_dir: Path) -> Config:
    return Config(kb_dir=kb_dir, index_dir=index_dir, tokens=f"tier2:{TIER2_TOKEN}")


@pytest.fixture
def app(config: Config, indexer: Indexer, kb: KnowledgeBase):  # type: ignore[no-untyped-def]
    flask_app = create_app(config, Services(kb=kb, indexer=indexer))
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def tier2_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TIER2_TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    kb_dir: Path
    process: subprocess.Popen
    log: IO[bytes]

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def start_server(kb_dir: Path, index_dir: Path, log_path: Path, **env: str) -> LiveServer:
    """Run `kb serve` as a real process and wait until /healthz answers 200."""
    port = free_port()
    environ = os.environ | {"KB_TOKENS": f"tier2:{TIER2_TOKEN}", "KB_LOG_LEVEL": "INFO"} | env
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--kb", str(kb_dir), "--index-dir",
         str(index_dir), "--port", str(port)],
        cwd=kb_dir.parent,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = LiveServer(f"http://127.0.0.1:{port}", kb_dir, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"kb serve exited: {log_path.read_text()}")
        try:
            if server.get("/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"kb serve did not become healthy: {log_path.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.log.close()


@pytest.fixture
def live_server(kb_dir: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """`kb serve` over the sample KB, with the watcher on."""
    server = start_server(kb_dir, tmp_path / "live-index", tmp_path / "serve.log")
    yield server
    stop_server(server)


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll until ``predicate()`` is truthy; return its value or fail with the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
