"""Tier-1 self-service: a plain search over public articles, the fix first, and a way out.

Everyone gets public articles only here, whoever is signed in, so a tier-1 agent can send a
caller the same page. The pages remember (in the session cookie) the problem being worked
on, its searches and the articles opened for it, so "Escalate to tier 2" hands that over
instead of making the agent retype it.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from indexer import SearchRequestError, index_terms

from ..auth import ANONYMOUS, PUBLIC, visitor
from ..errors import BadRequest
from ..formatting import permalink
from ..lookups import visible_article
from ..params import search_request
from ..rendering import fix_first, render_article
from ..services import services
from ..tracking import log_click, log_search

bp = Blueprint("help", __name__, url_prefix="/help")

MAX_TRIED = 10
MAX_SEARCHES = 5
MAX_TITLE = 120
RESULTS = 8
# words every kind of problem is described with: sharing one of them does not make two
# searches the same problem ("printer fails" and "outlook fails")
GENERIC_WORDS = frozenset(
    index_terms(
        "error errors fail fails failed failing failure issue issues problem problems "
        "broken work works working help keeps stopped stops start starts can't cannot won't"
    )
)


def _problem() -> dict[str, list]:
    """The problem this visitor is working on: its searches (newest last) and the articles
    opened for it, as [id, title] pairs (kept in the session cookie)."""
    found = session.get("help_problem")
    return found if isinstance(found, dict) else {"searches": [], "tried": []}


def _words(query: str) -> set[str]:
    return set(index_terms(query)) - GENERIC_WORDS


def _remember_search(query: str) -> None:
    """A search that shares a word with the problem's searches refines it; any other search
    starts a new problem, and the articles tried for the last one no longer belong to it
    (an agent taking call after call must not hand tier 2 a printer for a Wi-Fi ticket)."""
    query = query[:300]
    problem = _problem()
    earlier = set().union(*(_words(q) for q in problem["searches"]))
    if not (_words(query) & earlier):
        problem = {"searches": [], "tried": []}
    searches = [q for q in problem["searches"] if q != query] + [query]
    session["help_problem"] = {"searches": searches[-MAX_SEARCHES:], "tried": problem["tried"]}


def _remember_article(article_id: str, title: str) -> None:
    problem = _problem()
    tried = [pair for pair in problem["tried"] if pair[0] != article_id]
    tried.append([article_id, title[:MAX_TITLE]])  # the session is a cookie: kept small
    session["help_problem"] = {"searches": problem["searches"], "tried": tried[-MAX_TRIED:]}


def escalation() -> dict[str, str]:
    """The escalation link and the text it carries: this problem's searches and the articles
    opened for it, with their titles and links."""
    problem = _problem()
    searches, tried = problem["searches"], problem["tried"]
    query = searches[-1] if searches else ""
    lines = [f"Searched the knowledge base for: {query or '(nothing)'}"]
    if len(searches) > 1:
        lines.append("Searched before that: " + "; ".join(reversed(searches[:-1])))
    if tried:
        lines.append("Articles tried, which did not solve it:")
        lines += [f"- {ref} {title}: {permalink(ref)}" for ref, title in tried]
    description = "\n".join(lines)
    ids = ",".join(ref for ref, _ in tried)
    template = current_app.config["KB"].escalation_url
    if template:
        url = template.format(
            query=quote(query, safe=""),
            articles=quote(ids, safe=""),
            description=quote(description, safe=""),
        )
    else:
        url = url_for("help.escalate")
    return {"url": url, "query": query, "description": description, "articles": ids}


@bp.get("/")  # /help/ too, as people type it (registered second: links still say /help)
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
            _remember_search(q)
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
    _remember_article(record.id, record.title)
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
