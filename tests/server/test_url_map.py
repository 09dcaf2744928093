"""``server/app.py`` opens with the map of every URL: it must not fall behind the app."""

from __future__ import annotations

import re

from flask import Flask

from server import app as app_module


def test_every_route_is_in_the_app_docstring(app: Flask) -> None:
    listed = app_module.__doc__ or ""
    # /kb/<path:ref> is listed as /kb/<id>: compare the fixed parts of each rule
    listed_parts = re.sub(r"<[^>]+>", "<>", listed)
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not all(
            part in listed_parts for part in re.sub(r"<[^>]+>", "<>", rule.rule).split("<>") if part
        )
    ]
    assert not missing, f"routes missing from server/app.py's docstring: {missing}"
