"""The git webhook: a push to the knowledge base's repository makes this replica pull now.

Authenticated by a shared secret (``hook_secret``), as GitHub signs (``X-Hub-Signature-256:
sha256=<HMAC-SHA256 of the body>``) or as GitLab sends it (``X-Gitlab-Token``), compared in
constant time. The answer is 202 at once: the pull runs on the syncer's thread, and a burst
of hooks becomes one pull. The body is not read for anything else, since the pull takes
whatever the remote has. Without a secret configured the endpoint does not exist (404).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..errors import Forbidden, NotFound
from ..services import services

log = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__, url_prefix="/api/hooks")


def authentic(secret: str, body: bytes, github: str | None, gitlab: str | None) -> bool:
    """Whether the request carries the secret: GitHub's signature if sent, else GitLab's token."""
    if github is not None:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), github.strip().encode())
    if gitlab is not None:
        return hmac.compare_digest(secret.encode(), gitlab.encode())
    return False


@bp.post("/git")
def git() -> ResponseReturnValue:
    """Pull from the remote and index what changed, in the background."""
    secret = current_app.config["KB"].hook_secret
    syncer = services().syncer
    if not secret or syncer is None:
        raise NotFound("No git webhook here: set hook_secret to enable it.")
    body = request.get_data(cache=False)
    headers = request.headers
    if not authentic(
        secret, body, headers.get("X-Hub-Signature-256"), headers.get("X-Gitlab-Token")
    ):
        raise Forbidden("The webhook signature or token is missing or wrong.")
    syncer.request()
    log.info("git webhook: pull requested")
    return jsonify({"status": "accepted", "message": "pulling from the remote"}), 202
