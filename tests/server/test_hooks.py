"""The git webhook: secret checks (GitHub's signature, GitLab's token), 202 without waiting."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from ..fixtures import TIER2_TOKEN

SECRET = "a-webhook-secret-for-tests"
BODY = b'{"ref": "refs/heads/main", "after": "0123abcd"}'


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


@pytest.fixture
def hooked(client_with: Callable[..., Any]) -> FlaskClient:
    return client_with(hook_secret=SECRET)


def test_without_a_secret_there_is_no_webhook(client: FlaskClient) -> None:
    answer = client.post("/api/hooks/git", data=BODY, headers=signed(BODY))
    assert answer.status_code == 404
    assert answer.get_json()["error"]["status"] == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        signed(BODY, secret="not-the-secret-at-all"),
        signed(BODY + b" "),  # a signature of another body
        {"X-Hub-Signature-256": "sha256="},
        {"X-Hub-Signature-256": "sha1=0123"},
        {"X-Hub-Signature-256": "sha256=\u00e9\u00e9"},  # not ASCII: still a plain 403
        {"X-Gitlab-Token": "not-the-secret-at-all"},
        {"X-Gitlab-Token": ""},
        {"X-Hub-Signature-256": "sha256=00", "X-Gitlab-Token": SECRET},  # the signature rules
        {"Authorization": f"Bearer {TIER2_TOKEN}"},  # a role does not open the webhook
    ],
)
def test_a_missing_or_wrong_secret_is_refused(hooked: FlaskClient, headers: dict) -> None:
    answer = hooked.post("/api/hooks/git", data=BODY, headers=headers)
    assert answer.status_code == 403
    assert "signature or token" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("headers", [signed(BODY), {"X-Gitlab-Token": SECRET}])
def test_the_right_secret_starts_a_pull_in_the_background(
    hooked: FlaskClient, headers: dict
) -> None:
    started = time.perf_counter()
    answer = hooked.post("/api/hooks/git", data=BODY, headers=headers)
    assert answer.status_code == 202 and answer.get_json()["status"] == "accepted"
    assert time.perf_counter() - started < 0.5  # nobody waits for git
    syncer = hooked.application.extensions["kb"].syncer
    deadline = time.monotonic() + 10
    while not syncer.last_error and time.monotonic() < deadline:
        time.sleep(0.02)
    # the sample repository has no remote: the pull ran, and failed as it should
    assert "no branch to pull" in syncer.last_error
    metrics = hooked.get("/metrics", headers={"Authorization": f"Bearer {TIER2_TOKEN}"})
    assert b"kb_sync_failures_total 1.0" in metrics.data


def test_an_oversized_body_is_413_not_500(hooked: FlaskClient) -> None:
    body = b"x" * 1_100_000
    assert hooked.post("/api/hooks/git", data=body, headers=signed(body)).status_code == 413
