"""The open-file limit a server process needs, raised before it serves (`kb serve`, and
gunicorn's master before it starts the workers, which inherit it)."""

from __future__ import annotations

import logging
import resource

from indexer import IndexStorage

from .config import Config

log = logging.getLogger("kb")

MAX_OPEN_FILES = 1 << 20


def open_files_needed(config: Config) -> int:
    """Descriptors `kb serve` may hold: one per connection, and every segment file of the
    live index for each request thread (Whoosh readers cannot be shared between threads,
    so each thread's searcher opens its own), with room for the index to grow before a
    merge, the log and git."""
    generation = IndexStorage(config.index_dir).current()
    try:
        files = sum(1 for _ in generation.path.iterdir()) if generation is not None else 0
    except OSError:  # not built yet, or being replaced
        files = 0
    return config.connection_limit + 256 + config.threads * 2 * max(files, 128)


def allow_open_files(wanted: int) -> None:
    """Raise this process's open-file limit to the hard limit: distributions start services
    at 1,024, and a large index with many request threads holds thousands of files; a limit
    reached fails requests where a higher one costs nothing (the server polls, it never
    uses select()). Warns when even the hard limit is below ``wanted``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if max(soft, target) < wanted:
        log.warning("open-file limit %d is below what this index may need (%d)", target, wanted)
