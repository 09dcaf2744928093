"""Meaning vectors kept beside the index, by article content.

Encoding an article (:mod:`indexer.text.meaning`) takes about 13 ms on one core, several times
what indexing its words takes, so vectors are not part of the index documents: a build or
a save makes the words searchable first and the vectors follow (:func:`fill`). They are
kept in one SQLite file in the index folder, shared by every generation and keyed by the
article's content hash, so a rebuild (an upgrade, a repair, ``kb index --rebuild``)
encodes only what changed. Search re-ranks by the vectors there are; an article whose
vector is not written yet ranks by its words alone until it is.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..search.caching import BoundedCache
from ..text.meaning import DIMENSIONS, ENCODER_VERSION, MAX_TOKENS, encoder, from_bytes, to_bytes

log = logging.getLogger(__name__)

STORE_FILE = "meaning.sqlite3"
# what the vectors were made with: another encoder's vectors are not comparable
SIGNATURE = f"all-minilm-l6-v2 int8 v{ENCODER_VERSION} {MAX_TOKENS} tokens"
BATCH = 64  # vectors written per transaction
PARALLEL_FROM = 200  # articles to encode before worker processes are worth starting
_READ = BoundedCache(max_bytes=64 << 20)  # (store, content hash) -> vector: they never change


class VectorStore:
    """The vectors of one index folder, safe to share between threads and processes.

    Readers keep a read-only connection per thread, which holds no file open for writing:
    the disk can still be remounted read-only, and readers never write. Writers open a
    connection for each batch and close it after (SQLite's locks order them)."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / STORE_FILE
        self._local = threading.local()

    def _reader(self) -> sqlite3.Connection | None:
        """This thread's read-only connection; None while no vector has been written."""
        found: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if found is None and self.path.exists():
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            found = self._local.connection = sqlite3.connect(uri, uri=True, timeout=5)
        return found

    @contextlib.contextmanager
    def _writer(self) -> Iterator[sqlite3.Connection]:
        """A connection to write with (committed when the block ends), the store created
        on first use; vectors made by another encoder are dropped: they are not comparable."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            with connection:
                connection.execute("CREATE TABLE IF NOT EXISTS about (signature TEXT)")
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (content_hash TEXT PRIMARY KEY,"
                    " vector BLOB NOT NULL) WITHOUT ROWID"
                )
                signatures = {row[0] for row in connection.execute("SELECT * FROM about")}
                if signatures != {SIGNATURE}:
                    connection.execute("DELETE FROM vectors")
                    connection.execute("DELETE FROM about")
                    connection.execute("INSERT INTO about VALUES (?)", (SIGNATURE,))
                yield connection
        finally:
            connection.close()

    def get(self, hashes: Sequence[str]) -> np.ndarray:
        """The vectors of articles with these content hashes, one row each (zeros where
        there is none yet)."""
        found = np.zeros((len(hashes), DIMENSIONS), dtype=np.float32)
        wanted: dict[str, list[int]] = {}
        for row, digest in enumerate(hashes):
            cached = _READ.get((self.path, digest))
            if cached is not None:
                found[row] = cached
            else:
                wanted.setdefault(digest, []).append(row)
        connection = self._reader() if wanted else None
        if connection is None:
            return found
        marks = ",".join("?" * len(wanted))
        try:
            rows = connection.execute(
                f"SELECT content_hash, vector FROM vectors WHERE content_hash IN ({marks})",
                list(wanted),
            ).fetchall()
        except sqlite3.Error as error:  # not created yet, or a writer holds it too long
            log.debug("meaning vectors unavailable: %s", error)
            return found
        for digest, raw in rows:
            vector = from_bytes(raw, 1)[0].astype(np.float32)
            _READ.put((self.path, digest), vector, vector.nbytes + 100)
            found[wanted[digest]] = vector
        return found

    def missing(self, hashes: Iterable[str]) -> set[str]:
        """Those of ``hashes`` that have no vector yet."""
        with self._writer() as connection:
            have = {row[0] for row in connection.execute("SELECT content_hash FROM vectors")}
        return set(hashes) - have

    def put(self, vectors: Iterable[tuple[str, bytes]]) -> None:
        with self._writer() as connection:
            connection.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", vectors)

    def keep_only(self, hashes: set[str]) -> int:
        """Delete the vectors of content no article has any more; how many went."""
        with self._writer() as connection:
            stored = {row[0] for row in connection.execute("SELECT content_hash FROM vectors")}
            gone = [(digest,) for digest in stored - hashes]
            connection.executemany("DELETE FROM vectors WHERE content_hash = ?", gone)
        return len(gone)


def _encode_all(texts: Sequence[str]) -> list[bytes]:
    """Worker process: vectors of ``texts``, as stored."""
    return [to_bytes(encoder().encode(text)) for text in texts]


def fill(
    store: VectorStore,
    texts: Callable[[set[str]], dict[str, str]],
    hashes: set[str],
    workers: int = 1,
) -> int:
    """Write the vectors ``store`` lacks among ``hashes`` (the live articles' content
    hashes); ``texts`` gives the meaning text of the ones asked for. Many are encoded in
    ``workers`` processes. Returns how many were written."""
    missing = store.missing(hashes)
    if not missing:
        return 0
    started = time.perf_counter()
    wanted = texts(missing)
    digests = sorted(wanted)
    chunks = [digests[i : i + BATCH] for i in range(0, len(digests), BATCH)]
    if workers > 1 and len(digests) >= PARALLEL_FROM:
        encoder()  # the encoder file is built here once, not by every worker at the same time
        context = multiprocessing.get_context("spawn")  # see bulk.py: never fork a server
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            done = pool.map(_encode_all, [[wanted[d] for d in chunk] for chunk in chunks])
            for chunk, vectors in zip(chunks, done, strict=True):
                store.put(zip(chunk, vectors, strict=True))
    else:
        for chunk in chunks:
            store.put(zip(chunk, _encode_all([wanted[d] for d in chunk]), strict=True))
    log.info("meaning vectors: %d written (%.1fs)", len(digests), time.perf_counter() - started)
    return len(digests)
