"""What the views need from the indexer, attached to the app once by the factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from indexer import Indexer, KnowledgeBase, Syncer, Watcher

from .activity import Activity


@dataclass
class Services:
    kb: KnowledgeBase
    indexer: Indexer | None = None  # present when this process also writes the index
    watcher: Watcher | None = None  # present when this process watches kb_dir
    activity: Activity | None = None  # search events and feedback; set by the app factory
    syncer: Syncer | None = None  # pulls kb_dir's clone (interval, webhook); read replicas


def services() -> Services:
    return current_app.extensions["kb"]
