"""Reading search parameters from a request, shared by the HTML page and the JSON API."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from indexer import LIST_FACETS, SearchRequest, half_typed

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


_TRUE = ("1", "true")
_FALSE = ("0", "false")


def flag(args: MultiDict[str, str], name: str) -> bool:
    """A yes/no parameter: 1 or true, 0 or false (any case); absent or empty is no."""
    raw = args.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if not raw or raw in _FALSE:
        return False
    raise BadRequest(f"{name} must be 1 or 0 (or true or false), got {raw[:40]!r}")


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
        filters=tuple(
            (facet.name, values)
            for facet in LIST_FACETS
            if (values := tuple(v for v in args.getlist(facet.param) if v.strip()))
        ),
        sort=args.get("sort", "relevance").strip() or "relevance",
        folder=args.get("folder", "").strip(),
        prefix=half_typed(query),
    )
    return request
