"""kb-search indexer: Markdown files in a git folder -> a Whoosh index -> search results.

Knows nothing of HTTP. The server uses only what is exported here.

Names are imported on first use (PEP 562), so that ``kb lint`` in a pre-commit hook does
not pay for loading Whoosh and the search stack it never touches.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# module -> the names it exports here
_MODULES: dict[str, tuple[str, ...]] = {
    "articles": ("ARTICLE_TYPES", "AUDIENCES", "asset_file"),
    "authoring": ("AuthoringError", "create_article"),
    "caching": ("BoundedCache",),
    "confidence": ("MATCHES",),
    "errors": ("ArticleError", "IndexUnavailable", "SearchRequestError"),
    "export": ("ExportError", "export_site"),
    "explain": ("FORM_KINDS", "Explanation", "TermPart"),
    "gitmeta": ("Change", "article_changes"),
    "linter": ("Finding", "lint", "lint_file"),
    "markdown": ("STEPS_HEADING", "RenderedBody", "highlight", "pygments_css", "render"),
    "search": ("ArticleRecord", "CatalogueEntry", "Hit", "KnowledgeBase", "Lookup",
               "SearchRequest", "SearchResults"),
    "rewrite": ("half_typed",),
    "status": ("WriterStatus", "read_status"),
    "storage": ("IndexBusy", "IndexStorage"),
    "suggestions": ("Completion",),
    "sync": ("SyncError", "SyncResult", "Syncer", "sync_clone"),
    "watcher": ("Watcher",),
    "writer": ("Indexer", "Report"),
}  # fmt: skip
# exported name -> (module, name in that module)
_EXPORTS = {name: (module, name) for module, names in _MODULES.items() for name in names}
_EXPORTS["front_matter_schema"] = ("frontmatter", "json_schema")
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(import_module(f".{module}", __name__), attribute)
    globals()[name] = value  # later lookups skip this function
    return value
