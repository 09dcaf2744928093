"""kb-search indexer: Markdown files in a git folder -> a Whoosh index -> search results.

Knows nothing of HTTP. The server uses only what is exported here.
"""

from .articles import ARTICLE_TYPES, AUDIENCES
from .authoring import AuthoringError, create_article
from .errors import ArticleError, IndexUnavailable, SearchRequestError
from .export import ExportError, export_site
from .frontmatter import json_schema as front_matter_schema
from .gitmeta import Change, article_changes
from .linter import Finding, lint, lint_file
from .markdown import STEPS_HEADING, RenderedBody, highlight, pygments_css, render
from .search import (
    ArticleRecord,
    CatalogueEntry,
    Hit,
    KnowledgeBase,
    Lookup,
    SearchRequest,
    SearchResults,
)
from .storage import IndexBusy, IndexStorage
from .suggestions import Completion
from .watcher import Watcher
from .writer import Indexer, Report

__all__ = [
    "ARTICLE_TYPES",
    "AUDIENCES",
    "STEPS_HEADING",
    "ArticleError",
    "ArticleRecord",
    "AuthoringError",
    "CatalogueEntry",
    "Change",
    "Completion",
    "ExportError",
    "Finding",
    "Hit",
    "IndexBusy",
    "IndexStorage",
    "IndexUnavailable",
    "Indexer",
    "KnowledgeBase",
    "Lookup",
    "RenderedBody",
    "Report",
    "SearchRequest",
    "SearchRequestError",
    "SearchResults",
    "Watcher",
    "article_changes",
    "create_article",
    "export_site",
    "front_matter_schema",
    "highlight",
    "lint",
    "lint_file",
    "pygments_css",
    "render",
]
