"""The search page: a query box, ranked results with snippets, facets and paging."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from indexer import SearchRequest, SearchRequestError, SearchResults

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
    template = "search/_results.html" if request.args.get("fragment") else "search/index.html"
    html = render_template(
        template,
        results=results,
        search=search,
        error=error,
        q=request.args.get("q", ""),
        search_id=search_id,
    )
    return html, 400 if error else 200
