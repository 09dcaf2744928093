"""Reading search parameters from a request, shared by the HTML page and the JSON API."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from indexer import SearchRequest, half_typed

from .auth import Principal
from .errors import BadRequest

MAX_QUERY_LENGTH = 4000


def _int(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, got {raw[:40]!r}") from None


def search_request(
    args: MultiDict[str, str], principal: Principal, limit: int = 10
) -> SearchRequest:
    """Build a :class:`SearchRequest`; raises :class:`BadRequest` naming the bad parameter."""
    query = args.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadRequest(f"q is longer than {MAX_QUERY_LENGTH} characters")
    request = SearchRequest(
        q=query.strip(),
        audiences=principal.audiences,
        page=_int(args, "page", 1),
        limit=_int(args, "limit", limit),
        type=args.get("type", "").strip() or None,
        systems=tuple(v for v in args.getlist("system") if v.strip()),
        tags=tuple(v for v in args.getlist("tag") if v.strip()),
        sort=args.get("sort", "relevance").strip() or "relevance",
        prefix=half_typed(query),
    )
    return request
