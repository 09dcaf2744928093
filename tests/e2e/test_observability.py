"""What operations sees of a running `kb serve`: /metrics and one structured log line per
request (text or JSON), matched to a user's report by the X-Request-ID header."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from ..conftest import LiveServer, start_server, stop_server
from ..fixtures import TIER2_TOKEN

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(rf"^{pattern}$", metrics, re.M)
    assert found, f"no sample {name}{{{wanted}}} in /metrics"
    return float(found[1])


def test_metrics_count_requests_and_describe_the_index(live_server: LiveServer) -> None:
    for _ in range(3):
        assert live_server.get("/api/search?q=outlook")[0] == 200
    assert live_server.get("/kb/no-such-article")[0] == 404
    assert live_server.get("/metrics")[0] == 401  # the count includes internal articles
    status, body = live_server.get("/metrics", TIER2)
    assert status == 200
    text = body.decode()
    search = {"method": "GET", "route": "/api/search", "status": "200"}
    assert sample(text, "kb_http_requests_total", **search) >= 3
    assert sample(text, "kb_http_request_duration_seconds_count", route="/api/search") >= 3
    assert (
        sample(text, "kb_http_request_duration_seconds_bucket", le="+Inf", route="/api/search") >= 3
    )
    assert (
        sample(text, "kb_http_requests_total", method="GET", route="/kb/<path:ref>", status="404")
        >= 1
    )
    health = json.loads(live_server.get("/healthz", TIER2)[1])
    assert sample(text, "kb_index_documents") == health["documents"]
    assert sample(text, "kb_index_up") == 1
    assert sample(text, "kb_indexer_up") == 1
    assert sample(text, "kb_index_lag_seconds") >= 0
    assert sample(text, "kb_index_size_bytes") > 10_000
    assert sample(text, "kb_index_write_failures_total") == 0
    assert sample(text, "process_resident_memory_bytes") > 10_000_000


def _get(server: LiveServer, path: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(server.url + path, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers["X-Request-ID"]


def test_each_request_is_logged_once_with_its_id(live_server: LiveServer) -> None:
    status, request_id = _get(live_server, "/api/search?q=outlook", {"X-Request-ID": "ticket-42"})
    assert (status, request_id) == (200, "ticket-42")
    _, generated = _get(live_server, "/", {})
    assert re.fullmatch(r"[0-9a-f]{16}", generated)
    log = live_server.log_path.read_text()
    line = next(line for line in log.splitlines() if "request_id=ticket-42" in line)
    for field in (
        "method=GET",
        "path=/api/search",
        "route=/api/search",
        "status=200",
        "role=anonymous",
        "query_chars=9",
    ):
        assert field in line
    assert "outlook" not in line  # query text stays out of the log
    assert sum(f"request_id={generated}" in line for line in log.splitlines()) == 1


def test_json_logs_are_one_object_per_line(kb_dir: Path, tmp_path: Path) -> None:
    server = start_server(kb_dir, tmp_path / "index", tmp_path / "serve.log", KB_LOG_FORMAT="json")
    try:
        assert server.get("/api/search?q=vpn", TIER2)[0] == 200
    finally:
        stop_server(server)
    entries = [
        json.loads(line)
        for line in server.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    requests = [e for e in entries if e["logger"] == "kb.request" and e["path"] == "/api/search"]
    assert requests and requests[0]["status"] == 200 and requests[0]["role"] == "tier2"
    assert {"ts", "level", "ms", "bytes", "request_id", "remote"} <= requests[0].keys()
    assert TIER2_TOKEN not in server.log_path.read_text()
