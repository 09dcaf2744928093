"""The watcher: saved files become searchable within about a second, bursts become batches."""

from pathlib import Path

import pytest

from indexer import Indexer, KnowledgeBase, SearchRequest, Watcher
from indexer.writing import watcher as watcher_module
from indexer.writing import writer as writer_module

from ..conftest import wait_until
from ..fixtures import ARTICLES, git, write

EVERYONE = frozenset({"public", "internal"})


@pytest.fixture
def watching(indexer: Indexer):  # type: ignore[no-untyped-def]
    running = Watcher(indexer, debounce=0.05)
    running.start()
    yield running
    running.stop()


def found(kb: KnowledgeBase, query: str) -> list[str]:
    return [h.id for h in kb.search(SearchRequest(q=query, audiences=EVERYONE, limit=50)).hits]


def test_saved_edit_is_searchable_within_a_second(
    watching: Watcher, kb: KnowledgeBase, kb_dir: Path
) -> None:
    write(kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + "\nkumquat\n")
    wait_until(lambda: found(kb, "kumquat") == ["KB-2002"], timeout=1.5)


def test_new_deleted_and_moved_files_are_followed(
    watching: Watcher, kb: KnowledgeBase, kb_dir: Path
) -> None:
    write(kb_dir, "new/x.md", "---\nid: KB-4000\n---\npersimmon\n")
    (kb_dir / "printing/spooler.md").unlink()
    (kb_dir / "network").rename(kb_dir / "net")  # a whole folder moves
    wait_until(lambda: found(kb, "persimmon") == ["KB-4000"])
    wait_until(lambda: found(kb, "spooler") == [])
    wait_until(lambda: kb.lookup("net/dns-forwarders", EVERYONE).article is not None)


def test_a_burst_is_written_as_few_batches(
    watching: Watcher, kb: KnowledgeBase, kb_dir: Path, index_dir: Path
) -> None:
    for n in range(40):
        write(kb_dir, f"burst/a{n}.md", f"---\nid: B-{n}\n---\nburstword number {n}\n")
    wait_until(lambda: kb.search(SearchRequest(q="burstword", audiences=EVERYONE)).total == 40)
    wait_until(lambda: watching.pending == 0)  # late duplicate events drain too


def test_storm_falls_back_to_reconcile(
    monkeypatch: pytest.MonkeyPatch, watching: Watcher, kb: KnowledgeBase, kb_dir: Path
) -> None:
    monkeypatch.setattr(watcher_module, "STORM_FILES", 5)
    for n in range(20):
        write(kb_dir, f"storm/s{n}.md", f"---\nid: S-{n}\n---\nstormword\n")
    wait_until(lambda: kb.search(SearchRequest(q="stormword", audiences=EVERYONE)).total == 20)


def test_branch_switch_leaves_index_matching_the_tree(
    watching: Watcher, kb: KnowledgeBase, kb_dir: Path
) -> None:
    repo = kb_dir.parent
    git(repo, "checkout", "-q", "-b", "feature")
    write(kb_dir, "feature/new.md", "---\nid: F-1\n---\ntangerine\n")
    (kb_dir / "printing/spooler.md").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature work")
    wait_until(lambda: found(kb, "tangerine") == ["F-1"] and found(kb, "spooler") == [])
    git(repo, "checkout", "-q", "main")
    wait_until(
        lambda: found(kb, "tangerine") == [] and found(kb, "spooler") == ["printing/spooler"]
    )


def test_failed_write_is_retried(
    watching: Watcher,
    kb: KnowledgeBase,
    kb_dir: Path,
    indexer: Indexer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"n": 0}
    real_update = indexer.update

    def flaky(paths):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(28, "No space left on device")
        return real_update(paths)

    monkeypatch.setattr(indexer, "update", flaky)
    write(kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + "\nrambutan\n")
    wait_until(lambda: found(kb, "rambutan") == ["KB-2002"], timeout=5)
    assert calls["n"] >= 2


def test_changes_the_watcher_never_heard_of_are_reconciled(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    """Events the OS dropped (here: changes made before watching began) are caught by the
    periodic reconciliation, the watcher's safety net."""
    write(kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + "\nlychee\n")
    (kb_dir / "printing/spooler.md").unlink()
    running = Watcher(indexer, debounce=0.05, reconcile_every=0.5)
    running.start()
    try:
        wait_until(lambda: found(kb, "lychee") == ["KB-2002"], timeout=5)
        wait_until(lambda: not found(kb, "spooler"), timeout=5)
    finally:
        running.stop()


def test_segments_saves_leave_are_merged_once_the_kb_is_quiet(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saves merge only a little (so none waits for a merge); the rest waits for quiet."""
    monkeypatch.setattr(watcher_module, "QUIET_BEFORE_MERGE", 0.5)
    monkeypatch.setattr(writer_module, "SAVE_MERGE_DOCS", 0)  # saves merge nothing here
    running = Watcher(indexer, debounce=0.05)
    running.start()
    try:
        for n in range(12):
            write(kb_dir, f"saves/s{n}.md", f"---\nid: S-{n}\n---\nsaveword{n}\n")
            wait_until(lambda n=n: found(kb, f"saveword{n}") == [f"S-{n}"], timeout=3)
        assert len(kb.snapshot().leaves) > 10  # one segment per save
        wait_until(lambda: len(kb.snapshot().leaves) <= 2, timeout=5)
    finally:
        running.stop()
    assert all(found(kb, f"saveword{n}") == [f"S-{n}"] for n in range(12))
