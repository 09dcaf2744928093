"""The JSON API. Same search request and the same audience rules as the HTML pages."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from indexer import DETAILS, ArticleRecord, Explanation, Hit, SearchResults, TermPart

from ..auth import current_principal
from ..errors import BadRequest, Forbidden, Unauthorized
from ..feedback import record_feedback
from ..formatting import Link, permalink
from ..lookups import visible_article
from ..openapi import document
from ..params import flag, search_request
from ..rendering import render_article
from ..services import services
from ..tracking import log_search

if TYPE_CHECKING:
    from indexer.search.explain import FormPart

bp = Blueprint("api", __name__, url_prefix="/api")


SUGGEST_LIMIT = 5
MAX_SUGGEST_LIMIT = 20
EXPLAIN_ROLE = "tier2"  # who may see how scores are made (explain=1)


def _n(value: float) -> float:
    return round(value, 6)


def _term_json(term: TermPart) -> dict[str, Any]:
    return {
        "term": term.term,
        "part": term.part,
        "weight": term.weight,
        "tf": _n(term.tf),
        "df": term.df,
        "idf": _n(term.idf),
        "saturated": _n(term.saturated),
        "score": _n(term.score),
        "fields": [
            {
                "field": f.field,
                "term": f.term,
                "frequency": f.frequency,
                "weight": f.weight,
                "norm": _n(f.norm),
                "tf": _n(f.tf),
                "score": _n(f.score),
            }
            for f in term.fields
        ],
    }


def _form_json(form: FormPart) -> dict[str, Any]:
    """What a clause matched in the article: the form (typed, a synonym, ...) and its words."""
    return {
        "form": form.text,
        "kind": form.kind,
        "weight": form.weight,
        "fields": list(form.fields),
        "words": [
            {"word": w.word, "score": _n(w.score), "terms": [_term_json(t) for t in w.terms]}
            for w in form.words
        ],
    }


def explain_json(explanation: Explanation) -> dict[str, Any]:
    """How a hit's score is made (see indexer/search/explain.py); every score is what that part
    added, so they add up to the hit's."""
    return {
        "score": _n(explanation.score),
        "documents": explanation.documents,
        "k1": explanation.k1,
        "clauses": [
            {
                "query": c.query,
                "fields": list(c.fields) if c.fields is not None else None,
                "required": c.required,
                "weight": c.weight,
                "score": _n(c.score),
                "match": _form_json(c.match) if c.match else None,
            }
            for c in explanation.clauses
        ],
        "pairs": {
            "score": _n(explanation.pairs),
            "terms": [_term_json(t) for t in explanation.pair_terms],
        },
        "phrase": explanation.phrase,
        "meaning": _n(explanation.meaning),
        "exact": _n(explanation.exact),
    }


def hit_json(hit: Hit, link: Link = permalink) -> dict[str, Any]:
    found = {
        "id": hit.id,
        "title": hit.title,
        "path": hit.path,
        "url": link(hit.id, ""),
        "type": hit.type,
        "snippet": hit.snippet,
        "section": {
            "heading": hit.section_heading,
            "anchor": hit.section_anchor,
            "url": link(hit.id, hit.section_anchor),
        }
        if hit.section_anchor
        else None,
        "score": hit.score,
        "updated": hit.updated,
        **{name: list(values) for name, values in hit.facets.items()},
        "summary": hit.summary,
        "steps": list(hit.steps),
    }
    if hit.explain is not None:
        found["explain"] = explain_json(hit.explain)
    return found


def results_json(
    results: SearchResults, link: Link = permalink, timed: bool | None = None
) -> dict[str, Any]:
    """The answer to a search or a suggestion, as the caller may see it: how long a search
    took is timed over every article, so it is only given to those who may see them all
    (to others, a word only internal articles hold would answer measurably slower).
    ``link`` and ``timed``: for ``kb search --json``, outside a request."""
    if timed is None:
        timed = current_principal().sees_everything
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "pages": results.pages,
        "limit": results.limit,
        "took_ms": results.took_ms if timed else None,
        "did_you_mean": results.corrected_query,
        "match": results.match,
        "not_found": list(results.not_found),
        "exact": results.exact,
        "results": [hit_json(hit, link) for hit in results.hits],
        "facets": {
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in results.facets.items()
        },
    }


