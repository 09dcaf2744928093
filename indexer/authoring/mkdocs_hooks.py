"""MkDocs hooks: article HTML in the static site is sanitised exactly as on kb-search's pages,
so a <script> or javascript: link in an article runs in neither, and headings get the
server's ids (used by mkdocs.yml; ``kb export`` does the same in its own plugin,
indexer/authoring/export_links.py)."""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig

from indexer.authoring.export_anchors import ServerHeadingIds
from indexer.documents.markdown import sanitize


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    config.markdown_extensions.append(ServerHeadingIds())
    return config


def on_page_content(html: str, **_kwargs: Any) -> str:
    return sanitize(html)
