"""Shared fixtures: a temporary git-backed KB, a real index, the app, and a live server."""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.postgres import BIN as POSTGRES_BIN
from benchmarks.postgres import PostgresServer
from benchmarks.server_process import Server
from indexer import Indexer, KnowledgeBase
from server.activity import Database
from server.app import create_app
from server.config import Config
from server.services import Services

from .figures import FIGURES
from .fixtures import ADMIN_TOKEN, AUTHOR_TOKEN, TIER1_TOKEN, TIER2_TOKEN, make_kb_repo

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
def kb(indexer: Indexer, kb_dir: Path) -> KnowledgeBase:
    return KnowledgeBase(indexer.storage, kb_dir)


def config_with_tokens(kb_dir: Path, index_dir: Path, activity_db: str) -> Config:
    """The app's settings for tests: a token for each role."""
    return Config(
        kb_dir=kb_dir,
        index_dir=index_dir,
        tokens=f"tier2:{TIER2_TOKEN},tier1:{TIER1_TOKEN},admin:{ADMIN_TOKEN},author:{AUTHOR_TOKEN}",
        activity_db=activity_db,
    )


@pytest.fixture
def config(kb_dir: Path, index_dir: Path) -> Config:
    return config_with_tokens(kb_dir, index_dir, str(index_dir.parent / "activity.sqlite3"))


@pytest.fixture
def open_database() -> Iterator[Callable[[str | Path], Database]]:
    """Activity databases for one test, closed after it: a PostgreSQL pool must be closed
    by its owner (one dropped unclosed is finalised in its own worker thread)."""
    opened: list[Database] = []

    def open_one(location: str | Path) -> Database:
        opened.append(Database(location))
        return opened[-1]

    yield open_one
    for database in opened:
        database.close()


@pytest.fixture
def app(config: Config, indexer: Indexer, kb: KnowledgeBase):  # type: ignore[no-untyped-def]
    services = Services(kb=kb, indexer=indexer)
    flask_app = create_app(config, services)
    flask_app.config["TESTING"] = True
    yield flask_app
    assert services.activity is not None
    services.activity.database.close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def client_with(config: Config, kb: KnowledgeBase):  # type: ignore[no-untyped-def]
    """A test client for the same index with some settings changed: client_with(edit_url=...)."""

    made: list[Services] = []

    def make(**settings: Any):  # type: ignore[no-untyped-def]
        made.append(Services(kb=kb))
        return create_app(dataclasses.replace(config, **settings), made[-1]).test_client()

    yield make
    for services in made:
        if services.activity is not None:
            services.activity.database.close()


@pytest.fixture
def tier2_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TIER2_TOKEN}"}


LiveServer = Server


def start_server(kb_dir: Path, index_dir: Path, log_path: Path, **env: str) -> LiveServer:
    """Run `kb serve` as a real process (tokens for each role) and wait until it is healthy."""
    environ = {
        "KB_TOKENS": f"tier2:{TIER2_TOKEN},tier1:{TIER1_TOKEN},admin:{ADMIN_TOKEN},author:{AUTHOR_TOKEN}",
        "KB_LOG_LEVEL": "INFO",
    } | env
    return Server(kb_dir, index_dir, log_path, timeout=60, **environ)


def stop_server(server: LiveServer) -> None:
    server.stop()


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


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A real PostgreSQL server (Debian's package) for the whole run, in a temporary folder.
    Skipped where it is not installed, unless KB_REQUIRE_POSTGRES=1 (CI) makes that a
    failure."""
    if POSTGRES_BIN is None:
        reason = "needs PostgreSQL (apt-get install postgresql)"
        if os.environ.get("KB_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; KB_REQUIRE_POSTGRES=1 requires these tests to run")
        pytest.skip(f"{reason}; KB_REQUIRE_POSTGRES=1 makes this a failure")
    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A new, empty database in that server, for one test."""
    return postgres.create_database(f"kb_{secrets.token_hex(6)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def activity_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each activity-store test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "activity.sqlite3")
    return request.getfixturevalue("postgres_url")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Print what the tests measured (recovery after faults, load) for the README."""
    for section, lines in FIGURES.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