def article_summary(article: ArticleRecord) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "path": article.path,
        "url": permalink(article.id),
        "type": article.type,
        "updated": article.updated,
    }


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Search articles: ?q=&limit=&page=&type=&system=&tag=&sort=relevance|updated&explain=1."""
    principal = current_principal()
    explain = flag(request.args, "explain")
    if explain and not principal.has(EXPLAIN_ROLE):  # as requires() answers the API
        if principal.anonymous:
            raise Unauthorized(f"Sign in with a token: explain=1 needs the {EXPLAIN_ROLE} role.")
        raise Forbidden(
            f"explain=1 needs the {EXPLAIN_ROLE} role or above; you are {principal.role}."
        )
    search = search_request(request.args, principal)
    results = services().kb.search(replace(search, explain=True) if explain else search)
    log_search(results, "api")
    return jsonify(results_json(results))


@bp.get("/autocomplete")
def autocomplete() -> ResponseReturnValue:
    """Titles, error codes and tags for a half-typed query: ?q=outl."""
    text = request.args.get("q", "")
    found = services().kb.autocomplete(text, current_principal().audiences)
    return jsonify(
        {
            "query": text,
            "suggestions": [
                {"kind": c.kind, "text": c.text, "url": permalink(c.ref) if c.ref else None}
                for c in found
            ],
        }
    )


@bp.get("/articles/<path:ref>/related")
def related(ref: str) -> ResponseReturnValue:
    """Articles like this one, among those the caller may see."""
    record = visible_article(ref, ".related")
    articles = services().kb.related(record.id, current_principal().audiences)
    return jsonify({"id": record.id, "related": [article_summary(a) for a in articles]})


@bp.get("/articles/<path:ref>/version")
def version(ref: str) -> ResponseReturnValue:
    """What an open article page polls to notice that its file was saved."""
    record = visible_article(ref, ".version")
    answer: dict[str, str | None] = {
        "id": record.id,
        "version": record.version,
        "updated": record.updated,
    }
    if current_principal().has("author"):  # authors also learn that a save failed to index
        problem = services().problems().get(record.path)
        answer["problem"] = str(problem) if problem else None
    return jsonify(answer)


@bp.get("/articles/<path:ref>")
def article(ref: str) -> ResponseReturnValue:
    """One article with its metadata and rendered HTML; old names redirect."""
    principal = current_principal()
    record = visible_article(ref, ".article")
    body = render_article(record, principal.audiences)
    # the source holds what the page never shows (authors' <!-- comments -->, unknown keys):
    # readers get what the page shows, those who work on articles get the source too
    source = principal.sees_everything
    return jsonify(
        article_summary(record)
        | {
            "audience": record.audience,
            **{
                detail.name: list(record[detail.name] or ())
                if detail.kind == "list"
                else record[detail.name]
                for detail in DETAILS
            },
            "author": record["author"],
            "commit": record["commit"],
            "uncommitted": record["uncommitted"],
            "extra": record["extra"] if source else {},
            "markdown": record["markdown"] if source else None,
            "html": body.html,
            "toc": [{"level": t.level, "anchor": t.anchor, "title": t.title} for t in body.toc],
        }
    )


def _json_object() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # json raises it, not ValueError, for [[[[... nested too deep
        body = None
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object, with Content-Type: application/json")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    try:
        value.encode()
    except UnicodeEncodeError:  # "\ud800" is valid JSON, but no character: SQLite refuses it
        raise BadRequest(f"{name} holds an unpaired surrogate (\\ud800-\\udfff)") from None
    return value


@bp.post("/suggest")
def suggest() -> ResponseReturnValue:
    """Articles most likely to resolve a ticket: {"subject": ..., "description": ...}."""
    body = _json_object()
    subject, description = _text(body, "subject"), _text(body, "description")
    if not (subject.strip() or description.strip()):
        raise BadRequest("give a subject or a description")
    limit = body.get("limit", SUGGEST_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SUGGEST_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_SUGGEST_LIMIT}")
    results = services().kb.suggest(subject, description, current_principal().audiences, limit)
    return jsonify(results_json(results))


@bp.post("/articles/<path:ref>/feedback")
def feedback(ref: str) -> ResponseReturnValue:
    """Was this article helpful? {"helpful": true|false, "comment": "..."}; one vote each."""
    record = visible_article(ref, ".feedback")
    body = _json_object()
    helpful = body.get("helpful")
    if not isinstance(helpful, bool):
        raise BadRequest("helpful must be true or false")
    new = record_feedback(record.id, helpful, _text(body, "comment"))
    return jsonify({"id": record.id, "helpful": helpful, "counted": new}), 201 if new else 200


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(document(current_app.config["KB"].base_url.rstrip("/")))


@bp.get("/tickets/<path:ticket>")
def ticket(ticket: str) -> ResponseReturnValue:
    """Articles whose front matter names this ticket."""
    articles = services().kb.by_ticket(ticket, current_principal().audiences)
    return jsonify({"ticket": ticket, "articles": [article_summary(a) for a in articles]})
