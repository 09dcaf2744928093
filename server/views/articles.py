"""Article pages by permalink, redirects for old names, and files kept next to articles."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, send_from_directory

from ..auth import current_principal
from ..errors import NotFound
from ..rendering import render_article
from ..services import services

bp = Blueprint("articles", __name__)

NOT_FOUND = "No article with that id or path. It may have been deleted, or you may need to sign in."


@bp.get("/kb/<path:ref>")
def article(ref: str):  # type: ignore[no-untyped-def]
    """Show an article; ids, aliases and former paths redirect to the permalink."""
    principal = current_principal()
    found = services().kb.lookup(ref, principal.audiences)
    if found.redirect_to:
        return redirect(f"/kb/{found.redirect_to}", code=301)
    if found.article is None:
        raise NotFound(NOT_FOUND)
    body = render_article(found.article, principal.audiences)
    related = services().kb.related(found.article.id, principal.audiences)
    return render_template(
        "articles/article.html", article=found.article, body=body, related=related
    )


@bp.get("/kb-files/<path:relpath>")
def asset(relpath: str):  # type: ignore[no-untyped-def]
    """An image or attachment from kb/, if an article the reader may see links to it."""
    if not services().kb.asset_visible(relpath, current_principal().audiences):
        raise NotFound("No such file.")
    response = send_from_directory(current_app.config["KB"].kb_dir.resolve(), relpath)
    # an SVG opened on its own must not run scripts in our origin
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    return response


@bp.get("/problems")
def problems():  # type: ignore[no-untyped-def]
    """Articles that could not be indexed, with file and line (signed-in users only)."""
    principal = current_principal()
    if principal.anonymous:
        raise NotFound("Sign in to see indexing problems.")
    indexer = services().indexer
    found = sorted(indexer.problems.values(), key=lambda e: e.path) if indexer else []
    return render_template("articles/problems.html", problems=found)
