"""Keeping the index equal to the kb folder: builds, batches, renames, errors, crashes."""

import json
from pathlib import Path

import numpy as np
import pytest

from indexer import Indexer, KnowledgeBase, SearchRequest
from indexer.documents.schema import live_hashes
from indexer.search.ranking import Snapshot
from indexer.writing.storage import STATE

from ..fixtures import ARTICLES, git, write

EVERYONE = frozenset({"public", "internal"})


def ids_for(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.id for hit in kb.search(SearchRequest(q=query, audiences=EVERYONE, limit=50)).hits]


def test_build_indexes_every_article(indexer: Indexer, kb: KnowledgeBase) -> None:
    assert kb.stats()["documents"] == 5
    assert ids_for(kb, "spooler") == ["printing/spooler"]
    assert ids_for(kb, "conditional forwarders") == ["network/dns-forwarders"]


def test_broken_article_is_reported_and_skipped(kb_dir: Path, index_dir: Path) -> None:
    write(kb_dir, "bad/broken.md", "---\nid: KB-9\ntitle: [oops\n---\nbody\n")
    indexer = Indexer(kb_dir, index_dir)
    report = indexer.build()
    assert report.added == 5
    assert [e.path for e in report.errors] == ["bad/broken.md"]
    assert indexer.problems["bad/broken.md"].line is not None


DRAFT = "---\ndraft: true\nid: KB-3001\ntitle: VPN drops every hour\n---\nThe tunnel drops.\n"


def test_a_draft_is_found_only_once_its_author_publishes_it(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path, index_dir: Path
) -> None:
    write(kb_dir, "network/vpn-drops.md", DRAFT)
    report = indexer.update(["network/vpn-drops.md"])
    assert (report.added, report.drafts, report.errors) == (0, 1, [])
    assert ids_for(kb, "vpn tunnel drops") == []
    assert "not published (drafts): 1" in report.summary()
    write(kb_dir, "network/vpn-drops.md", DRAFT.replace("draft: true\n", ""))
    assert indexer.update(["network/vpn-drops.md"]).added == 1
    assert ids_for(kb, "vpn tunnel drops") == ["KB-3001"]
    write(kb_dir, "network/vpn-drops.md", DRAFT)  # back to draft: withdrawn
    assert indexer.update(["network/vpn-drops.md"]).deleted == 1
    assert ids_for(kb, "vpn tunnel drops") == []
    rebuilt = Indexer(kb_dir, index_dir).build()
    assert (rebuilt.added, rebuilt.drafts) == (5, 1)


