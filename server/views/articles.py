"""Article pages by permalink, redirects for old names, and files kept next to articles."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue

from indexer import article_changes, asset_file, highlight, lint_file

from ..auth import current_principal, requires, safe_next, visitor
from ..errors import ApiError, BadRequest, NotFound
from ..feedback import record_feedback
from ..lookups import visible_article
from ..rendering import render_article
from ..services import services
from ..tracking import log_click

bp = Blueprint("articles", __name__)


@bp.get("/kb/<path:ref>")
def article(ref: str) -> ResponseReturnValue:
    """Show an article; ids, aliases and former paths redirect to the permalink."""
    principal = current_principal()
    record = visible_article(ref, "articles.article")
    log_click(record.id)
    visitor()  # the feedback form's votes count once per browser
    body = render_article(record, principal.audiences)
    related = services().kb.related(record.id, principal.audiences)
    return render_template(
        "articles/article.html",
        article=record,
        body=body,
        related=related,
        author_notes=_author_notes(record.path),
    )


def _author_notes(path: str) -> dict[str, object]:
    """For authors: why the file did not index (the page shows the last good version), and
    what kb lint says about it now, so a mistake never fails silently."""
    if not current_principal().has("author"):
        return {}
    problem = services().problems().get(path)
    try:
        findings = lint_file(current_app.config["KB"].kb_dir, path)
    except OSError:
        findings = []
    return {"problem": problem, "findings": findings}


@bp.get("/kb/<path:ref>/history")
@requires("tier2")
def history(ref: str) -> ResponseReturnValue:
    """The article's git log with diffs (tier 2: old versions may hold what is now hidden)."""
    record = visible_article(ref, "articles.history")
    changes = article_changes(current_app.config["KB"].kb_dir, record.path)
    diffs = [highlight(change.diff, "diff") for change in changes]
    return render_template(
        "articles/history.html", article=record, changes=list(zip(changes, diffs, strict=True))
    )


@bp.post("/kb/<path:ref>/feedback")
def feedback(ref: str) -> ResponseReturnValue:
    """The article page's "Was this helpful?" form (the page's script uses the JSON API)."""
    record = visible_article(ref, "articles.article", follow=True)
    answer = request.form.get("helpful", "")
    if answer not in ("yes", "no"):
        raise BadRequest("Choose yes or no.")
    own_page = url_for("articles.article", ref=record.id)
    back = safe_next(request.form.get("return_to") or own_page) + "#feedback"
    try:
        record_feedback(record.id, answer == "yes", request.form.get("comment", ""))
    except ApiError as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash("Thanks for your feedback.", "ok")
    return redirect(back)


@bp.get("/tickets/<path:ticket>")
def ticket(ticket: str) -> ResponseReturnValue:
    """The articles that resolved a ticket, with links ready to paste into it."""
    articles = services().kb.by_ticket(ticket, current_principal().audiences)
    return render_template("tickets/ticket.html", ticket=ticket.strip(), articles=articles)


@bp.get("/kb-files/<path:relpath>")
def asset(relpath: str) -> ResponseReturnValue:
    """An image or attachment from kb/, if an article the reader may see links to it."""
    root = current_app.config["KB"].kb_dir.resolve()
    visible = services().kb.asset_visible(relpath, current_principal().audiences)
    if not (visible and asset_file(root, relpath)):
        raise NotFound("No such file.")
    response = send_from_directory(root, relpath)
    # an SVG opened on its own must not run scripts in our origin
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    return response


@bp.get("/problems")
@requires("tier2")
def problems() -> ResponseReturnValue:
    """Articles that could not be indexed, with file and line (they name internal files)."""
    found = sorted(services().problems().values(), key=lambda error: error.path)
    # the last good version of each, where one was indexed before the file broke
    indexed = services().kb.permalink_ids(
        {error.path for error in found}, current_principal().audiences
    )
    return render_template("articles/problems.html", problems=found, indexed=indexed)
