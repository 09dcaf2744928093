"""kb-search web service: the Flask app, its views and the `kb` command line."""

from .app import create_app

__all__ = ["create_app"]
