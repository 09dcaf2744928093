"""Tier-1 self-service: a plain search over public articles, the fix first, and a way out.

Everyone gets public articles only here, whoever is signed in, so a tier-1 agent can send a
caller the same page. The pages remember (in the session cookie) what was searched and which
articles were opened, so "Escalate to tier 2" hands that over instead of making the agent
retype it.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from indexer import SearchRequestError

from ..auth import ANONYMOUS, PUBLIC, visitor
from ..errors import BadRequest
from ..formatting import permalink
from ..lookups import visible_article
from ..params import search_request
from ..rendering import fix_first, render_article
from ..services import services
from ..tracking import log_click, log_search

bp = Blueprint("help", __name__, url_prefix="/help")

MAX_REMEMBERED = 10
RESULTS = 8


def _remember_query(query: str) -> None:
    if query:
        session["help_query"] = query[:300]


def _remember_article(article_id: str) -> None:
    viewed = [v for v in session.get("help_viewed", []) if v != article_id]
    session["help_viewed"] = [article_id, *viewed][:MAX_REMEMBERED]


def escalation() -> dict[str, str]:
    """The escalation link and the text it carries, from what this visitor searched and read."""
    query = session.get("help_query", "")
    viewed = list(session.get("help_viewed", []))
    lines = [f"Searched the knowledge base for: {query or '(nothing)'}"]
    if viewed:
        lines.append("Articles tried, which did not solve it:")
        lines += [f"- {ref}: {permalink(ref)}" for ref in viewed]
    description = "\n".join(lines)
    template = current_app.config["KB"].escalation_url
    if template:
        url = template.format(
            query=quote(query, safe=""),
            articles=quote(",".join(viewed), safe=""),
            description=quote(description, safe=""),
        )
    else:
        url = url_for("help.escalate")
    return {"url": url, "query": query, "description": description, "articles": ",".join(viewed)}


@bp.get("")
def index() -> ResponseReturnValue:
    """Search public articles; results lead with a summary and the first steps of the fix."""
    q = request.args.get("q", "").strip()
    results, error, search_id = None, None, ""
    if q:
        try:
            search = search_request(request.args, ANONYMOUS, limit=RESULTS)  # public only
            results = services().kb.search(search)
            search_id = log_search(results, "help")
            _remember_query(q)
        except (BadRequest, SearchRequestError) as exc:
            error = str(exc)
    html = render_template(
        "help/index.html",
        q=q,
        results=results,
        error=error,
        search_id=search_id,
        escalation=escalation(),
    )
    return html, 400 if error else 200


@bp.get("/kb/<path:ref>")
def article(ref: str) -> ResponseReturnValue:
    """A public article with its fix first, then "Did this solve it?"."""
    record = visible_article(ref, "help.article", PUBLIC)
    log_click(record.id)
    _remember_article(record.id)
    visitor()  # the feedback form's votes count once per browser
    body = render_article(record, PUBLIC)
    fix, background = fix_first(body.html, record["steps_anchor"] or "")
    return render_template(
        "help/article.html", article=record, fix=fix, background=background, escalation=escalation()
    )


@bp.get("/escalate")
def escalate() -> ResponseReturnValue:
    """Without a configured ticket URL: the text to paste into a ticket for tier 2."""
    return render_template("help/escalate.html", escalation=escalation())
