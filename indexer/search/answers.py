"""What callers ask the knowledge base, and the shapes of what it answers.

Plain values (frozen dataclasses) with no index behind them: the server builds a
:class:`SearchRequest` from a URL, the knowledge base validates it and answers with
:class:`SearchResults` of :class:`Hit`, or with :class:`ArticleRecord` for one article.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..documents.fields import LIST_FACETS
from ..errors import SearchRequestError
from .explain import Explanation

MAX_LIMIT = 100
MAX_RESULT_WINDOW = 10_000  # page * limit: deep paging costs memory, nobody reads page 900
MAX_FILTERS = 20  # system=, tag= and the like together: each is a mask over every document
MAX_FILTER_LENGTH = 200
SORTS = ("relevance", "updated")


@dataclass(frozen=True)
class SearchRequest:
    q: str
    audiences: frozenset[str]
    page: int = 1
    limit: int = 10
    type: str | None = None
    # (field, values) for the list facets filtered by (systems, tags): articles with every value
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sort: str = "relevance"
    folder: str = ""  # only articles in this folder of the KB (and below it): "windows"
    prefix: bool = True  # the last word may be half-typed (the search box), see rewrite.py
    explain: bool = False  # each hit carries the parts of its score (see explain.py)

    @property
    def filters_on(self) -> int:
        """How many filters narrow the results (type, each list facet, folder): what the
        page counts, and offers to clear."""
        return len(self.filters) + bool(self.type) + bool(self.folder)

    def validate(self) -> None:
        """Raise :class:`SearchRequestError` naming the first bad parameter."""
        if not 1 <= self.limit <= MAX_LIMIT:
            raise SearchRequestError(f"limit must be between 1 and {MAX_LIMIT}")
        if self.page < 1:
            raise SearchRequestError("page must be 1 or more")
        if self.page * self.limit > MAX_RESULT_WINDOW:
            raise SearchRequestError(f"page * limit must not exceed {MAX_RESULT_WINDOW}")
        if self.sort not in SORTS:
            raise SearchRequestError(f"sort must be one of: {', '.join(SORTS)}")
        values = [value for _, values in self.filters for value in values]
        if len(values) > MAX_FILTERS:
            names = " and ".join(f.param for f in LIST_FACETS)
            raise SearchRequestError(f"at most {MAX_FILTERS} {names} filters at once")
        if unknown := {name for name, _ in self.filters} - {f.name for f in LIST_FACETS}:
            raise SearchRequestError(f"no facet to filter by: {', '.join(sorted(unknown))}")
        if len(self.folder) > MAX_FILTER_LENGTH:
            raise SearchRequestError(f"folder is longer than {MAX_FILTER_LENGTH} characters")
        if any(len(value) > MAX_FILTER_LENGTH for value in values):
            raise SearchRequestError(
                f"a filter value is longer than {MAX_FILTER_LENGTH} characters"
            )


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    path: str
    type: str
    audience: str
    snippet: str
    section_anchor: str
    section_heading: str
    score: float
    updated: str
    facets: dict[str, tuple[str, ...]]  # each list facet's values (tags, systems)
    summary: str = ""  # the article's opening words, for readers who want plain language
    steps: tuple[str, ...] = ()  # first lines of its resolution steps
    explain: Explanation | None = None  # why it scores what it does, if the request asked


@dataclass(frozen=True)
class CatalogueEntry:
    """What review reports need of every article, read from columns (no stored records)."""

    id: str
    path: str
    owner: str
    review_by: str
    updated: str
    audience: str


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    page: int
    limit: int
    hits: tuple[Hit, ...]
    facets: dict[str, list[tuple[str, int]]]
    took_ms: float
    corrected_query: str | None = None  # "did you mean": the query with misspellings fixed
    match: str = "none"  # how well the best result matches: strong, weak or none
    not_found: tuple[str, ...] = ()  # codes and identifiers in the query no article holds
    exact: str | None = None  # the id of the article the query names exactly, if any

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


@dataclass(frozen=True)
class ArticleRecord:
    """Everything the article page shows, from the index (never from the live file)."""

    id: str
    path: str
    title: str
    type: str
    audience: str
    updated: str
    tickets: tuple[str, ...]
    data: dict[str, Any] = field(repr=False)
    version: str = ""  # content hash of the indexed file: changes whenever it is saved

    def __getitem__(self, key: str) -> Any:
        return self.data.get(key)


@dataclass(frozen=True)
class Lookup:
    """Result of resolving a reference: the article, or the canonical id to redirect to."""

    article: ArticleRecord | None = None
    redirect_to: str | None = None
