"""An article's Markdown as the reader sees it: links between articles become permalinks,
images and attachments point at the kb file route, and only what the reader may see is linked."""

from __future__ import annotations

import re

from flask import request, url_for
from markupsafe import Markup, escape

from indexer import ArticleRecord, BoundedCache, RenderedBody, render

from .services import services

# Rendering is the costliest part of an article view (Markdown, highlighting, sanitising),
# and the same article is read many times between saves
_RENDERED = BoundedCache(max_bytes=64 << 20)


def render_article(article: ArticleRecord, audiences: frozenset[str]) -> RenderedBody:
    """The article's HTML, from the cache when its text and every link it makes are the same
    (a linked article may have been renamed, deleted or hidden from this reader since)."""
    kb = services().kb

    def resolve(target: str, fragment: str) -> str | None:
        suffix = f"#{fragment}" if fragment else ""
        if target.endswith(".md"):
            ids = kb.permalink_ids({target}, audiences)
            ref = ids.get(target) or target.removesuffix(".md")
            return url_for("articles.article", ref=ref) + suffix
        return url_for("articles.asset", relpath=target) + suffix

    def name_link(ref: str) -> str | None:
        if ref == article.id:
            return None
        found = kb.lookup(ref, audiences)
        named = found.article.id if found.article else found.redirect_to
        return url_for("articles.article", ref=named) if named else None

    key = (article.version, article.path, article.title, audiences, request.script_root)
    cached = _RENDERED.get(key)
    if cached is not None:
        body, links, names = cached
        if all(resolve(*link) == url for link, url in links.items()) and all(
            name_link(ref) == url for ref, url in names.items()
        ):
            return body
    links, names = {}, {}

    def remembered(target: str, fragment: str) -> str | None:
        links[(target, fragment)] = url = resolve(target, fragment)
        return url

    def remembered_name(ref: str) -> str | None:
        names[ref] = url = name_link(ref)
        return url

    body = render(
        article["markdown"] or "", article.path, article.title, remembered, remembered_name
    )
    _RENDERED.put(key, (body, links, names), 2 * len(body.html) + 1_000)
    return body


_HEADING = re.compile(r"(?=<h[1-6][\s>])")
_LEVEL_AND_ID = re.compile(r'<h([1-6])\b[^>]*?\bid="([^"]*)"')


def fix_first(html: str, steps_anchor: str) -> tuple[Markup, Markup]:
    """Split rendered HTML into the section with the fix and the rest, so tier 1 reads the
    steps before the background. Which section that is was decided when the article was
    indexed (``steps_anchor``, the heading its steps came from); here it is only cut out,
    with its subsections, by the heading's id."""
    chunks = _HEADING.split(html)
    for start, chunk in enumerate(chunks):
        heading = _LEVEL_AND_ID.match(chunk)
        if steps_anchor and heading and heading[2] == escape(steps_anchor):
            end = start + 1
            while end < len(chunks) and not _ends_section(chunks[end], heading[1]):
                end += 1
            rest = "".join(chunks[:start] + chunks[end:])
            return Markup("".join(chunks[start:end])), Markup(rest)
    return Markup(""), Markup(html)


def _ends_section(chunk: str, level: str) -> bool:
    """Whether ``chunk`` opens with a heading at ``level`` or above."""
    return chunk.startswith("<h") and chunk[2] <= level
