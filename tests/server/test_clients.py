"""Forwarding headers: believed from the trusted proxy only, and a hint when one is missing."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

FORWARDED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}


def test_a_proxy_nobody_configured_is_named_once_in_the_log(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="server.clients"):
        for _ in range(3):
            assert client.get("/", headers=FORWARDED).status_code == 200
    hints = [r.getMessage() for r in caplog.records if "KB_TRUSTED_PROXY" in r.getMessage()]
    assert len(hints) == 1 and "127.0.0.1" in hints[0]


def test_the_trusted_proxy_is_believed_quietly(
    client_with: Callable[..., FlaskClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = client_with(trusted_proxy="127.0.0.1")
    with caplog.at_level(logging.WARNING, logger="server.clients"):
        page = client.get("/login", headers=FORWARDED)
    assert "secure" in page.headers["Set-Cookie"].lower()  # it said https
    assert not [r for r in caplog.records if "KB_TRUSTED_PROXY" in r.getMessage()]
