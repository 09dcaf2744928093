"""The OpenAPI 3.1 description of the JSON API, served at ``/api/openapi.json``.

Written by hand, next to the views, and kept true by ``tests/server/test_openapi.py``: the
described operations must be exactly the app's ``/api`` routes and ``/healthz``, and real
responses must validate against the schemas below. What names article fields (hits' facets,
an article's details, the facet filters) is generated from the field registry.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from indexer import AUDIENCES, DETAILS, FORM_KINDS, LIST_FACETS, MATCHES, Field


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(optional: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    """An object schema; every property is required unless named in ``optional``."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
STRINGS = {"type": "array", "items": STRING}
SUMMARIES = {"type": "array", "items": {"$ref": "#/components/schemas/ArticleSummary"}}


def _field(field: Field) -> dict[str, Any]:
    """An article field's value in JSON: a list field's values, or one string."""
    return {**(STRINGS if field.kind == "list" else STRING), "description": field.description}


SCHEMAS: dict[str, Any] = {
    "Error": _obj(error=_obj(status=INTEGER, message=STRING)),
    "ExplainedTerm": _obj(
        term={**STRING, "description": "The term (each field names its own index term)."},
        part={
            "type": "boolean",
            "description": "A part of an identifier (access of ERROR_ACCESS_DENIED).",
        },
        weight={**NUMBER, "description": "1 for a whole word; less for a part or a pair."},
        tf={**NUMBER, "description": "Weighted frequency, the fields' tf added up."},
        df={**INTEGER, "description": "Articles the caller may see that hold it."},
        idf=NUMBER,
        saturated={**NUMBER, "description": "idf * tf * (k1 + 1) / (k1 + tf)"},
        score={
            **NUMBER,
            "description": "What it added: saturated * weight * its form's and clause's weights.",
        },
        fields={
            "type": "array",
            "items": _obj(
                field=STRING,
                term=STRING,
                frequency={**NUMBER, "description": "Occurrences in the field."},
                weight={**NUMBER, "description": "The field's weight."},
                norm={**NUMBER, "description": "1 - b + b * length / average length"},
                tf={**NUMBER, "description": "weight * frequency / norm"},
                score={
                    **NUMBER,
                    "description": "The term's score, shared among its fields in proportion to tf.",
                },
            ),
        },
    ),
    "Explanation": {
        **_obj(
            score={**NUMBER, "description": "The hit's score."},
            documents={**INTEGER, "description": "Articles the IDFs count over."},
            k1=NUMBER,
            clauses={
                "type": "array",
                "items": _obj(
                    query={**STRING, "description": "A word (or words) of the query, as typed."},
                    fields={**_nullable(STRINGS), "description": "A restriction typed (title:)."},
                    required={"type": "boolean"},
                    weight={**NUMBER, "description": "1; less for a bare number in a log line."},
                    score=NUMBER,
                    match={
                        **_nullable(
                            _obj(
                                form={**STRING, "description": "What matched."},
                                kind={"enum": list(FORM_KINDS)},
                                weight={**NUMBER, "description": "Against the typed form."},
                                fields={**STRINGS, "description": "Where it was looked for."},
                                words={
                                    "type": "array",
                                    "items": _obj(
                                        word=STRING,
                                        score=NUMBER,
                                        terms={"type": "array", "items": _ref("ExplainedTerm")},
                                    ),
                                },
                            )
                        ),
                        "description": "null: the clause matched nothing in this article.",
                    },
                ),
            },
            pairs={
                **_obj(score=NUMBER, terms={"type": "array", "items": _ref("ExplainedTerm")}),
                "description": "Neighbouring query words standing together in the article.",
            },
            phrase={**NUMBER, "description": "The article holds the query's quoted phrases."},
            meaning={
                **NUMBER,
                "description": "The article means what the query means: the best candidates "
                "are re-ranked by how close a sentence encoder puts their text to the query.",
            },
            exact={**NUMBER, "description": "The query names this article: it comes first."},
        ),
        "description": "Why the hit scores what it does. Every score is what that part "
        "added: score = sum of clauses' scores + pairs.score + phrase + meaning + "
        "exact (within "
        "float rounding), and so on down to the fields.",
    },
    "Hit": _obj(
        ("explain",),
        id=STRING,
        title=STRING,
        path=STRING,
        url={**STRING, "description": "Permalink, safe to paste into a ticket."},
        type=STRING,
        snippet={**STRING, "description": "HTML: escaped text with <mark> around matches."},
        section=_nullable(_obj(heading=STRING, anchor=STRING, url=STRING)),
        score=NUMBER,
        updated=STRING,
        **{facet.name: _field(facet) for facet in LIST_FACETS},
        summary={**STRING, "description": "The article's opening words, plain text."},
        steps={**STRINGS, "description": "First lines of the resolution steps."},
        explain={**_ref("Explanation"), "description": "Only with explain=1."},
    ),
    "SearchResults": _obj(
        query={**STRING, "description": "The query run (for /api/suggest: built from the ticket)."},
        total=INTEGER,
        page=INTEGER,
        pages=INTEGER,
        limit=INTEGER,
        took_ms={
            **_nullable(NUMBER),
            "description": "Milliseconds the search took; null unless the caller may see "
            "every article (timings would tell about hidden ones).",
        },
        did_you_mean=_nullable(STRING),
        match={
            "enum": list(MATCHES),
            "description": "How well the best result "
            "matches: strong (it covers most of the query's weight, rare words weighing "
            "most, or the query named it exactly), weak (some), none (nothing fits).",
        },
        not_found={
            **STRINGS,
            "description": "Error codes and identifiers in the query that no "
            "article the caller may see contains.",
        },
        exact={
            **_nullable(STRING),
            "description": "The id of the article the query names "
            "exactly (its id or an alias), which then comes first.",
        },
        results={"type": "array", "items": _ref("Hit")},
        facets={
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": _obj(value=STRING, count=INTEGER),
            },
        },
    ),
    "Ticket": {
        **_obj(
            ("subject", "description", "limit"),
            subject=STRING,
            description=STRING,
            limit={"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
        ),
        "description": "A ticket's text; either part may be long and hold pasted logs.",
    },
    "ArticleSummary": _obj(
        id=STRING, title=STRING, path=STRING, url=STRING, type=STRING, updated=STRING
    ),
    "Article": {
        "allOf": [
            _ref("ArticleSummary"),
            _obj(
                (
                    *(detail.name for detail in DETAILS if detail.kind != "list"),
                    *("author", "commit", "uncommitted", "extra"),
                ),
                audience={"enum": list(AUDIENCES)},
                **{detail.name: _field(detail) for detail in DETAILS},
                author=_nullable(STRING),
                commit=_nullable(STRING),
                uncommitted={"type": ["boolean", "null"]},
                extra={
                    "type": "object",
                    "description": "Front-matter keys kb-search does not "
                    "know; empty unless the caller may see every article.",
                },
                markdown={
                    **_nullable(STRING),
                    "description": "The article's source, authors' "
                    "HTML comments included; null unless the caller may see every article "
                    "(readers get what the page shows: html).",
                },
                html=STRING,
                toc={"type": "array", "items": _obj(level=INTEGER, anchor=STRING, title=STRING)},
            ),
        ]
    },
    "Related": _obj(id=STRING, related=SUMMARIES),
    "TicketArticles": _obj(ticket=STRING, articles=SUMMARIES),
    "Completions": _obj(
        query=STRING,
        suggestions={
            "type": "array",
            "items": _obj(
                kind={"enum": ["article", "error_code", "tag"]},
                text=STRING,
                url=_nullable(STRING),
            ),
        },
    ),
    "Version": _obj(
        ("problem",),
        id=STRING,
        version=STRING,
        updated=STRING,
        problem={**_nullable(STRING), "description": "Authors only: why the last save failed"},
    ),
    "Feedback": _obj(
        ("comment",), helpful={"type": "boolean"}, comment={**STRING, "maxLength": 2000}
    ),
    "FeedbackResult": _obj(
        id=STRING,
        helpful={"type": "boolean"},
        counted={"type": "boolean", "description": "false: this replaced your earlier vote"},
    ),
    "HookAccepted": _obj(status={"const": "accepted"}, message=STRING),
    "Health": _obj(
        ("documents", "pending", "lag_seconds", "last_indexed", "problems", "message"),
        status={
            "enum": ["ok", "indexing", "unavailable", "behind", "not indexing"],
            "description": "Callers who may not see every article get this and documents "
            "only: the other figures move when internal articles change.",
        },
        documents=INTEGER,
        pending=INTEGER,
        lag_seconds={
            **_nullable(NUMBER),
            "description": "how long the oldest change not yet indexed has waited; null in "
            "a process that does not index",
        },
        last_indexed=_nullable(STRING),
        problems=INTEGER,
        message=STRING,
    ),
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _error(description: str) -> dict[str, Any]:
    return _json("Error", description)


def _query(
    name: str, description: str, schema: dict[str, Any] | None = None, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema or STRING,
    }


def _or_empty(parameter: dict[str, Any]) -> dict[str, Any]:
    """An empty value (a form's blank field: ?page=) means the default, as if left out."""
    return {**parameter, "allowEmptyValue": True}


REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "schema": STRING,
    "description": "Article id, alias, former id or path; old names redirect (301).",
}
NOT_FOUND = _error("No such article, or not visible to the caller.")
MOVED = {"description": "An old name: Location has the article's current URL."}
MOVED_POST = {"description": "An old name: send the same request to Location, the current URL."}
BAD = _error("A parameter or the body is invalid; the message names it.")

