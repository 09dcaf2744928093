"""The application factory. Every blueprint is registered here, so this file shows all URLs:

/                       search page                  (views/search.py)
/kb/<id>                article by permalink         (views/articles.py)
/kb-files/<path>        images and attachments       (views/articles.py)
/problems               files that failed to index   (views/articles.py)
/api/search             JSON search                  (views/api.py)
/api/articles/<id>      JSON article                 (views/api.py)
/api/tickets/<id>       articles naming a ticket     (views/api.py)
/healthz                health and freshness         (views/health.py)
/login, /logout         token sign-in for browsers   (auth.py)
/static/pygments.css    code highlighting styles
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path

from flask import Flask, Response

from indexer import IndexStorage, KnowledgeBase, pygments_css

from . import auth, formatting
from .config import Config, load_config
from .errors import register_error_handlers
from .services import Services
from .views import api, articles, health, search

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _secret_key(config: Config) -> str:
    """The configured key, or one generated once and kept beside the index."""
    if config.secret_key:
        return config.secret_key
    path = Path(config.index_dir) / "secret_key"
    try:
        return path.read_text().strip()
    except OSError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


def create_app(config: Config | None = None, found: Services | None = None) -> Flask:
    """Build the Flask app. ``found`` carries an indexer and watcher when this process writes."""
    config = config or load_config()
    app = Flask(__name__)
    app.config.update(
        KB=config,
        SECRET_KEY=_secret_key(config),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=30),
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["kb"] = found or Services(
        kb=KnowledgeBase(IndexStorage(config.index_dir), config.kb_dir)
    )

    auth.init_app(app)
    formatting.init_app(app)
    register_error_handlers(app)
    for blueprint in (search.bp, articles.bp, api.bp, health.bp):
        app.register_blueprint(blueprint)

    @app.get("/static/pygments.css")
    def pygments_stylesheet() -> Response:
        return Response(
            pygments_css(), mimetype="text/css", headers={"Cache-Control": "max-age=3600"}
        )

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
