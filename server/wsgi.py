"""The app for gunicorn's workers (``server.wsgi:app``), configured from kb.toml and ``KB_*``.

Workers only read the index; ``kb watch`` writes it (see server/gunicorn_conf.py). Each
worker notices a new commit or a rebuilt index on its next request.
"""

from __future__ import annotations

from . import logs
from .app import create_app
from .config import ConfigError, load_config

try:
    config = load_config()
except ConfigError as exc:
    raise SystemExit(str(exc)) from None
logs.configure(config.log_level, config.log_format)
app = create_app(config)
