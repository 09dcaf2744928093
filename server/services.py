"""What the views need from the indexer, attached to the app once by the factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from indexer import ArticleError, Indexer, KnowledgeBase, Syncer, Watcher, read_status

from .activity import Activity
from .signins import SignIns


@dataclass
class Services:
    kb: KnowledgeBase
    indexer: Indexer | None = None  # present when this process also writes the index
    watcher: Watcher | None = None  # present when this process watches kb_dir
    activity: Activity | None = None  # search events and feedback; set by the app factory
    syncer: Syncer | None = None  # pulls kb_dir's clone (interval, webhook); read replicas
    signins: SignIns | None = None  # browsers' sessions; set by the app factory

    def close(self) -> None:
        """The process is stopping (kb serve, a gunicorn worker): write the queued searches and
        clicks first (bounded, see Activity.close), then stop pulling and watching."""
        if self.activity is not None:
            self.activity.close()
            self.activity.database.close()
        if self.syncer is not None:
            self.syncer.stop()
        if self.watcher is not None:
            self.watcher.stop()

    def problems(self) -> dict[str, ArticleError]:
        """Files that could not be indexed, by path. A process that writes the index knows
        them; a gunicorn worker reads what `kb watch` publishes beside the index."""
        if self.indexer is not None:
            return dict(self.indexer.problems)
        writer = read_status(self.kb.storage.index_dir)
        return {error.path: error for error in writer.problem_errors()} if writer else {}


def services() -> Services:
    return current_app.extensions["kb"]
