"""An article's Markdown as the reader sees it: links between articles become permalinks,
images and attachments point at the kb file route, and only what the reader may see is linked."""

from __future__ import annotations

from flask import url_for

from indexer import ArticleRecord, RenderedBody, render

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
