"""Full builds with worker processes give the same index as one process, in bounded segments."""

from pathlib import Path

import pytest

from indexer import Indexer, IndexStorage, KnowledgeBase, SearchRequest
from indexer.writing import bulk

from ..fixtures import write

EVERYONE = frozenset({"public", "internal"})


def _kb(root: Path, count: int) -> Path:
    kb = root / "kb"
    for number in range(count):
        write(
            kb,
            f"area{number % 3}/article-{number:03d}.md",
            f"---\nid: KB-{number}\ntitle: Printer {number} drops jobs\n---\n"
            f"## Symptoms\n\nSpooler error 0x{number:04X} on queue q{number}.\n",
        )
    # a broken file and, in another worker's chunk, a second file claiming an early id
    write(kb, "zz/copy-of-one.md", "---\nid: KB-1\ntitle: copy\n---\ncopy of one\n")
    write(kb, "zz/broken.md", "---\ntitle: [oops\n---\n")
    return kb


def _documents(index_dir: Path) -> dict[str, str]:
    kb = KnowledgeBase(IndexStorage(index_dir))
    hits = kb.search(SearchRequest(q="spooler", audiences=EVERYONE, limit=100)).hits
    return {hit.id: hit.path for hit in hits}


@pytest.fixture
def parallel_from_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use worker processes even for this small KB."""
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 2)


@pytest.mark.usefixtures("parallel_from_two")
def test_parallel_build_matches_serial_build(tmp_path: Path) -> None:
    kb = _kb(tmp_path, 60)
    serial = Indexer(kb, tmp_path / "serial", workers=1).build()
    parallel_indexer = Indexer(kb, tmp_path / "parallel", workers=2)
    parallel = parallel_indexer.build()

    assert parallel.added == serial.added == 60
    assert sorted(map(str, parallel.errors)) == sorted(map(str, serial.errors))
    assert {e.path for e in parallel.errors} == {"zz/broken.md", "zz/copy-of-one.md"}
    assert set(parallel_indexer.problems) == {"zz/broken.md", "zz/copy-of-one.md"}
    documents = _documents(tmp_path / "parallel")
    assert documents == _documents(tmp_path / "serial")
    assert documents["KB-1"] == "area1/article-001.md"  # the first file keeps its id
    assert len(documents) == 60


@pytest.mark.usefixtures("parallel_from_two")
def test_progress_reaches_every_article(tmp_path: Path) -> None:
    kb = _kb(tmp_path, 30)
    seen: list[tuple[int, int]] = []
    Indexer(kb, tmp_path / "index", workers=2).build(lambda done, total: seen.append((done, total)))
    assert seen[-1] == (32, 32)


def test_segments_are_cut_to_bound_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "SEGMENT_BYTES", 20_000)  # a few articles' postings
    kb = _kb(tmp_path, 40)
    Indexer(kb, tmp_path / "index", workers=1).build()
    kb_reader = KnowledgeBase(IndexStorage(tmp_path / "index"))
    assert len(kb_reader.snapshot().leaves) > 3
    assert len(_documents(tmp_path / "index")) == 40
