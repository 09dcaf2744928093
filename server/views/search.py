"""The search page: a query box, ranked results with snippets, facets and paging."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from indexer import ArticleRecord, Hit, SearchRequest, SearchRequestError, SearchResults

from ..activity import ActivityUnavailable
from ..auth import current_principal
from ..errors import BadRequest
from ..params import search_request
from ..services import services
from ..tracking import log_search

bp = Blueprint("search", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show results for ?q= (or the latest articles when there is no query)."""
    results: SearchResults | None = None
    search: SearchRequest | None = None
    error = None
    search_id = ""
    try:
        search = search_request(request.args, current_principal())
        results = services().kb.search(search)
        search_id = log_search(results, "page")
    except (BadRequest, SearchRequestError) as exc:
        error = str(exc)
    starting = results is not None and (not results.query or not results.total)
    template = "search/_results.html" if request.args.get("fragment") else "search/index.html"
    html = render_template(
        template,
        results=results,
        search=search,
        error=error,
        q=request.args.get("q", ""),
        search_id=search_id,
        popular=popular_articles() if starting else [],
        recent=recent_articles() if starting and results and results.query else [],
    )
    return html, 400 if error else 200


STARTING_POINTS = 5  # popular and recently changed articles offered with nothing to show
POPULAR_DAYS = 30


def popular_articles() -> list[ArticleRecord]:
    """The articles opened most from results lately, that this reader may see."""
    activity = services().activity
    try:
        opened = activity.most_opened(POPULAR_DAYS, 3 * STARTING_POINTS) if activity else []
    except ActivityUnavailable:
        return []
    audiences = current_principal().audiences
    found = (services().kb.lookup(ref, audiences).article for ref in opened)
    return [article for article in found if article is not None][:STARTING_POINTS]


def recent_articles() -> list[Hit]:
    """The articles changed last, that this reader may see."""
    latest = SearchRequest(
        q="", audiences=current_principal().audiences, sort="updated", limit=STARTING_POINTS
    )
    return list(services().kb.search(latest).hits)
