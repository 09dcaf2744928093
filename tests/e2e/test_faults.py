"""Faults, each against a real `kb serve` process: kill -9 mid-write, an index deleted or
damaged while stopped and while running, stale lock files, a read-only or full disk.

What a user must notice in every case: searches keep answering (from the last good index,
or a clear 503 with Retry-After while there is none, never a 500), the index comes back by
itself, and it then matches the working tree. Recovery times are printed at the end of
the run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.measure import descendants
from benchmarks.synthetic import generate

from ..conftest import LiveServer, start_server, stop_server, wait_until
from ..figures import report
from ..fixtures import TIER2_TOKEN, git, write

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
STORM_FILES = int(os.environ.get("KB_STORM_FILES", "600"))


def search_ids(server: LiveServer, query: str) -> list[str] | None:
    """Ids found, or None while the service answers 503 (never anything else)."""
    status, body = server.get(f"/api/search?q={query}&limit=50", TIER2)
    assert status in (200, 503), f"search answered {status}: {body[:300]!r}"
    return [hit["id"] for hit in json.loads(body)["results"]] if status == 200 else None


def health(server: LiveServer) -> dict:
    """As tier 2, whose document count includes the internal articles."""
    status, body = server.get("/healthz", TIER2)
    return {"http": status} | json.loads(body)


def article_count(kb: Path) -> int:
    return sum(1 for _ in kb.rglob("*.md"))


def recovered(server: LiveServer, kb: Path, word: str, article_id: str) -> bool:
    """The index matches the tree: the last edit is found and no article is missing."""
    answer = health(server)
    return (
        answer["http"] == 200
        and answer.get("documents") == article_count(kb)
        and article_id in (search_ids(server, word) or [])
    )


def new_article(kb: Path, article_id: str, word: str) -> None:
    write(
        kb,
        f"faults/{article_id.lower()}.md",
        f"---\nid: {article_id}\ntitle: Fault drill {word}\n---\nThe word is {word}.\n",
    )


def segments(index_dir: Path) -> list[Path]:
    """The live generation's postings files: Whoosh opens a segment without reading them, so
    damage there is the hardest to notice."""
    live = (index_dir / "CURRENT").read_text().strip()
    found = sorted((index_dir / live).glob("MAIN_*.pst"))
    assert found, f"no segment files in {index_dir / live}"
    return found


def truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 3)


@pytest.fixture
def generated_kb(tmp_path: Path) -> Path:
    """300 generated articles: enough that a full build takes a few seconds."""
    return generate(tmp_path / "repo", 300)


def kb_command(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "server", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def time_recovery(
    fault: str,
    server: LiveServer,
    kb: Path,
    word: str,
    article_id: str,
    since: float,
    timeout: float = 60,
) -> None:
    wait_until(lambda: recovered(server, kb, word, article_id), timeout=timeout, interval=0.1)
    report("recovery after faults", f"{fault}: {time.monotonic() - since:.1f} s")


# ---------------------------------------------------------------------- crashes


def test_kill_9_during_a_full_rebuild(generated_kb: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert kb_command("index", "--kb", str(generated_kb), "--index-dir", str(index)).wait() == 0
    live = (index / "CURRENT").read_text()
    new_article(generated_kb, "KB-9001", "rebuildkiwi")
    rebuild = kb_command("index", "--rebuild", "--kb", str(generated_kb), "--index-dir", str(index))
    wait_until(lambda: len(list(index.glob("gen-*"))) > 1, timeout=30)
    time.sleep(0.5)  # well into the build
    rebuild.send_signal(signal.SIGKILL)
    rebuild.wait()
    assert (index / "CURRENT").read_text() == live  # the half-built generation never went live

    started = time.monotonic()
    server = start_server(generated_kb, index, tmp_path / "serve.log")
    try:
        assert search_ids(server, "error") is not None  # answers at once, from the old index
        time_recovery(
            "kill -9 during a full rebuild", server, generated_kb, "rebuildkiwi", "KB-9001", started
        )
        assert [p.name for p in index.glob("gen-*")] == [live.strip()]  # the debris is gone
    finally:
        stop_server(server)


def test_kill_9_of_a_parallel_build_stops_its_workers(tmp_path: Path) -> None:
    """A full build of more than 1,000 articles runs in worker processes: killing `kb index`
    must not leave them running, and the next build must not trip over what they left."""
    kb = generate(tmp_path / "repo", 1200)
    index = tmp_path / "index"
    build = kb_command("index", "--kb", str(kb), "--index-dir", str(index))
    wait_until(lambda: len(descendants(build.pid)) >= 2, timeout=30, interval=0.05)
    workers = descendants(build.pid)
    time.sleep(0.5)
    build.send_signal(signal.SIGKILL)
    build.wait()
    started = time.monotonic()
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), timeout=5)
    report(
        "recovery after faults",
        f"kill -9 of a parallel build: workers gone in {time.monotonic() - started:.1f} s",
    )
    assert kb_command("index", "--kb", str(kb), "--index-dir", str(index)).wait() == 0
    assert len(list(index.glob("gen-*"))) == 1


def test_kill_9_during_an_incremental_batch(generated_kb: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    server = start_server(generated_kb, index, tmp_path / "serve.log")
    paths = sorted(generated_kb.rglob("*.md"))[:300]
    for number, path in enumerate(paths):  # one batch of 300 edits
        path.write_text(path.read_text() + f"\nbatchword{number}\n")
    time.sleep(0.6)  # the batch is being written
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    server.log.close()

    started = time.monotonic()
    server = start_server(generated_kb, index, tmp_path / "serve2.log")
    try:
        first = search_ids(server, "batchword7")  # answers during catch-up
        assert first is not None
        wait_until(
            lambda: all(search_ids(server, f"batchword{n}") for n in (0, 150, 299)),
            timeout=60,
            interval=0.2,
        )
        seconds = time.monotonic() - started
        report("recovery after faults", f"kill -9 during an incremental batch: {seconds:.1f} s")
        assert health(server)["documents"] == article_count(generated_kb)
    finally:
        stop_server(server)


# ---------------------------------------------------------------------- damage while stopped


@pytest.mark.parametrize("damage", ["deleted", "truncated segment", "stale lock files"])
def test_index_damaged_while_stopped_is_rebuilt(kb_dir: Path, tmp_path: Path, damage: str) -> None:
    index = tmp_path / "index"
    server = start_server(kb_dir, index, tmp_path / "serve.log")
    stop_server(server)
    if damage == "deleted":
        shutil.rmtree(index)
    elif damage == "truncated segment":
        for segment in segments(index):
            truncate(segment)
    else:  # a crash can leave lock files behind; they must not block the next writer
        (index / "write.lock").write_text("12345\n")
        live = index / (index / "CURRENT").read_text().strip()
        (live / "MAIN_WRITELOCK").write_text("stale")
    new_article(kb_dir, "KB-9002", "stoppedplum")

    started = time.monotonic()
    server = start_server(kb_dir, index, tmp_path / "serve2.log")
    try:
        time_recovery(
            f"index {damage} while stopped", server, kb_dir, "stoppedplum", "KB-9002", started
        )
    finally:
        stop_server(server)


# ---------------------------------------------------------------------- damage while running


@pytest.mark.parametrize("damage", ["deleted", "truncated segment"])
def test_index_damaged_while_running_is_rebuilt(
    live_server: LiveServer, kb_dir: Path, damage: str
) -> None:
    index = kb_dir.parent.parent / "live-index"  # beside the repo: see conftest.live_server
    assert search_ids(live_server, "outlook")
    started = time.monotonic()
    if damage == "deleted":
        # the running server may already be writing a new one as this deletes: that is fine
        shutil.rmtree(index, ignore_errors=True)
    else:
        for segment in segments(index):
            truncate(segment)
    for _ in range(20):  # every answer meanwhile is a result or a clear 503, never a 500
        search_ids(live_server, "outlook")
    new_article(kb_dir, "KB-9003", "runningfig")
    time_recovery(
        f"index {damage} while running", live_server, kb_dir, "runningfig", "KB-9003", started
    )


# ---------------------------------------------------------------------- disks


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 40 MB tmpfs for the index, so it can be made read-only or full."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def remount(mount: Path, mode: str) -> None:
    """Retried: remounting read-only fails (busy) while the server has a file open to write."""
    command = ["mount", "-o", f"remount,{mode}", str(mount)]
    wait_until(lambda: subprocess.run(command, capture_output=True).returncode == 0, timeout=10)


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_unwritable_disk_keeps_serving_and_says_why(
    kb_dir: Path, tmp_path: Path, small_disk: Path, fault: str
) -> None:
    log = tmp_path / "serve.log"
    server = start_server(kb_dir, small_disk / "index", log, KB_HEALTH_MAX_LAG="1")
    filler = small_disk / "filler"
    try:
        if fault == "read-only":
            remount(small_disk, "ro")
        else:
            subprocess.run(
                ["dd", "if=/dev/zero", f"of={filler}", "bs=1M", "count=100"],
                capture_output=True,
                check=False,
            )
        new_article(kb_dir, "KB-9004", "diskpear")
        answer = wait_until(lambda: (h := health(server))["http"] == 503 and h, timeout=15)
        assert answer["status"] == "behind"
        expected = "Read-only file system" if fault == "read-only" else "No space left"
        assert expected in answer["message"]
        assert expected in log.read_text()  # the log says why too
        assert search_ids(server, "outlook")  # the old index keeps serving
        assert search_ids(server, "diskpear") == []

        started = time.monotonic()
        if fault == "read-only":
            remount(small_disk, "rw")
        else:
            filler.unlink()
        time_recovery(
            f"{fault} disk, after it is fixed", server, kb_dir, "diskpear", "KB-9004", started
        )
    finally:
        if fault == "read-only":
            remount(small_disk, "rw")
        stop_server(server)


# ---------------------------------------------------------------------- storms


def test_git_checkout_of_another_branch_with_many_files(generated_kb: Path, tmp_path: Path) -> None:
    """A checkout that switches STORM_FILES files (more than a batch: a reconciliation).
    `KB_STORM_FILES=5000 pytest -k checkout` runs the full-size storm (about two minutes)."""
    repo = generated_kb.parent
    git(repo, "checkout", "-q", "-b", "storm")
    last = 300 + STORM_FILES - 1
    for number in range(300, last + 1):
        write(
            generated_kb,
            f"storm/storm-{number}.md",
            f"---\nid: KB-S{number}\ntitle: Storm {number}\n---\nstormword{number}\n",
        )
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "s")
    git(repo, "checkout", "-q", "main")
    server = start_server(generated_kb, tmp_path / "index", tmp_path / "serve.log")
    try:
        started = time.monotonic()
        git(repo, "checkout", "-q", "storm")
        time_recovery(
            f"git checkout switching {STORM_FILES} files",
            server,
            generated_kb,
            f"stormword{last}",
            f"KB-S{last}",
            started,
            timeout=600,
        )
        git(repo, "checkout", "-q", "main")
        wait_until(
            lambda: health(server).get("documents") == article_count(generated_kb), timeout=60
        )
        assert search_ids(server, f"stormword{last}") == []
    finally:
        stop_server(server)
