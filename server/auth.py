"""Who is asking: every request gets a :class:`Principal`, and with it the audiences it may see.

Identity comes from a configured API token (``Authorization: Bearer ...``, or the signed
session cookie set by the sign-in form), or from a trusted reverse-proxy header when that is
enabled. Everyone else is anonymous and sees public articles only. Tokens are compared in
constant time, and the cookie holds a hash of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .config import Config

PUBLIC = frozenset({"public"})
EVERYTHING = frozenset({"public", "internal"})
ROLE_AUDIENCES = {
    "anonymous": PUBLIC,
    "tier1": PUBLIC,
    "tier2": EVERYTHING,
    "author": EVERYTHING,
    "admin": EVERYTHING,
}

bp = Blueprint("auth", __name__)


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    @property
    def audiences(self) -> frozenset[str]:
        return ROLE_AUDIENCES.get(self.role, PUBLIC)

    @property
    def anonymous(self) -> bool:
        return self.role == "anonymous"


ANONYMOUS = Principal("anonymous", "anonymous")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role_matching(config: Config, presented: str, form: Callable[[str], str]) -> str | None:
    """The role of the configured token whose ``form`` equals ``presented``.

    Every configured token is compared, in constant time, so timing reveals nothing.
    """
    role = None
    for known, known_role in config.token_roles.items():
        if hmac.compare_digest(form(known).encode(), presented.encode()):
            role = known_role
    return role


def _role_for_token(config: Config, token: str) -> str | None:
    return _role_matching(config, token, lambda known: known)


def _role_for_digest(config: Config, digest: str) -> str | None:
    return _role_matching(config, digest, _digest)


def identify(config: Config) -> Principal:
    """The principal for the current request."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        role = _role_for_token(config, header[7:].strip())
        return Principal(f"token:{role}", role) if role else ANONYMOUS
    digest = session.get("token_digest")
    if isinstance(digest, str):
        role = _role_for_digest(config, digest)
        if role:
            return Principal(f"session:{role}", role)
    if config.proxy_user_header:
        user = request.headers.get(config.proxy_user_header, "").strip()
        if user:
            return Principal(user, config.proxy_role)
    return ANONYMOUS


def current_principal() -> Principal:
    return g.get("principal", ANONYMOUS)


def init_app(app: Flask) -> None:
    @app.before_request
    def load_principal() -> None:
        g.principal = identify(app.config["KB"])

    @app.context_processor
    def inject_principal() -> dict[str, Principal]:
        return {"principal": current_principal()}

    app.register_blueprint(bp)


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Sign in with an API token so the browser sees what the token's role may see."""
    error = None
    if request.method == "POST":
        token = request.form.get("token", "").strip()
        role = _role_for_token(current_app.config["KB"], token) if token else None
        if role:
            session.clear()
            session["token_digest"] = _digest(token)
            session.permanent = True
            return redirect(url_for("search.index"))
        error = "That token is not valid."
    status = 401 if error else 200
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    session.clear()
    return redirect(url_for("search.index"))