PATHS: dict[str, Any] = {
    "/api/search": {
        "get": {
            "summary": "Search articles",
            "parameters": [
                _query(
                    "q",
                    'Query; supports "phrases", +required, -excluded, title:, error:, '
                    "type:, tag:, system:",
                ),
                _or_empty(
                    _query(
                        "limit",
                        "Results per page",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    )
                ),
                _or_empty(
                    _query(
                        "page",
                        "Page number; page * limit at most 10,000",
                        {"type": "integer", "minimum": 1, "default": 1},
                    )
                ),
                _or_empty(
                    _query(
                        "type",
                        "Only this article type: resolution, config-note, or another value of "
                        "the type facet (article: no type given); others match nothing",
                    )
                ),
                *(
                    {
                        **_query(
                            facet.param,
                            f"Only articles with every one of these {facet.label.lower()} (repeat)",
                            STRINGS,
                        ),
                        "explode": True,
                    }
                    for facet in LIST_FACETS
                ),
                _or_empty(
                    _query("folder", "Only articles in this folder of the KB and below it: windows")
                ),
                _or_empty(
                    _query(
                        "sort", "Order", {"enum": ["relevance", "updated"], "default": "relevance"}
                    )
                ),
                _or_empty(
                    _query(
                        "explain",
                        "1 or true: each result carries `explain`, how its score is made; "
                        "tier2 and above (403 for others)",
                        {"type": "boolean", "default": False},
                    )
                ),
            ],
            "responses": {
                "200": _json("SearchResults", "Ranked results"),
                "400": BAD,
                "401": _error("explain=1 from an anonymous caller."),
                "403": _error("explain=1 from a caller below tier2."),
            },
        }
    },
    "/api/suggest": {
        "post": {
            "summary": "Articles most likely to resolve a ticket",
            "description": "For ticketing systems: send the ticket's subject and description "
            "(pasted logs included); the answer has the shape of /api/search.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": _ref("Ticket"),
                        "example": {
                            "subject": "Windows Update fails on my laptop",
                            "description": "Install error - 0x80070005 since Tuesday",
                        },
                    }
                },
            },
            "responses": {
                "200": _json("SearchResults", "Suggested articles, best first"),
                "400": BAD,
                "413": _error("The body is larger than 1 MB."),
            },
        }
    },
    "/api/autocomplete": {
        "get": {
            "summary": "Completions for a half-typed query",
            "parameters": [_query("q", "What has been typed; nothing gives no completions")],
            "responses": {"200": _json("Completions", "Titles, error codes and tags")},
        }
    },
    "/api/articles/{ref}": {
        "get": {
            "summary": "One article with metadata and rendered HTML",
            "parameters": [REF],
            "responses": {"200": _json("Article", "The article"), "301": MOVED, "404": NOT_FOUND},
        }
    },
    "/api/articles/{ref}/related": {
        "get": {
            "summary": "Articles like this one",
            "parameters": [REF],
            "responses": {
                "200": _json("Related", "Up to five articles"),
                "301": MOVED,
                "404": NOT_FOUND,
            },
        }
    },
    "/api/articles/{ref}/version": {
        "get": {
            "summary": "The article's current version, to notice that it changed",
            "parameters": [REF],
            "responses": {
                "200": _json("Version", "Changes whenever the file is saved and indexed"),
                "301": MOVED,
                "404": NOT_FOUND,
            },
        }
    },
    "/api/articles/{ref}/feedback": {
        "post": {
            "summary": "Was this article helpful?",
            "description": "One vote per visitor and article: voting again replaces the vote.",
            "parameters": [REF],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Feedback")}},
            },
            "responses": {
                "201": _json("FeedbackResult", "Counted"),
                "200": _json("FeedbackResult", "Replaced this visitor's earlier vote"),
                "301": MOVED_POST,
                "400": BAD,
                "404": NOT_FOUND,
                "429": _error("Too much feedback from this visitor in the last hour."),
                "503": _error("Feedback cannot be stored right now."),
            },
        }
    },
    "/api/tickets/{ticket}": {
        "get": {
            "summary": "Articles whose front matter names a ticket",
            "parameters": [{"name": "ticket", "in": "path", "required": True, "schema": STRING}],
            "responses": {
                "200": _json("TicketArticles", "Newest first"),
                "404": _error("Not a ticket id: it starts with / or holds a line break."),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This description",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/api/hooks/git": {
        "post": {
            "summary": "Git webhook: pull the knowledge base's repository now",
            "description": "For read replicas. Point the repository's push webhook here; "
            "the replica pulls and indexes what changed in the background, and a burst of "
            "hooks is one pull. Authenticated by the shared hook_secret, as GitHub signs "
            "(X-Hub-Signature-256) or as GitLab sends it (X-Gitlab-Token); the body is the "
            "host's push event, not read otherwise.",
            "security": [],
            "parameters": [
                {
                    "name": "X-Hub-Signature-256",
                    "in": "header",
                    "required": False,
                    "description": "sha256=<hex HMAC-SHA256 of the body, keyed by the secret>",
                    "schema": STRING,
                },
                {
                    "name": "X-Gitlab-Token",
                    "in": "header",
                    "required": False,
                    "description": "The secret itself (used when no signature is sent)",
                    "schema": STRING,
                },
            ],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "202": _json("HookAccepted", "A pull will run in the background"),
                "403": _error("The signature or token is missing or wrong."),
                "404": _error("No webhook: hook_secret is not set on this server."),
                "413": _error("The body is larger than 1 MB."),
            },
        }
    },
    "/healthz": {
        "get": {
            "summary": "Health and indexing state, for load balancers and monitoring",
            "security": [],
            "responses": {
                "200": _json("Health", "An index is being served"),
                "503": _json(
                    "Health",
                    "No index can be served yet, the indexer has stopped, or a change has "
                    "waited longer than health_max_lag seconds to be indexed",
                ),
            },
        }
    },
}


def document(base_url: str = "") -> dict[str, Any]:
    """The OpenAPI document, with this server's base URL (configured, else the request's)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kb-search",
            "version": "1",
            "description": "Search and read the knowledge base. Without a token the API "
            "sees public articles only; send `Authorization: Bearer <token>` for more.",
        },
        "servers": [{"url": base_url or url_for("search.index", _external=True).rstrip("/")}],
        "security": [{}, {"token": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
    }
