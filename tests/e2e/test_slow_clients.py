"""One client holding many sockets open (idle, or trickling one header line a second) must
cost sockets, not the service: `/healthz` from another client keeps answering within 1 s,
against `kb serve` and against the production layout (gunicorn behind the shipped nginx
site file). `python -m benchmarks.slow_clients` runs the same with 500 sockets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.server_process import NGINX, ProductionLayout, Server
from benchmarks.slow_clients import PROBE_TIMEOUT, under_siege

from ..figures import report
from ..fixtures import make_kb_repo

SOCKETS = 240  # more than waitress's default connection limit (100) and gunicorn's 16 threads
SECONDS = 4.0


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_kb_repo(tmp_path_factory.mktemp("slow") / "repo")


@pytest.fixture
def serve(kb: Path, tmp_path: Path) -> Iterator[int]:
    server = Server(kb, tmp_path / "index", timeout=60)
    try:
        yield server.port
    finally:
        server.stop()


@pytest.fixture
def layout(kb: Path, tmp_path: Path) -> Iterator[int]:
    if not NGINX.exists():
        if os.environ.get("KB_REQUIRE_NGINX") == "1":
            pytest.fail(f"{NGINX} is missing (KB_REQUIRE_NGINX=1 requires this test to run)")
        pytest.skip(f"needs nginx at {NGINX} (apt-get install nginx); KB_REQUIRE_NGINX=1 fails")
    running = ProductionLayout(kb, tmp_path / "layout", env={"KB_WORKERS": "2", "KB_THREADS": "8"})
    try:
        yield running.port
    finally:
        running.stop()


def _held_and_answered(name: str, port: int) -> None:
    clients, probes = under_siege(port, SOCKETS, SECONDS)
    report("slow clients", f"{name}: {len(clients.sockets)} sockets held, {probes.summary()}")
    assert clients.refused == 0, "the held sockets themselves could not all connect"
    assert probes.failures == [], probes.summary()
    assert max(probes.times) < PROBE_TIMEOUT, probes.summary()


def test_kb_serve_answers_others_while_one_client_holds_hundreds_of_sockets(serve: int) -> None:
    _held_and_answered("kb serve", serve)


def test_the_production_layout_answers_others_through_nginx(layout: int) -> None:
    _held_and_answered("nginx + gunicorn", layout)
