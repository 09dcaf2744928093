"""Browser sign-in (issue 16, finding 8): what the cookie holds, and how a session ends:
sign-out, a token taken out of the configuration, idleness and age."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.config import Config
from server.services import Services

from ..conftest import config_with_tokens
from ..fixtures import TIER2_TOKEN
from ..forms import session_payload, submit


@pytest.fixture
def config(kb_dir: Path, index_dir: Path, activity_location: str) -> Config:
    """These tests run with the activity kept in SQLite and in PostgreSQL."""
    return config_with_tokens(kb_dir, index_dir, activity_location)


def sign_in(client: FlaskClient, token: str = TIER2_TOKEN) -> None:
    assert submit(client, "/login", "/login", token=token).status_code == 302


def cookie(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie(client))
    return other


def signed_in(client: FlaskClient) -> bool:
    """Whether the cookie still gives tier 2: the internal article is there (200) or not."""
    return client.get("/kb/KB-2003").status_code == 200


def test_the_cookie_reveals_nothing_about_the_token(app: Flask) -> None:
    token = TIER2_TOKEN.encode()
    derived = {TIER2_TOKEN}
    for name in ("md5", "sha1", "sha256", "sha512"):
        digest = hashlib.new(name, token).digest()
        derived |= {digest.hex(), base64.b64encode(digest).decode().rstrip("=")}
    readable = []
    for _ in range(2):
        browser = app.test_client()
        sign_in(browser)
        assert signed_in(browser)
        payload = session_payload(cookie(browser))
        assert payload, "the session cookie should be Flask's readable, signed JSON"
        assert not [d for d in derived if d in payload], payload
        readable.append(json.loads(payload))
    first, second = readable
    shared = {json.dumps(v) for v in first.values()} & {json.dumps(v) for v in second.values()}
    allowed = {"true", '"tier2"'}  # Flask's "_permanent" flag, and the role were it kept
    assert shared <= allowed, f"two sign-ins with one token share {shared}"


def test_a_cookie_stops_working_when_its_token_is_removed(
    client: FlaskClient, client_with: Callable[..., FlaskClient]
) -> None:
    sign_in(client)
    reconfigured = client_with(tokens="tier1:another-token-entirely")  # same key, same store
    reconfigured.set_cookie("session", cookie(client))
    assert not signed_in(reconfigured)
    assert reconfigured.get("/problems").status_code == 302  # sent to sign in


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(client)
    copied = copy_of(app, client)
    assert signed_in(copied)
    assert submit(client, "/kb/KB-2003", "/logout").status_code == 302
    assert not signed_in(client)
    assert not signed_in(copied)
    assert copied.get("/problems").headers["Location"].startswith("/login")


def test_a_session_ends_after_idling_and_after_its_lifetime(app: Flask) -> None:
    services: Services = app.extensions["kb"]
    signins = services.signins
    signins.idle_seconds, signins.lifetime_seconds = 1.0, 60.0
    idle = app.test_client()
    sign_in(idle)
    time.sleep(1.3)
    assert not signed_in(idle)

    signins.idle_seconds, signins.lifetime_seconds = 60.0, 2.0
    busy = app.test_client()
    sign_in(busy)
    started = time.monotonic()
    while time.monotonic() - started < 1.5:  # in use all along
        assert signed_in(busy)
        time.sleep(0.3)
    time.sleep(0.8)
    assert not signed_in(busy)


def test_without_a_sign_in_store_signing_in_is_refused_clearly(
    tmp_path: Path, client_with: Callable[..., FlaskClient]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    client = client_with(activity_db=blocker / "activity.sqlite3")
    refused = submit(client, "/login", "/login", token=TIER2_TOKEN)
    assert refused.status_code == 503 and "not possible right now" in refused.text
    assert not signed_in(client)


def test_the_cookie_is_http_only_same_site_and_secure_when_configured(
    client: FlaskClient, client_with: Callable[..., FlaskClient]
) -> None:
    def flags(browser: FlaskClient) -> set[str]:
        page = browser.get("/login")
        form = submit(browser, "/login", "/login", token=TIER2_TOKEN)
        header = form.headers.get("Set-Cookie") or page.headers["Set-Cookie"]
        return {part.strip().lower() for part in header.split(";")[1:]}

    plain = flags(client)  # over http, as the default ("auto") sees it
    assert {"httponly", "samesite=lax"} <= plain and "secure" not in plain
    assert "secure" in flags(client_with(session_cookie_secure="always"))
