"""A form that changes something must come from a page this server rendered (CSRF).

Another site can make a reader's browser post any fields here, but it cannot read our pages,
so it cannot know the random token kept in the reader's session and written into each of
our forms (``{{ csrf_token() }}``). A post without the right one is refused with 400.

Machine endpoints (:func:`~server.errors.wants_json`: /api/..., /healthz, /metrics) need no
token: they act on JSON bodies, which a cross-site form cannot send and a cross-site script
cannot send without a CORS preflight this server never grants, or on a signature (the git
webhook), never on a form.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session

from .errors import BadRequest, wants_json

FIELD = "csrf_token"
CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED = (
    "This form did not come from a page of this site, or the page is too old. "
    "Go back, reload the page and try again."
)


def csrf_token() -> str:
    """This session's form token, made on first use."""
    known = session.get("csrf")
    if not isinstance(known, str):
        known = session["csrf"] = secrets.token_urlsafe(24)
    return known


def check_form() -> None:
    """Refuse a state-changing page request whose form does not carry the session's token."""
    if request.method not in CHANGING or request.url_rule is None or wants_json():
        return  # nothing to protect, or a 404/405 to answer as such
    known = session.get("csrf")
    sent = request.form.get(FIELD, "")
    if not (isinstance(known, str) and hmac.compare_digest(known.encode(), sent.encode())):
        raise BadRequest(REFUSED)


def init_app(app: Flask) -> None:
    app.before_request(check_form)
    app.jinja_env.globals["csrf_token"] = csrf_token