def test_edit_add_delete_are_applied_incrementally(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    write(
        kb_dir,
        "email/outlook-prompt.md",
        ARTICLES["email/outlook-prompt.md"] + "\nflibbertigibbet\n",
    )
    write(
        kb_dir,
        "new/vpn.md",
        "---\nid: KB-3000\naudience: public\n---\n## Symptoms\nVPN drops every 8 hours\n",
    )
    (kb_dir / "printing/spooler.md").unlink()
    report = indexer.update(["email/outlook-prompt.md", "new/vpn.md", "printing/spooler.md"])
    assert (report.added, report.updated, report.deleted) == (1, 1, 1)
    assert ids_for(kb, "flibbertigibbet") == ["KB-2002"]
    assert ids_for(kb, "vpn drops") == ["KB-3000"]
    assert ids_for(kb, "spooler") == []


def test_article_that_breaks_keeps_its_last_good_version(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    write(kb_dir, "windows/update-0x80070005.md", "---\nid: [unclosed\n---\n")
    report = indexer.update(["windows/update-0x80070005.md"])
    assert report.errors and "windows/update-0x80070005.md" in indexer.problems
    assert ids_for(kb, "0x80070005") == ["KB-2001"]


def test_rename_keeps_the_permalink(indexer: Indexer, kb: KnowledgeBase, kb_dir: Path) -> None:
    (kb_dir / "archive").mkdir()
    (kb_dir / "windows/update-0x80070005.md").rename(kb_dir / "archive/wu-access-denied.md")
    indexer.update(["windows/update-0x80070005.md", "archive/wu-access-denied.md"])
    found = kb.lookup("KB-2001", EVERYONE)
    assert found.article is not None and found.article.path == "archive/wu-access-denied.md"
    assert kb.lookup("windows/update-0x80070005", EVERYONE).redirect_to == "KB-2001"


def test_rename_without_id_redirects_from_the_old_path(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    (kb_dir / "network/dns-forwarders.md").rename(kb_dir / "network/dns-conditional.md")
    indexer.update(["network/dns-forwarders.md", "network/dns-conditional.md"])
    assert kb.lookup("network/dns-forwarders", EVERYONE).redirect_to == "network/dns-conditional"
    assert kb.lookup("network/dns-conditional", EVERYONE).article is not None


def test_committed_rename_is_followed_in_a_full_build(kb_dir: Path, index_dir: Path) -> None:
    git(kb_dir.parent, "mv", "kb/network/dns-forwarders.md", "kb/network/forwarders.md")
    git(kb_dir.parent, "commit", "-q", "-m", "rename")
    Indexer(kb_dir, index_dir).build()
    kb = KnowledgeBase(Indexer(kb_dir, index_dir).storage)
    assert kb.lookup("network/dns-forwarders", EVERYONE).redirect_to == "network/forwarders"


def test_aliases_and_any_case_resolve_to_the_id(kb: KnowledgeBase) -> None:
    assert kb.lookup("KB-0999", EVERYONE).redirect_to == "KB-2001"
    assert kb.lookup("kb-2001", EVERYONE).redirect_to == "KB-2001"
    assert kb.lookup("windows/update-0x80070005.md", EVERYONE).redirect_to == "KB-2001"


def test_duplicate_id_is_reported_and_the_first_file_kept(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    write(kb_dir, "zz/copy.md", "---\nid: KB-2001\ntitle: Copy\n---\nbody\n")
    report = indexer.update(["zz/copy.md"])
    assert "already used by windows/update-0x80070005.md" in str(report.errors[0])
    assert kb.lookup("KB-2001", EVERYONE).article.path == "windows/update-0x80070005.md"


def test_changing_an_id_frees_the_old_one(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    text = ARTICLES["email/outlook-prompt.md"].replace("id: KB-2002", "id: KB-2102")
    write(kb_dir, "email/outlook-prompt.md", text)
    indexer.update(["email/outlook-prompt.md"])
    assert kb.lookup("KB-2102", EVERYONE).article is not None
    assert kb.lookup("KB-2002", EVERYONE).article is None


def test_reconcile_catches_changes_made_while_stopped(
    indexer: Indexer, kb_dir: Path, index_dir: Path
) -> None:
    write(
        kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + "\nwhilestopped\n"
    )
    write(kb_dir, "new/one.md", "---\nid: KB-3001\n---\nnewwhilestopped\n")
    (kb_dir / "printing/spooler.md").unlink()
    restarted = Indexer(kb_dir, index_dir)
    report = restarted.reconcile()
    assert not report.full_build
    assert (report.added, report.updated, report.deleted) == (1, 1, 1)
    kb = KnowledgeBase(restarted.storage)
    assert ids_for(kb, "whilestopped") == ["KB-2002"]
    assert ids_for(kb, "newwhilestopped") == ["KB-3001"]
    assert restarted.reconcile().changed == 0  # a second pass finds nothing to do


def test_crash_during_build_leaves_the_live_index_alone(
    indexer: Indexer, kb: KnowledgeBase, index_dir: Path
) -> None:
    live = indexer.storage.current_name()

    def crash(done: int, total: int) -> None:
        if done == 3:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        indexer.build(progress=crash)
    assert indexer.storage.current_name() == live
    assert kb.stats()["documents"] == 5
    generations = [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")]
    assert generations == [live]  # the half-built one was removed


def test_replaced_documents_never_come_back(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    words = ["quasar", "pulsar", "nebula", "magnetar"]
    for word in words:  # several commits, so Whoosh merges segments in between
        write(
            kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + f"\n{word}\n"
        )
        indexer.update(["email/outlook-prompt.md"])
        assert kb.stats()["documents"] == 5
    assert ids_for(kb, "quasar") == []
    assert ids_for(kb, "magnetar") == ["KB-2002"]


def test_rebuild_swaps_in_a_new_generation(indexer: Indexer, kb: KnowledgeBase) -> None:
    before = indexer.storage.current_name()
    indexer.build()
    assert indexer.storage.current_name() != before
    assert kb.stats()["documents"] == 5  # the searcher follows the swap


def test_index_from_another_schema_version_is_rebuilt(
    indexer: Indexer, kb_dir: Path, index_dir: Path
) -> None:
    generation = indexer.storage.current()
    state = json.loads((generation.path / STATE).read_text())
    generation.write_state(**(state | {"schema_version": -1}))
    assert Indexer(kb_dir, index_dir).reconcile().full_build


def test_git_history_gives_author_and_commit(kb: KnowledgeBase) -> None:
    article = kb.lookup("KB-2001", EVERYONE).article
    assert article["author"] == "Ada Author"
    assert len(article["commit"]) == 40
    assert article["uncommitted"] is False


def test_uncommitted_edit_is_marked_and_commit_clears_it(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    write(kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + "\nmore\n")
    indexer.update(["email/outlook-prompt.md"])
    assert kb.lookup("KB-2002", EVERYONE).article["uncommitted"] is True
    git(
        kb_dir.parent,
        "commit",
        "-q",
        "-am",
        "Explain more",
        "--author",
        "Bo Builder <bo@example.com>",
    )
    indexer.sync_git()
    article = kb.lookup("KB-2002", EVERYONE).article
    assert article["uncommitted"] is False
    assert article["author"] == "Bo Builder"


def test_folder_outside_git_uses_file_times(tmp_path: Path) -> None:
    kb_dir = tmp_path / "plain"
    write(kb_dir, "a.md", "---\nid: A-1\naudience: public\n---\nplain folder\n")
    indexer = Indexer(kb_dir, tmp_path / "ix")
    indexer.build()
    article = KnowledgeBase(indexer.storage).lookup("A-1", EVERYONE).article
    assert article["author"] is None
    assert article.updated.startswith("20")


def test_rename_seen_as_two_batches_still_redirects(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    (kb_dir / "network/dns-forwarders.md").rename(kb_dir / "network/forwarders.md")
    indexer.update(["network/dns-forwarders.md"])  # the deletion arrives first
    indexer.update(["network/forwarders.md"])  # the creation in the next batch
    assert kb.lookup("network/dns-forwarders", EVERYONE).redirect_to == "network/forwarders"


def test_a_searcher_on_a_replaced_commit_still_shows_its_results(
    indexer: Indexer, kb_dir: Path
) -> None:
    """A request that opened the index just before a save finishes with the commit it
    opened: the save merges segments and removes the old files, which must not break the
    results being shown (under load this was an occasional 500 on /api/search)."""
    generation, searcher = indexer.storage.open_searcher()
    try:
        before = set(generation.path.iterdir())
        for n in range(3):
            write(kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + f"{n}\n")
            indexer.update(["email/outlook-prompt.md"])
        assert before - set(generation.path.iterdir()), "no segment file was removed"
        titles = {searcher.stored_fields(doc)["title"] for doc in range(searcher.doc_count_all())}
        assert "Windows Update fails with 0x80070005" in titles
    finally:
        searcher.close()


def test_a_replaced_commit_keeps_every_column_it_was_opened_with(
    indexer: Indexer, kb_dir: Path
) -> None:
    """What ranking reads per document (update times, content hashes, field lengths) is
    read whole from a commit whose files a save removed meanwhile: a column read after its
    removal used to come back empty (documents with no update time, content hashes from
    another segment, which failed the meaning vectors' writer under load)."""
    write(
        kb_dir, "email/new-profile.md", ARTICLES["email/outlook-prompt.md"].replace("KB-", "KB-9")
    )
    indexer.update(["email/new-profile.md"])  # a second, small segment a save will merge away
    generation, searcher = indexer.storage.open_searcher()
    try:
        hashes = live_hashes(searcher)
        before = set(generation.path.iterdir())
        for n in range(3):
            write(kb_dir, "email/outlook-prompt.md", ARTICLES["email/outlook-prompt.md"] + f"{n}\n")
            indexer.update(["email/outlook-prompt.md"])
        assert before - set(generation.path.iterdir()), "no segment file was removed"
        snapshot = Snapshot(searcher)
        assert (snapshot.updated > 0).all() and (snapshot.updated < 2**62).all()
        assert all(len(snapshot.norms[name]) == searcher.doc_count_all() for name in snapshot.norms)
        assert live_hashes(searcher) == hashes
        docs = np.arange(searcher.doc_count_all())
        assert set(snapshot.content_hashes(docs[snapshot.live])) == set(hashes)
    finally:
        searcher.close()


def test_segments_that_saves_leave_stay_few(
    indexer: Indexer, kb: KnowledgeBase, kb_dir: Path
) -> None:
    """Saves of many files at once leave segments a save's merge does not take; quiet
    merges (capped, repeated while the KB is quiet) fold them in until one or two are left."""
    for batch in range(12):  # each more than a save merges
        names = [f"saves/b{batch}-{n}.md" for n in range(25)]
        for n, name in enumerate(names):
            write(
                kb_dir,
                name,
                f"---\nid: S-{batch}-{n}\n---\nsave{chr(97 + batch)}{chr(97 + n)}word\n",
            )
        indexer.update(names)
    assert len(kb.snapshot().leaves) == 13
    merges = 1
    while indexer.merge_segments():  # each capped; the watcher repeats them while quiet
        merges += 1
    assert merges > 1
    assert len(kb.snapshot().leaves) <= 2
    assert ids_for(kb, "savehdword") == ["S-7-3"]
    assert kb.stats()["documents"] == 5 + 300
