"""Every front-matter field of an article, in one place: what it holds and where it goes.

Everything that names a field is derived from :data:`FIELDS`: parsing
(:mod:`indexer.documents.articles`), the checks ``kb lint`` runs and the JSON Schema editors
validate against (:mod:`indexer.documents.frontmatter`), the index documents and their facet
columns (:mod:`indexer.documents.schema`), facet counts and filters, the ``system:``-style
query filters, the URL parameters, the API's JSON and its OpenAPI description, and the
results and article pages. Adding a field is one entry here, plus its tests.

A handful of fields also have a job of their own, written where it is done: ids and aliases
make permalinks, ``error_codes`` are searched as identifiers, ``tickets`` link resolutions,
``owner`` and ``review_by`` feed the review reports, and a ``draft`` is not indexed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "list", "date", "choice", "flag"]

ARTICLE_TYPES = ("resolution", "config-note")
# from least to most restricted: who may read one audience may read those before it
AUDIENCES = ("public", "internal")
DEFAULT_AUDIENCE = "internal"  # of an article whose front matter names none
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~/-]{0,199}$")


@dataclass(frozen=True)
class Field:
    """One front-matter key."""

    name: str  # as written in front matter; also its name in the index, the record and JSON
    kind: Kind
    description: str  # for authors: lint messages and the JSON Schema
    label: str  # for readers: the facet heading and the article page
    required: bool = False  # missing: a lint error
    recommended: bool = False  # missing: a lint warning
    choices: tuple[str, ...] = ()
    pattern: str = ""
    facet: bool = False  # counted beside results, and a filter
    param: str = ""  # a facet's URL parameter and query filter: ?system=, system:
    words: bool = False  # its values are searched as words too (the index's meta field)


# As kb/README.md (the authoring guide) states them: required keys fail lint; an id is only
# recommended (without one the permalink is the path, which changes if the file moves).
FIELDS: tuple[Field, ...] = (
    Field(
        "id",
        "text",
        "Stable permalink id, e.g. KB-1042. Never reuse or change it; list old ids in aliases.",
        "Id",
        recommended=True,
        pattern=ID_PATTERN.pattern,
    ),
    Field(
        "title",
        "text",
        "What the reader searches for: the symptom or the setting.",
        "Title",
        required=True,
    ),
    Field(
        "type",
        "choice",
        "resolution (symptom, cause, fix) or config-note (how a system is set up).",
        "Type",
        required=True,
        choices=ARTICLE_TYPES,
        facet=True,
        param="type",
    ),
    Field(
        "systems",
        "list",
        "Products and services it is about.",
        "Systems",
        required=True,
        facet=True,
        param="system",
        words=True,
    ),
    Field(
        "audience",
        "choice",
        "public: tier 1 and everyone; internal (the default): tier 2 and above.",
        "Audience",
        choices=AUDIENCES,
    ),
    Field(
        "owner",
        "text",
        "Who keeps this article right (a user name or team).",
        "Owner",
        required=True,
    ),
    Field(
        "tags",
        "list",
        "Topics, lowercase with hyphens.",
        "Tags",
        facet=True,
        param="tag",
        words=True,
    ),
    Field(
        "product",
        "list",
        "The product lines it is about, as customers name them (Northwind POS).",
        "Product",
        facet=True,
        param="product",
        words=True,
    ),
    Field(
        "error_codes",
        "list",
        "Codes exactly as shown to users: 0x80070005, ORA-12154.",
        "Error codes",
    ),
    Field("tickets", "list", "Tickets this article resolved: INC-20431.", "Tickets"),
    Field("aliases", "list", "Former ids and other names that should lead here.", "Aliases"),
    Field(
        "draft",
        "flag",
        "true while the article is not ready: kb new writes it. A draft is not indexed, so no "
        "reader finds it; remove the line (or set false) to publish.",
        "Draft",
    ),
    Field(
        "reviewed",
        "date",
        "When the content was last checked (YYYY-MM-DD).",
        "Reviewed",
        required=True,
    ),
    Field(
        "review_by",
        "date",
        "When it must be checked again (YYYY-MM-DD).",
        "Review by",
        required=True,
    ),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
KNOWN_FIELDS = frozenset(BY_NAME)
# identity is kept in index fields of its own; the rest of the front matter rides in each
# document's stored record, and is what the API and the article page list as details
DETAILS: tuple[Field, ...] = tuple(
    f for f in FIELDS if f.name not in ("id", "title", "type", "audience", "draft")
)
FACETS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.facet)
# facets with many values per article; their filters take several values (?tag=a&tag=b)
LIST_FACETS: tuple[Field, ...] = tuple(f for f in FIELDS if f.facet and f.kind == "list")
# the fields whose values are searched as words too, in the index's meta field
META_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.words)
# a filter typed in a query, by either spelling (tag: or tags:) -> the field it filters
FILTER_ALIASES: dict[str, str] = {
    alias: f.name for f in FIELDS if f.facet for alias in dict.fromkeys((f.param, f.name))
}


def readers_of(audience: str) -> frozenset[str]:
    """The audiences someone who may read ``audience`` may read: internal includes public."""
    return frozenset(AUDIENCES[: AUDIENCES.index(audience) + 1])


def fingerprint() -> str:
    """Changes whenever a field does: part of the index's schema version, so an index
    written before a field was added is rebuilt rather than missing it."""
    return hashlib.blake2b(repr(FIELDS).encode(), digest_size=4).hexdigest()
