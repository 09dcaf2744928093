"""Template helpers: permalinks, relative times, and URLs that keep the current filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app, request, url_for

from indexer import FIELDS, LIST_FACETS, Field, SearchRequest

from .wording import counted

Link = Callable[[str, str], str]
"""(article id, section anchor or "") -> the article's absolute URL."""


def permalink(article_id: str, anchor: str = "") -> str:
    """The absolute, stable URL of an article, for tickets and chat."""
    base = current_app.config["KB"].base_url.rstrip("/") or request.host_url.rstrip("/")
    return base + url_for("articles.article", ref=article_id) + (f"#{anchor}" if anchor else "")


def permalinks_under(base_url: str) -> Link:
    """:func:`permalink` outside a request (the terminal), under ``base_url``: the route
    ``/kb/<ref>`` the articles blueprint serves (a test holds the two equal)."""

    def link(article_id: str, anchor: str = "") -> str:
        path = "/kb/" + quote(article_id, safe="/")
        return base_url.rstrip("/") + path + (f"#{anchor}" if anchor else "")

    return link


def edit_link(article_id: str, path: str) -> str:
    """Where authors edit an article (the git host's editor), or "" if not configured."""
    template = current_app.config["KB"].edit_url
    return template.format(path=quote(path), id=quote(article_id, safe="")) if template else ""


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def ago(value: str | None, now: dt.datetime | None = None) -> str:
    """'3 days ago' for an ISO time; '' when unknown."""
    when = parse_time(value)
    if when is None:
        return ""
    seconds = ((now or dt.datetime.now(dt.UTC)) - when).total_seconds()
    if seconds < 60:
        return "just now"
    for unit, size in (
        ("year", 31_536_000),
        ("month", 2_592_000),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def day(value: str | None) -> str:
    when = parse_time(value)
    return when.date().isoformat() if when else ""


_LIST_PARAMS = frozenset(facet.param for facet in LIST_FACETS)


def url_with(**changes: Any) -> str:
    """The current page's URL with some query parameters set, toggled or removed.

    ``None`` removes a parameter; for a list facet's parameter (``system``, ``tag``) a value
    is toggled. Changing any filter goes back to page 1.
    """
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        elif name in _LIST_PARAMS:
            values = args.get(name, [])
            args[name] = [v for v in values if v != value] if value in values else [*values, value]
        else:
            args[name] = [str(value)]
    if "page" not in changes:
        args.pop("page", None)
    args.pop("fragment", None)
    url_values: dict[str, Any] = {**(request.view_args or {}), **args}
    return url_for(request.endpoint or "search.index", **url_values)


FACET_FIELDS = tuple(field for field in FIELDS if field.facet)


def facet_filters(search: SearchRequest) -> list[tuple[Field, list[str]]]:
    """Each facet beside the results, with the values ``search`` filters it by (a choice
    facet, type, takes one value; a list facet several)."""
    asked = dict(search.filters)
    return [
        (
            facet,
            ([search.type] if search.type else [])
            if facet.kind == "choice"
            else list(asked.get(facet.name, ())),
        )
        for facet in FACET_FIELDS
    ]


def today() -> str:
    return dt.date.today().isoformat()


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(ago=ago, day=day, counted=counted)
    app.jinja_env.globals.update(
        permalink=permalink,
        url_with=url_with,
        today=today,
        edit_link=edit_link,
        facet_filters=facet_filters,
        list_facets=LIST_FACETS,
    )
