"""Read replicas, for real: a bare "origin" repository, two clones each served by its own
`kb serve` with its own index, and a push of a new, an edited and a deleted article.

One replica is told by the git webhook, the other pulls every second (KB_SYNC_INTERVAL).
Neither watches its files, so the sync alone must bring each index up to date. Measured:
push -> both replicas answer alike, printed after the run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import LiveServer, start_server, stop_server, wait_until
from ..figures import report
from ..fixtures import TIER2_TOKEN, clone, make_origin, push_changes

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
SECRET = "replica-webhook-secret"
WORD = "replicaquokka"
QUERIES = (WORD, "outlook password", "spooler", "0x80070005", "")


def hook(server: LiveServer, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        server.url + "/api/hooks/git",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def github_signature(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


def ids(server: LiveServer, query: str) -> list[str]:
    status, body = server.get(
        "/api/search?" + urllib.parse.urlencode({"q": query, "limit": 50}), TIER2
    )
    assert status == 200, body[:300]
    return [hit["id"] for hit in json.loads(body)["results"]]


def converged(server: LiveServer, pushed: dict[str, str]) -> bool:
    found = ids(server, WORD)
    return (
        pushed["added"] in found
        and pushed["edited"] in found
        and pushed["deleted"] not in ids(server, "spooler")
        and server.get(f"/api/articles/{pushed['deleted']}", TIER2)[0] == 404
    )


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[Path, LiveServer, LiveServer]]:
    """The author's repository, a replica told by webhook and one pulling every second."""
    author = make_origin(tmp_path)
    origin = tmp_path / "origin.git"
    servers = []
    try:
        servers.append(
            start_server(
                clone(origin, tmp_path / "replica-hook"),
                tmp_path / "index-hook",
                tmp_path / "hook.log",
                KB_HOOK_SECRET=SECRET,
                KB_WATCH="false",
            )
        )
        servers.append(
            start_server(
                clone(origin, tmp_path / "replica-interval"),
                tmp_path / "index-interval",
                tmp_path / "interval.log",
                KB_SYNC_INTERVAL="1",
                KB_WATCH="false",
            )
        )
        yield author, servers[0], servers[1]
    finally:
        for server in servers:
            stop_server(server)


def test_a_push_reaches_both_replicas(replicas: tuple[Path, LiveServer, LiveServer]) -> None:
    author, by_hook, by_interval = replicas
    assert [ids(by_hook, q) for q in QUERIES] == [ids(by_interval, q) for q in QUERIES]
    assert "printing/spooler" in ids(by_hook, "spooler")

    pushed = push_changes(author, WORD)
    started = time.monotonic()
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    assert hook(by_hook, body, github_signature(body)) == 202
    took = {}
    for name, server in (("webhook", by_hook), ("every 1 s", by_interval)):
        wait_until(lambda server=server: converged(server, pushed), timeout=30, interval=0.05)
        took[name] = time.monotonic() - started

    assert [ids(by_hook, q) for q in QUERIES] == [ids(by_interval, q) for q in QUERIES]
    for name, seconds in took.items():
        report(
            "read replicas (push -> replica answers with it)",
            f"replica pulling on {name}: {seconds * 1000:.0f} ms",
        )


def test_the_webhook_needs_the_secret(replicas: tuple[Path, LiveServer, LiveServer]) -> None:
    _, by_hook, by_interval = replicas
    body = b'{"ref": "refs/heads/main"}'
    assert hook(by_hook, body, {}) == 403
    assert hook(by_hook, body, github_signature(body, "some-other-secret")) == 403
    assert hook(by_hook, body + b" ", github_signature(body)) == 403
    assert hook(by_hook, body, {"X-Gitlab-Token": "some-other-secret"}) == 403
    assert hook(by_hook, body, {"X-Gitlab-Token": SECRET}) == 202
    assert hook(by_interval, body, github_signature(body)) == 404  # no secret configured
