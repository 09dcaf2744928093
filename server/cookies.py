"""The session cookie's attributes, in one place.

HttpOnly (no script reads it), SameSite=Lax (other sites' posts and frames do not carry
it), and Secure when the request came over https: directly, or per X-Forwarded-Proto from
the trusted proxy (server/clients.py), so the cookie never crosses plain http once a
reader has used https. ``session_cookie_secure = "always"`` sets it on every answer, for
TLS in front of a proxy that does not say so. The cookie lasts 30 days for the anonymous
visitor id; a sign-in in it ends sooner, on the server (server/signins.py).
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

VISITOR_DAYS = 30


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure per request rather than per app."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Called as each answer's cookie is written, so the request is at hand."""
        setting = app.config["KB"].session_cookie_secure
        return setting == "always" or request.is_secure


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookie()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=VISITOR_DAYS),
    )
