"""kb-search indexer: Markdown files in a git folder -> a Whoosh index -> search results.

Knows nothing of HTTP. The server uses only what is exported here.

Names are imported on first use (PEP 562), so that ``kb lint`` in a pre-commit hook does
not pay for loading Whoosh and the search stack it never touches. The imports below are
the one list of what is exported: a type checker reads them as written, and at run time
:func:`_exports` reads the same lines to know where each name lives.
"""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .authoring.export import ExportError, export_site
    from .authoring.lint import Finding, lint, lint_file
    from .authoring.new import AuthoringError, create_article
    from .authoring.new import folders as kb_folders
    from .documents.articles import asset_file
    from .documents.fields import (
        ARTICLE_TYPES,
        AUDIENCES,
        DEFAULT_AUDIENCE,
        DETAILS,
        FIELDS,
        LIST_FACETS,
        Field,
        readers_of,
    )
    from .documents.frontmatter import json_schema as front_matter_schema
    from .documents.gitmeta import Change, article_changes
    from .documents.markdown import RenderedBody, highlight, pygments_css, render
    from .errors import ArticleError, IndexUnavailable, SearchRequestError
    from .search.answers import (
        ArticleRecord,
        CatalogueEntry,
        Hit,
        Lookup,
        SearchRequest,
        SearchResults,
    )
    from .search.caching import BoundedCache
    from .search.confidence import MATCHES
    from .search.explain import FORM_KINDS, Explanation, TermPart
    from .search.knowledge_base import KnowledgeBase
    from .search.rewrite import half_typed
    from .search.suggestions import Completion
    from .text.analysis import terms as index_terms
    from .writing.status import WriterStatus, read_status
    from .writing.storage import IndexBusy, IndexStorage
    from .writing.sync import Syncer, SyncError, SyncResult, sync_clone
    from .writing.watcher import Watcher
    from .writing.writer import Indexer, Report


def _exports() -> dict[str, tuple[str, str]]:
    """exported name -> (module, its name there), from the ``TYPE_CHECKING`` imports above."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        if node.test.id == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: (f".{node.module}", alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


_EXPORTS = _exports()
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(import_module(module, __name__), attribute)
    globals()[name] = value  # later lookups skip this function
    return value
