"""Recording what readers do, for the insights page: searches, and which result they opened.

Result links carry ``?from=<search id>.<rank>``; the article view records the click and the
page's script drops the parameter from the address bar, so copied URLs stay clean.
"""

from __future__ import annotations

import re
import secrets
import time

from flask import request

from indexer import SearchResults

from .activity import ClickEvent, SearchEvent
from .auth import current_principal, visitor
from .services import services

_FROM = re.compile(r"^([0-9a-f]{16})\.([0-9]{1,3})$")


def log_search(results: SearchResults, source: str) -> str:
    """Record a search (first pages of real queries only); its id, or "" if not recorded."""
    activity = services().activity
    if activity is None or not activity.enabled or results.page != 1 or not results.query:
        return ""
    search_id = secrets.token_hex(8)
    activity.record(
        SearchEvent(
            id=search_id,
            at=time.time(),
            visitor=visitor(),
            role=current_principal().role,
            source=source,
            query=results.query[:500],
            total=results.total,
            shown=tuple(hit.id for hit in results.hits),
        )
    )
    return search_id


def log_click(article_id: str) -> None:
    """Record the opening of ``article_id`` from a result list, if the link said so."""
    activity = services().activity
    found = _FROM.match(request.args.get("from", ""))
    if activity is not None and found:
        activity.record(ClickEvent(found[1], article_id, int(found[2]), time.time()))
