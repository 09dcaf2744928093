"""MkDocs hook: article HTML in the static site is sanitised exactly as on kb-search's pages,
so a <script> or javascript: link in an article runs in neither (used by mkdocs.yml; ``kb
export`` sanitises the same way in its own plugin, indexer/export_links.py)."""

from __future__ import annotations

from typing import Any

from indexer.markdown import sanitize


def on_page_content(html: str, **_kwargs: Any) -> str:
    return sanitize(html)
