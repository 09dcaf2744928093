"""`kb serve` over an index of many segments, with many request threads, started the way
distributions start services (a soft limit of 1,024 open files): every search answers.

Each request thread's searcher holds every segment file open (Whoosh readers cannot be
shared between threads), so 40 segments x 17 files x 16 threads is ten thousand
descriptors. At 100,000 articles the server died this way within its first searches.
"""

from __future__ import annotations

import json
import resource
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.synthetic import WORDS, generate
from indexer import Indexer, IndexStorage
from indexer.writing import bulk

from ..conftest import start_server
from ..fixtures import TIER2_TOKEN

THREADS = 16
SEGMENTS = 40


@contextmanager
def soft_file_limit(limit: int) -> Iterator[None]:
    """Children started inside inherit a soft open-file limit of ``limit``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < THREADS * SEGMENTS * 20:
        pytest.skip(f"the hard open-file limit ({hard}) is below what the test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.slow
def test_many_segments_and_threads_never_run_out_of_descriptors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = generate(tmp_path / "repo", 400)
    monkeypatch.setattr(bulk, "SEGMENT_BYTES", 290_000)  # a segment every eight articles or so
    index = tmp_path / "index"
    Indexer(kb, index, workers=1).build()
    _generation, searcher = IndexStorage(index).open_searcher()
    segments = len(searcher.leaf_searchers())
    searcher.close()
    assert segments >= SEGMENTS, segments
    with soft_file_limit(1024):
        server = start_server(kb, index, tmp_path / "serve.log", KB_THREADS=str(THREADS))
    failures: list[str] = []
    answered = 0
    lock = threading.Lock()

    def client(number: int) -> None:
        nonlocal answered
        for query in (WORDS[(number + 7 * i) % len(WORDS)] for i in range(6)):
            request = urllib.request.Request(
                f"http://127.0.0.1:{server.port}/api/search?q={query}+{WORDS[number]}",
                headers={"Authorization": f"Bearer {TIER2_TOKEN}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    json.load(response)
                with lock:
                    answered += 1
            except Exception as error:  # every failure is the finding
                with lock:
                    failures.append(f"{query}: {error}")

    try:
        clients = [threading.Thread(target=client, args=(n,)) for n in range(2 * THREADS)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
    finally:
        server.stop()
    assert not failures, failures[:5]
    assert answered == 2 * THREADS * 6
    log = (tmp_path / "serve.log").read_text()
    assert "Too many open files" not in log and "filedescriptor out of range" not in log
