"""An article's Markdown as the reader sees it: links between articles become permalinks,
images and attachments point at the kb file route, and only what the reader may see is linked."""

from __future__ import annotations

import re

from flask import url_for
from markupsafe import Markup

from indexer import STEPS_HEADING, ArticleRecord, RenderedBody, render

from .services import services


def render_article(article: ArticleRecord, audiences: frozenset[str]) -> RenderedBody:
    kb = services().kb

    def resolve(target: str, fragment: str) -> str | None:
        suffix = f"#{fragment}" if fragment else ""
        if target.endswith(".md"):
            ids = kb.permalink_ids({target}, audiences)
            ref = ids.get(target) or target.removesuffix(".md")
            return url_for("articles.article", ref=ref) + suffix
        return url_for("articles.asset", relpath=target) + suffix

    return render(article["markdown"] or "", article.path, article.title, resolve)


_H2 = re.compile(r"(?=<h2[\s>])")
_HEADING_TEXT = re.compile(r"<h2[^>]*>(.*?)</h2>", re.S)
_TAG = re.compile(r"<[^>]+>")


def fix_first(html: str) -> tuple[Markup, Markup]:
    """Split rendered HTML into the section with the fix (Resolution, Workaround...) and the
    rest, so tier 1 reads the steps before the background."""
    chunks = _H2.split(html)
    for index, chunk in enumerate(chunks):
        heading = _HEADING_TEXT.match(chunk)
        if heading and STEPS_HEADING.search(_TAG.sub("", heading[1])):
            rest = "".join(chunks[:index] + chunks[index + 1 :])
            return Markup(chunk), Markup(rest)
    return Markup(""), Markup(html)
