"""The application factory. Every blueprint is registered here, so this file shows all URLs:

/                       search page                  (views/search.py)
/kb/<id>                article by permalink         (views/articles.py)
/kb/<id>/feedback       "Was this helpful?" form     (views/articles.py)
/kb/<id>/history        who changed it, and when     (views/articles.py)
/tickets/<id>           articles that resolved it    (views/articles.py)
/kb-files/<path>        images and attachments       (views/articles.py)
/problems               files that failed to index   (views/articles.py, tier 2)
/help, /help/kb/<id>    tier-1 self-service          (views/selfserve.py)
/help/escalate          hand over to tier 2          (views/selfserve.py)
/admin/insights         searches, feedback, review   (views/admin.py, admin)
/admin/insights/<report>.csv   the same tables as CSV (views/admin.py, admin)
/api/search             JSON search                  (views/api.py)
/api/suggest            articles for a ticket's text (views/api.py)
/api/autocomplete       completions                  (views/api.py)
/api/articles/<id>      JSON article; /related, /version, /feedback (views/api.py)
/api/tickets/<id>       articles naming a ticket     (views/api.py)
/api/openapi.json       the API description          (views/api.py)
/api/hooks/git          git webhook: pull now        (views/hooks.py, shared secret)
/healthz                health and freshness         (views/health.py)
/metrics                Prometheus figures           (metrics.py)
/login, /logout         token sign-in for browsers   (auth.py)
/static/pygments.css    code highlighting styles
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, Response

from indexer import IndexStorage, KnowledgeBase, Syncer, pygments_css

from . import auth, cookies, csrf, formatting, logs, metrics
from .activity import Activity, Database, is_postgresql
from .clients import TrustedProxy, proxy_networks
from .config import Config, load_config
from .errors import register_error_handlers
from .services import Services
from .signins import SignIns
from .views import admin, api, articles, health, hooks, search, selfserve

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1_000_000  # a ticket with pasted logs fits; anything bigger is refused (413)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _secret_key(config: Config) -> str:
    """The configured key, or one generated once and kept beside the index.

    gunicorn's workers start together, and all of them must sign cookies with the same key:
    each writes a candidate to a file of its own, and a hard link (atomic, never replacing)
    makes the first one written the key; the others read it.
    """
    if config.secret_key:
        return config.secret_key
    if is_postgresql(config.activity_db):
        log.warning(
            "secret_key is not set but the activity store is shared (PostgreSQL): each "
            "replica signs cookies with a key of its own, so a visitor's sign-in, votes and "
            "forms break when the load balancer sends them to another replica. Set the same "
            "KB_SECRET_KEY on every replica."
        )
    path = Path(config.index_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".secret_key.{os.getpid()}")
        handle = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip()


def create_app(config: Config | None = None, found: Services | None = None) -> Flask:
    """Build the Flask app. ``found`` carries an indexer and watcher when this process writes."""
    config = config or load_config()
    app = Flask(__name__)
    app.config.update(
        KB=config,
        SECRET_KEY=_secret_key(config),
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    cookies.init_app(app)
    proxies = proxy_networks(config.trusted_proxy)
    app.wsgi_app = TrustedProxy(app.wsgi_app, proxies)  # type: ignore[method-assign]
    services = found or Services(kb=KnowledgeBase(IndexStorage(config.index_dir), config.kb_dir))
    if services.activity is None:
        services.activity = Activity(
            Database(config.activity_db),
            retention_days=config.activity_retention_days,
            feedback_per_hour=config.feedback_per_hour,
            enabled=config.log_searches,
            queue_limit=config.activity_queue,
        )
    if services.signins is None:
        services.signins = SignIns(services.activity.database)
    if config.hook_secret and services.syncer is None:  # the webhook pulls on request
        services.syncer = Syncer(services.indexer or config.new_indexer())
    app.extensions["kb"] = services

    auth.init_app(app)
    csrf.init_app(app)  # after auth: a refused form's page still knows who is signed in
    logs.init_app(app, on_finished=[metrics.init_app(app, services).observe_request])
    formatting.init_app(app)
    register_error_handlers(app)
    for blueprint in (search.bp, articles.bp, selfserve.bp, admin.bp, api.bp, hooks.bp, health.bp):
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
