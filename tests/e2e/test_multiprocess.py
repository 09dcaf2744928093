"""The production layout, for real: gunicorn with two worker processes reading one index and
one `kb watch` process writing it, over a temporary git-backed KB.

Every request goes over a fresh connection, so the kernel hands it to either worker; the
JSON request log names the worker (``pid``) of each request id, which proves that both
workers answered. Measured: edit -> the edit found by every worker, printed after the run.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from benchmarks.server_process import GUNICORN, free_port
from indexer.writing.status import STATUS_FILE

from ..conftest import wait_until
from ..figures import report
from ..fixtures import ARTICLES, TIER2_TOKEN, make_kb_repo, write
from ..forms import Browser, form_posting_to

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
WORKERS = 2
FRESHNESS_TARGET = 1.0  # seconds from a save to the change found by every worker
MAX_LAG = 3  # KB_HEALTH_MAX_LAG: a writer silent this long counts as stopped


@dataclass
class Answer:
    request_id: str
    sent: float  # time.monotonic() when sent and when the answer was in
    received: float
    status: int
    body: bytes


@dataclass
class Layout:
    """gunicorn (its log is the workers' JSON request log) and `kb watch`."""

    port: int
    gunicorn: subprocess.Popen
    watch: subprocess.Popen
    log: Path
    kb: Path
    _count: int = 0

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        """One request on a new connection (as tier 2 unless ``headers`` say who), tagged
        with a request id of our own."""
        self._count += 1
        request_id = f"probe-{threading.get_ident()}-{self._count}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        sent = time.monotonic()
        try:
            conn.request(
                "GET",
                path,
                headers={
                    **(TIER2 if headers is None else headers),
                    "X-Request-ID": request_id,
                    "Connection": "close",
                },
            )
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        return Answer(request_id, sent, time.monotonic(), response.status, body)

    def pids(self) -> dict[str, int]:
        """request id -> the worker that answered it, from the request log."""
        found = {}
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if "request_id" in entry:
                    found[entry["request_id"]] = entry["pid"]
        return found


def start_logged(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=out)


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    kb = make_kb_repo(tmp_path / "repo")
    index = tmp_path / "index"
    port = free_port()
    env = os.environ | {
        "KB_KB_DIR": str(kb),
        "KB_INDEX_DIR": str(index),
        "KB_HOST": "127.0.0.1",
        "KB_PORT": str(port),
        "KB_WORKERS": str(WORKERS),
        "KB_THREADS": "4",
        "KB_TOKENS": f"tier2:{TIER2_TOKEN}",
        "KB_ACTIVITY_DB": str(tmp_path / "activity.sqlite3"),
        "KB_LOG_FORMAT": "json",
        "KB_LOG_LEVEL": "INFO",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "KB_HEALTH_MAX_LAG": str(MAX_LAG),
    }
    watch = start_logged(
        [sys.executable, "-m", "server", "watch"], env, tmp_path, tmp_path / "watch.log"
    )
    wait_until(lambda: (index / "CURRENT").exists(), timeout=60)
    log = tmp_path / "gunicorn.log"
    gunicorn = start_logged(GUNICORN, env, tmp_path, log)
    try:
        yield answering(Layout(port, gunicorn, watch, log, kb))
    finally:
        for process in (gunicorn, watch):
            if process.poll() is None:
                _stop(process)


def answering(running: Layout) -> Layout:
    """``running`` once it answers /healthz (its HTTP server failing meanwhile fails)."""

    def healthy() -> bool:
        assert running.gunicorn.poll() is None, running.log.read_text()
        try:
            return running.get("/healthz").status == 200
        except OSError:
            return False

    wait_until(healthy, timeout=60, interval=0.1)
    return running


def answered_by(layout: Layout, answers: list[Answer]) -> dict[int, list[Answer]]:
    pids = layout.pids()
    by_worker: dict[int, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_worker[pids[answer.request_id]].append(answer)
    return by_worker


def until_both_workers(
    layout: Layout, path: str, headers: dict[str, str] | None = None, limit: int = 200
) -> list[Answer]:
    """Requests on new connections until both workers have answered one (bounded)."""
    answers: list[Answer] = []
    while len(answers) < limit:
        answers += [layout.get(path, headers) for _ in range(10)]
        if len(answered_by(layout, answers)) == WORKERS:
            return answers
    raise AssertionError(f"one worker answered all of {limit} requests on new connections")


def search_path(word: str) -> str:
    return "/api/search?" + urlencode({"q": word})


def found(answer: Answer, article_id: str) -> bool:
    assert answer.status == 200, answer.body[:300]
    return article_id in [hit["id"] for hit in json.loads(answer.body)["results"]]


def test_every_worker_finds_an_edit_within_a_second(layout: Layout) -> None:
    word = "multiworkerquokka"
    searches = until_both_workers(layout, search_path(word))  # both have opened the index
    assert not any(found(answer, "KB-2002") for answer in searches)

    saved = time.monotonic()
    write(layout.kb, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + f"\n{word}\n")
    probes: list[Answer] = []

    def probe() -> None:
        while time.monotonic() - saved < 2 * FRESHNESS_TARGET:
            probes.append(layout.get(search_path(word)))

    threads = [threading.Thread(target=probe) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    searches += probes

    by_worker = answered_by(layout, probes)
    assert len(by_worker) == WORKERS, "both workers must have answered after the save"
    lines = []
    for pid, answers in sorted(by_worker.items()):
        fresh = [a for a in answers if found(a, "KB-2002")]
        assert fresh, f"worker {pid} never found the edit"
        first = min(fresh, key=lambda a: a.received)
        stale_after = [a for a in answers if a.sent > first.received and a not in fresh]
        assert not stale_after, f"worker {pid} lost the edit again"
        seconds = first.received - saved
        last_stale = max((a.sent - saved for a in answers if a not in fresh), default=0.0)
        assert seconds < FRESHNESS_TARGET, f"worker {pid} found the edit after {seconds:.2f} s"
        lines.append(
            f"worker {pid}: {len(answers)} answers, first with the edit "
            f"{seconds * 1000:.0f} ms after the save (last without it "
            f"{last_stale * 1000:.0f} ms)"
        )
    for line in lines:
        report("gunicorn workers + kb watch (edit -> found by every worker)", line)

    # /metrics adds up both workers: any worker reports every search either one answered
    scrapes = until_both_workers(layout, "/metrics")
    for scrape in scrapes:
        assert scrape.status == 200
        total = re.search(
            rb'kb_http_requests_total\{method="GET",route="/api/search",status="200"\} (\S+)',
            scrape.body,
        )
        assert total and float(total[1]) == len(searches)


def test_a_session_signed_by_one_worker_is_honoured_by_the_other(layout: Layout) -> None:
    browser = Browser(f"http://127.0.0.1:{layout.port}")
    assert browser.submit("/login", "/login", token=TIER2_TOKEN).status == 302
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    # no token, only the cookie: the page needs tier 2, so a worker with another key would
    # send the visitor to sign in (302)
    pages = until_both_workers(layout, "/problems", {"Cookie": cookie})
    assert {a.status for a in pages} == {200}
    assert layout.get("/problems", {}).status == 302  # which proves the cookie is what counts


def test_kb_watch_stops_cleanly_on_sigterm(layout: Layout, tmp_path: Path) -> None:
    assert (tmp_path / "index" / STATUS_FILE).exists()
    assert _stop(layout.watch) == 0
    assert not (tmp_path / "index" / STATUS_FILE).exists()  # withdrawn: readers are not alarmed
    assert {a.status for a in until_both_workers(layout, "/healthz")} == {200}


def test_workers_report_what_the_writer_publishes(layout: Layout) -> None:
    """Health and problems come from `kb watch`, which only it knows; a writer that dies is
    noticed by every worker, which keeps serving searches."""
    write(layout.kb, "bad/broken.md", "---\ntitle: [oops\n---\n")

    def every_worker_lists_it() -> bool:
        pages = until_both_workers(layout, "/problems")
        health = until_both_workers(layout, "/healthz")
        return all(b"bad/broken.md" in a.body for a in pages) and all(
            json.loads(a.body)["problems"] == 1 for a in health
        )

    wait_until(every_worker_lists_it, timeout=10, interval=0.2)
    layout.watch.kill()  # kill -9: no chance to withdraw its status
    layout.watch.wait()
    time.sleep(MAX_LAG + 1.5)
    for answer in until_both_workers(layout, "/healthz"):
        assert answer.status == 503
        body = json.loads(answer.body)
        assert body["status"] == "not indexing" and "has not reported" in body["message"]
    assert all(a.status == 200 for a in until_both_workers(layout, search_path("outlook")))


def test_signing_out_ends_the_session_in_every_worker(layout: Layout) -> None:
    """A copy of the cookie (taken from a shared PC, a proxy log) dies with the sign-out,
    whichever worker answers it next."""
    browser = Browser(f"http://127.0.0.1:{layout.port}")
    assert browser.submit("/login", "/login", token=TIER2_TOKEN).status == 302
    copied = {"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    assert {a.status for a in until_both_workers(layout, "/problems", copied)} == {200}
    assert browser.submit("/", "/logout").status == 302
    assert {a.status for a in until_both_workers(layout, "/problems", copied)} == {302}


def test_failed_sign_ins_are_counted_across_workers(layout: Layout) -> None:
    browser = Browser(f"http://127.0.0.1:{layout.port}")
    form = form_posting_to(browser.get("/login").text, "/login", "/login")

    def attempt(n: int) -> tuple[str, int]:
        request_id = f"guess-{n}"
        answer = browser.request(
            "POST",
            form.action,
            urlencode(form.filled(token=f"wrong-{n}")).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "X-Request-ID": request_id},
        )
        return request_id, answer.status

    assert [attempt(n)[1] for n in range(10)] == [401] * 10
    refused: dict[str, int] = {}
    for n in range(10, 200):
        request_id, status = attempt(n)
        refused[request_id] = status
        workers = {layout.pids().get(r) for r in refused}
        if len(workers - {None}) == WORKERS:
            break
    assert set(refused.values()) == {429}
    wait_until(lambda: set(refused) <= set(layout.pids()))  # the log has caught up
    assert len({layout.pids()[r] for r in refused}) == WORKERS
