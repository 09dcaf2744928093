"""Blueprints, one module per area: search page, article pages, JSON API, health."""
