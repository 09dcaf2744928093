"""Read replicas: a clone pulled from a real bare "origin", and the index following it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from indexer import Indexer, KnowledgeBase, SearchRequest, Syncer, SyncError, sync_clone

from ..fixtures import clone, git, make_origin, push_changes, write

EVERYONE = frozenset({"public", "internal"})


def ids_for(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.id for hit in kb.search(SearchRequest(q=query, audiences=EVERYONE, limit=50)).hits]


@pytest.fixture
def author(tmp_path: Path) -> Path:
    return make_origin(tmp_path)


@pytest.fixture
def replica(author: Path, tmp_path: Path) -> Indexer:
    """A replica's clone with its own index, built."""
    indexer = Indexer(clone(tmp_path / "origin.git", tmp_path / "replica"), tmp_path / "index")
    indexer.build()
    return indexer


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def test_a_pull_indexes_exactly_what_the_commits_changed(replica: Indexer, author: Path) -> None:
    ids = push_changes(author, "quokkasync")
    result = sync_clone(replica)
    assert result.pulled and result.after == head(author)
    assert result.changed == ("email/outlook-prompt.md", "new/quokkasync.md", "printing/spooler.md")
    assert (result.report.added, result.report.updated, result.report.deleted) == (1, 1, 1)
    kb = KnowledgeBase(replica.storage, replica.kb_root)
    assert sorted(ids_for(kb, "quokkasync")) == sorted([ids["added"], ids["edited"]])
    assert ids_for(kb, "spooler") == []
    assert "up to date" in sync_clone(replica).summary()  # a second sync has nothing to do


def test_a_clone_without_an_index_is_built(author: Path, tmp_path: Path) -> None:
    indexer = Indexer(clone(tmp_path / "origin.git", tmp_path / "fresh"), tmp_path / "ix")
    result = sync_clone(indexer)
    assert result.report.full_build and result.report.added == 5


def test_an_unreachable_remote_is_a_clear_error(replica: Indexer) -> None:
    before = head(replica.kb_root.parent)
    git(replica.kb_root.parent, "remote", "set-url", "origin", "/nonexistent/origin.git")
    with pytest.raises(SyncError, match=r"cannot fetch origin/main.*reachable"):
        sync_clone(replica)
    assert head(replica.kb_root.parent) == before


def test_a_diverged_clone_is_refused_and_left_as_it_was(replica: Indexer, author: Path) -> None:
    repo = replica.kb_root.parent
    write(replica.kb_root, "local.md", "---\nid: KB-LOCAL\n---\nlocal commit\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "A commit a replica should never have")
    local = head(repo)
    push_changes(author, "divergedword")
    with pytest.raises(SyncError, match=r"diverged \(1 local, 1 remote.*git reset --hard"):
        sync_clone(replica)
    assert head(repo) == local
    assert ids_for(KnowledgeBase(replica.storage, replica.kb_root), "divergedword") == []


def test_local_edits_in_the_way_are_refused_and_left_as_they_were(
    replica: Indexer, author: Path
) -> None:
    edited = replica.kb_root / "email/outlook-prompt.md"
    edited.write_text("edited on the replica\n")
    before = head(replica.kb_root.parent)
    push_changes(author, "blockedword")
    with pytest.raises(SyncError, match=r"cannot fast-forward.*must not be edited"):
        sync_clone(replica)
    assert head(replica.kb_root.parent) == before
    assert edited.read_text() == "edited on the replica\n"
    assert (replica.kb_root / "printing/spooler.md").exists()  # nothing half-applied


def test_a_clone_without_upstream_is_a_clear_error(replica: Indexer) -> None:
    git(replica.kb_root.parent, "branch", "--unset-upstream")
    with pytest.raises(SyncError, match=r"no branch to pull.*tracks the remote"):
        sync_clone(replica)


def test_a_folder_outside_git_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "plain", "a.md", "plain\n")
    with pytest.raises(SyncError, match="not in a git clone"):
        sync_clone(Indexer(tmp_path / "plain", tmp_path / "ix"))


def test_a_burst_of_requests_is_one_or_two_pulls(replica: Indexer, author: Path) -> None:
    pulls: list[bool] = []
    syncer = Syncer(replica)
    syncer.listeners.append(pulls.append)
    push_changes(author, "burstword")
    try:
        threads = [threading.Thread(target=syncer.request) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 30
        while syncer.last_success is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # room for any further pull to show
    finally:
        syncer.stop()
    assert 1 <= len(pulls) <= 2 and all(pulls)
    found = ids_for(KnowledgeBase(replica.storage, replica.kb_root), "burstword")
    assert sorted(found) == ["KB-2002", "KB-BURSTWORD"]


def test_interval_syncs_keep_pulling_and_report_failures(replica: Indexer, author: Path) -> None:
    outcomes: list[bool] = []
    syncer = Syncer(replica, every=0.2)
    syncer.listeners.append(outcomes.append)
    syncer.start()
    try:
        push_changes(author, "intervalword")
        deadline = time.monotonic() + 30
        kb = KnowledgeBase(replica.storage, replica.kb_root)
        while not ids_for(kb, "intervalword") and time.monotonic() < deadline:
            time.sleep(0.05)
        git(replica.kb_root.parent, "remote", "set-url", "origin", "/nonexistent/origin.git")
        while syncer.last_error == "" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        syncer.stop()
    assert ids_for(kb, "intervalword")
    assert "cannot fetch" in syncer.last_error and outcomes[-1] is False
