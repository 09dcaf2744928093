"""Who is asking: every request gets a :class:`Principal`, and with it the audiences it may see.

Identity comes from a configured API token (``Authorization: Bearer ...``, or the signed
session cookie set by the sign-in form), or from a trusted reverse-proxy header when that is
enabled. Everyone else is anonymous and sees public articles only. Tokens are compared in
constant time. The cookie holds a random session id, never the token nor anything made
from it: the server keeps the session (server/signins.py), so signing out ends it.

Roles are ordered: anonymous < tier1 < tier2 < author < admin. Each role may do what the
roles below it may, so a view states the least role it needs with :func:`requires`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
from flask.typing import ResponseReturnValue

from indexer import AUDIENCES, readers_of

from .clients import client_address, client_id
from .config import ROLES, Config
from .errors import Forbidden, Unauthorized, Unavailable, wants_json
from .services import services
from .signins import SignInLimited, SignIns, SignInsUnavailable

PUBLIC = readers_of("public")
EVERYTHING = frozenset(AUDIENCES)
ROLE_AUDIENCES = {
    "anonymous": PUBLIC,
    "tier1": PUBLIC,
    "tier2": EVERYTHING,
    "author": EVERYTHING,
    "admin": EVERYTHING,
}

RANKS = {role: rank for rank, role in enumerate(("anonymous", *ROLES))}

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    @property
    def audiences(self) -> frozenset[str]:
        return ROLE_AUDIENCES.get(self.role, PUBLIC)

    @property
    def sees_everything(self) -> bool:
        """Whether no article is hidden from this principal (figures that depend on every
        article, such as timings and totals, are only for them)."""
        return self.audiences >= EVERYTHING

    @property
    def anonymous(self) -> bool:
        return self.role == "anonymous"

    def has(self, role: str) -> bool:
        """Whether this principal's role is ``role`` or above it."""
        return RANKS.get(self.role, 0) >= RANKS[role]


ANONYMOUS = Principal("anonymous", "anonymous")


def _token_mac(token: str) -> str:
    """What a session records of its token: keyed with the app's secret, so the activity
    file reveals no token, and matched against the configured ones on every request."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, b"sign-in\0" + token.encode(), hashlib.sha256).hexdigest()


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


def _signins() -> SignIns:
    found = services().signins
    if found is None:
        raise SignInsUnavailable("this app has no sign-in store")
    return found


def _role_for_session(config: Config, session_id: str) -> str | None:
    """The role of a live session whose token is still configured. Raises
    :class:`SignInsUnavailable` when that cannot be known."""
    token_mac = _signins().token_of(session_id)
    return _role_matching(config, token_mac, _token_mac) if token_mac else None


def identify(config: Config) -> Principal:
    """The principal for the current request."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        role = _role_for_token(config, header[7:].strip())
        return Principal(f"token:{role}", role) if role else ANONYMOUS
    session_id = session.get("sid")
    if isinstance(session_id, str):
        try:
            role = _role_for_session(config, session_id)
        except SignInsUnavailable as exc:
            log.warning("session not checked, so not honoured this time: %s", exc)
        else:
            if role:
                return Principal(f"session:{role}", role)
            del session["sid"]  # ended: this browser is signed out
    if config.proxy_user_header:
        user = request.headers.get(config.proxy_user_header, "").strip()
        if user:
            return Principal(user, _proxy_role(config))
    return ANONYMOUS


def _proxy_role(config: Config) -> str:
    """The highest role any of the user's proxy-asserted groups maps to, else proxy_role."""
    roles = [config.proxy_role]
    if config.proxy_groups_header:
        groups = request.headers.get(config.proxy_groups_header, "")
        mapping = config.group_roles
        roles += [mapping[g.strip()] for g in groups.split(",") if g.strip() in mapping]
    return max(roles, key=RANKS.__getitem__)


def current_principal() -> Principal:
    return g.get("principal", ANONYMOUS)


def requires(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view run only for ``role`` and above. Anonymous pages are sent to sign in;
    the API answers 401. Signed-in principals without the role get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal.has(role):
                return view(*args, **kwargs)
            if principal.anonymous:
                if not wants_json():
                    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
                raise Unauthorized("Sign in with a token: this needs the " + role + " role.")
            raise Forbidden(f"This needs the {role} role; you are signed in as {principal.role}.")

        return guarded

    return decorate


def visitor() -> str:
    """A stable, anonymous id for whoever is asking: one per browser (kept in the signed
    session cookie), else a hash of the principal and client address. API calls never get a
    cookie. Feedback is counted once per visitor, and search refinements are grouped by it."""
    known = session.get("visitor")
    if isinstance(known, str):
        return known
    if request.headers.get("Authorization") is None and not wants_json():
        known = session["visitor"] = secrets.token_urlsafe(12)
        return known
    seed = f"{current_principal().name}|{client_address()}"
    return "h:" + hashlib.sha256(seed.encode()).hexdigest()[:16]


def init_app(app: Flask) -> None:
    @app.before_request
    def load_principal() -> None:
        g.principal = identify(app.config["KB"])

    @app.context_processor
    def inject_principal() -> dict[str, Principal]:
        return {"principal": current_principal()}

    app.register_blueprint(bp)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with an API token so the browser sees what the token's role may see.
    Failed attempts are limited per client address: 429, with Retry-After."""
    if request.method == "GET":
        return render_template("auth/login.html", error=None)
    token = request.form.get("token", "").strip()
    try:
        signins = _signins()
        attempt = signins.charge(client_id())
        role = _role_for_token(current_app.config["KB"], token) if token else None
        if role:
            signins.forgive(attempt)
            started = signins.start(_token_mac(token))
    except SignInLimited as exc:
        wait = str(exc.retry_after)
        error = f"Too many failed sign-ins from your address: try again in {wait} seconds."
        return render_template("auth/login.html", error=error), 429, {"Retry-After": wait}
    except SignInsUnavailable as exc:
        log.warning("sign-in refused: %s", exc)
        raise Unavailable("Signing in is not possible right now; please try again later.") from exc
    if not role:
        return render_template("auth/login.html", error="That token is not valid."), 401
    kept = session.get("visitor")
    session.clear()  # a new session id, and a new form token, for the new role
    session["sid"] = started
    if kept:
        session["visitor"] = kept
    session.permanent = True
    return redirect(safe_next(request.args.get("next", "")))


_NOT_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(target: str) -> str:
    """Only same-site paths: an open redirect after sign-in would help phishing. Control
    characters are refused with backslashes: browsers (and werkzeug) drop tabs and newlines
    from URLs, so "/<tab>/evil.example" would become "//evil.example"."""
    if target.startswith("/") and not target.startswith("//") and not _NOT_IN_PATH.search(target):
        return target
    return url_for("search.index")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: the session ends on the server, so copies of the cookie stop working too."""
    session_id = session.get("sid")
    session.clear()
    if isinstance(session_id, str):
        try:
            _signins().end(session_id)
        except SignInsUnavailable as exc:
            log.warning("sign-out not recorded: %s", exc)
            raise Unavailable(
                "This browser is signed out, but the server could not end the session; "
                "copies of its cookie work until it expires."
            ) from exc
    return redirect(url_for("search.index"))
