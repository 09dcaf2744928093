"""The article a URL names, for every view: one order of lookup, redirect and 404."""

from __future__ import annotations

from flask import abort, redirect, url_for

from indexer import ArticleRecord

from .auth import current_principal
from .errors import NotFound
from .services import services

NOT_FOUND = "No article with that id or path. It may have been deleted, or you may need to sign in."


def visible_article(
    ref: str, endpoint: str, audiences: frozenset[str] | None = None, follow: bool = False
) -> ArticleRecord:
    """The article ``ref`` names, if the caller (or ``audiences``) may see it; else a 404.

    An old name (an alias, a former path, another spelling of the id) answers 301 to the
    permalink at ``endpoint``; with ``follow``, it stands for the article instead: a form
    posted to an old name must not be redirected (the browser would fetch it as a page).
    """
    audiences = current_principal().audiences if audiences is None else audiences
    found = services().kb.lookup(ref, audiences)
    if found.redirect_to:
        if not follow:
            abort(redirect(url_for(endpoint, ref=found.redirect_to), code=301))
        found = services().kb.lookup(found.redirect_to, audiences)
    if found.article is None:
        raise NotFound(NOT_FOUND)
    return found.article
