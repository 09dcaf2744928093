"""Where indexes live on disk: generations, the CURRENT pointer, and the writer lock.

A full rebuild writes a new generation directory beside the live one and then replaces the
one-line ``CURRENT`` file atomically, so readers only ever see a complete index. The previous
generation is kept until the next swap, for searchers that still have it open. Incremental
commits go to the live generation; Whoosh's own commit (segments first, table of contents
last) is atomic, so a crash mid-batch leaves the previous commit readable.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import Index
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from .. import whoosh_internals
from ..documents.schema import SCHEMA_VERSION, SEARCHED_COLUMNS, build_schema
from ..errors import IndexUnavailable
from ..whoosh_internals import open_commit

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
STATE = "state.json"
_GENERATION_PREFIX = "gen-"
_SEGMENT_FILE_PREFIX = "MAIN_"


class IndexBusy(Exception):
    """Another process holds the writer lock for longer than we were willing to wait."""


@dataclass(frozen=True)
class Generation:
    name: str
    path: Path

    def read_state(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / STATE).read_text())
        except (OSError, ValueError):
            return {}

    def write_state(self, **changes: Any) -> None:
        state = self.read_state() | changes
        tmp = self.path / f".{STATE}.tmp"
        tmp.write_text(json.dumps(state, indent=1, default=str))
        os.replace(tmp, self.path / STATE)

    def open(self) -> Index:
        return whoosh_index.open_dir(str(self.path), schema=build_schema())

    def segment_files(self) -> dict[str, int]:
        """Name -> size of every segment file now: recorded in the state after each commit."""
        found = {}
        for entry in os.scandir(self.path):
            if entry.name.startswith(_SEGMENT_FILE_PREFIX) and entry.name != "MAIN_WRITELOCK":
                found[entry.name] = entry.stat().st_size
        return found

    def check_files(self) -> None:
        """Raise IndexUnavailable if a committed segment file has been cut short or grown.

        Segment files never change once written, and Whoosh reads most of them lazily, so
        a damaged postings file would otherwise surface as an odd error in the middle of
        a search instead of a rebuild.
        """
        for name, size in self.read_state().get("files", {}).items():
            try:
                actual = os.stat(self.path / name).st_size
            except FileNotFoundError:
                continue  # merged away since; a file the index still needs fails on open
            if actual != size:
                raise IndexUnavailable(
                    f"index {self.path} is damaged: {name} has {actual} bytes, not {size}"
                )


# Segments are written as separate files, not one compound file: Whoosh reads each part of a
# compound segment through an in-memory copy (BytesIO over its mmap) in every searcher, so
# eight request threads held eight copies of the index (1.8 GB RSS for 10,000 articles).
# Separate files are read with ordinary file reads and stay in the page cache.
WRITER_OPTIONS: dict[str, Any] = {"compound": False}


def index_writer(ix: Index, phrases: Sequence[str] = (), **options: Any) -> IndexWriter:
    """A writer for ``ix`` that writes segments as separate files, each with its rank file
    listing the documents of ``phrases`` too (see :mod:`indexer.whoosh_internals`)."""
    return whoosh_internals.index_writer(ix, phrases, **WRITER_OPTIONS, **options)


@contextlib.contextmanager
def _readable(generation: Generation) -> Iterator[None]:
    """Whoosh raises several unrelated types for a missing or damaged index: one for callers."""
    try:
        yield
    except Exception as exc:
        raise IndexUnavailable(f"index {generation.path} cannot be read: {exc}") from exc


class IndexStorage:
    """The index directory: which generation is live, and creating or swapping one."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def current_name(self) -> str | None:
        """The name in CURRENT (cheap enough to read on every request)."""
        try:
            return (self.index_dir / CURRENT).read_text().strip() or None
        except OSError:
            return None

    def current(self) -> Generation | None:
        """The live generation, or None if there is none yet."""
        name = self.current_name()
        if name is None or not name.startswith(_GENERATION_PREFIX):
            return None
        path = self.index_dir / name
        return Generation(name, path) if path.is_dir() else None

    def usable(self, kb_root: Path) -> Generation | None:
        """The live generation if it was built by this schema version for this kb root."""
        generation = self.current()
        if generation is None or not whoosh_index.exists_in(str(generation.path)):
            return None
        state = generation.read_state()
        if state.get("schema_version") != SCHEMA_VERSION:
            return None
        if state.get("kb_root") != str(kb_root.resolve()):
            return None
        return generation

    def _live(self) -> Generation:
        generation = self.current()
        if generation is None:
            raise IndexUnavailable(f"no index in {self.index_dir}: run `kb index` first")
        return generation

    def open_current(self) -> tuple[Generation, Index]:
        """The live generation, opened for writing. A damaged one raises IndexUnavailable."""
        generation = self._live()
        generation.check_files()
        with _readable(generation):
            ix = generation.open()
            ix.searcher().close()  # opening one reads every segment's terms and columns
        return generation, ix

    def open_searcher(self) -> tuple[Generation, Searcher]:
        """The live generation and a searcher on its newest commit."""
        generation = self._live()
        generation.check_files()
        with _readable(generation):
            ix = generation.open()
            searcher = ix.searcher()
        if not open_commit(ix, searcher, SEARCHED_COLUMNS):
            searcher.close()  # a writer removed this commit's files meanwhile: open anew
            raise IndexUnavailable(f"a commit of {generation.path} was replaced while opened")
        return generation, searcher

    def create_generation(self, kb_root: Path) -> tuple[Generation, Index]:
        """A new, empty generation directory (not yet live)."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        name = f"{_GENERATION_PREFIX}{time.time_ns():016x}"  # sorts by age
        generation = Generation(name, self.index_dir / name)
        generation.path.mkdir()
        ix = whoosh_index.create_in(str(generation.path), build_schema())
        generation.write_state(schema_version=SCHEMA_VERSION, kb_root=str(kb_root.resolve()))
        return generation, ix

    def swap(self, generation: Generation) -> None:
        """Make ``generation`` live, then delete all but it and the one it replaced."""
        previous = self.current_name()
        tmp = self.index_dir / f".{CURRENT}.tmp"
        tmp.write_text(generation.name + "\n")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.index_dir / CURRENT)
        keep = {generation.name, previous}
        for entry in self.index_dir.iterdir():
            if entry.name.startswith(_GENERATION_PREFIX) and entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)

    def remove_unfinished(self) -> None:
        """Delete generations newer than the live one: builds a crash (kill -9) cut short.
        Call with the write lock held, so no build of this or another process is running."""
        live = self.current_name() or ""
        for entry in self.index_dir.glob(f"{_GENERATION_PREFIX}*"):
            if entry.name > live and entry.is_dir():
                log.warning("removing %s, an index build that never finished", entry)
                shutil.rmtree(entry, ignore_errors=True)

    def discard(self, generation: Generation) -> None:
        shutil.rmtree(generation.path, ignore_errors=True)

    @contextlib.contextmanager
    def write_lock(self, timeout: float = 60.0) -> Iterator[None]:
        """One writer at a time across processes (``kb serve`` and ``kb index``, say).

        ``flock`` is released by the kernel when a process dies, so a crash leaves no stale lock.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / "write.lock", "a+") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexBusy(
                            f"another process is writing the index in {self.index_dir}"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
