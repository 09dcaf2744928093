"""Nobody can forge a log line: control characters from a request or a file name reach the
log of a real `kb serve` only escaped, in text and in JSON format (issue 16, finding 6).

A path such as ``/x%0A<a fake record>`` would otherwise start a line of its own that reads
like a genuine record (an admin signing in, say) to whoever greps the log.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from ..conftest import start_server, stop_server
from ..fixtures import git, make_kb_repo, write

STAMP = "1999-12-31T23:59:59.000+00:00"  # no genuine record has it
FORGED = f"{STAMP} INFO kb.request: POST /login 302 method=POST path=/login role=admin"
# what may come between text and a new line, or look like one: every kind of line break,
# other C0 and C1 controls, terminal escapes
BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1b[2K\r", "\x00"]
RECORD = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 (DEBUG|INFO|WARNING|ERROR) \S+: "
)


def _send(port: int, raw: bytes) -> bytes:
    """One request exactly as written (no client-side checks), and the status line back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        reply = b""
        while b"\r\n" not in reply and (chunk := sock.recv(4096)):
            reply += chunk
    return reply.split(b"\r\n", 1)[0]


def _forgeries(port: int) -> int:
    """Send every forgery the HTTP layer lets through; returns how many requests it answered."""
    requests = []
    for brk in BREAKS:
        escaped = quote(brk + FORGED).encode()
        requests += [
            b"GET /kb/x" + escaped + b" HTTP/1.1\r\n",  # the path
            b"GET /api/search?q=x" + escaped + b" HTTP/1.1\r\n",  # the query
            b"GET /nowhere" + escaped + b"?limit=" + escaped + b" HTTP/1.1\r\n",
        ]
    raw_path = FORGED.replace(" ", "%20").encode()
    for brk in (b"\x0b", b"\x0c", b"\x1b", b"\x85", b"\xe2\x80\xa8"):  # raw bytes, not %-escaped
        requests.append(b"GET /kb/x" + brk + raw_path + b" HTTP/1.1\r\n")
    answered = 0
    for line in requests:
        headers = (
            b"Host: 127.0.0.1\r\nConnection: close\r\n"
            b"X-Request-ID: id%0A" + quote(FORGED).encode() + b"\r\n"
            b"User-Agent: agent\x85" + FORGED.encode() + b"\r\n"
            b"Referer: http://x/%0D%0A" + quote(FORGED).encode() + b"\r\n\r\n"
        )
        answered += _send(port, line + headers).startswith(b"HTTP/1.1 ")
    for smuggled in (  # raw CR and LF: the HTTP layer refuses them (400), nothing may be logged
        b"GET /kb/x\n" + FORGED.encode() + b" HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /kb/x HTTP/1.1\r\nHost: a\r\nUser-Agent: a\r" + FORGED.encode() + b"\r\n\r\n",
        b"GET /kb/x HTTP/1.1\r\nHost: a\r\nX-Request-ID: a\n" + FORGED.encode() + b"\r\n\r\n",
    ):
        assert _send(port, smuggled).split(b" ")[1] == b"400"
    return answered


def _forging_kb(root: Path) -> Path:
    """The sample KB and article files whose names carry a forged record (they are refused,
    and the refusal names the file in the log)."""
    kb = make_kb_repo(root / "repo")
    for number, brk in enumerate(("\n", "\r", "\x1b[1A")):
        write(kb, f"forged/{number}{brk}{FORGED}.md", "A name no permalink can carry.\n")
    git(root / "repo", "add", "-A")
    git(root / "repo", "commit", "-q", "-m", "File names with line breaks")
    return kb


def _log(path: Path, needle: str, timeout: float = 10.0) -> str:
    """The log once ``needle`` (written by the last request) has reached it."""
    deadline = time.monotonic() + timeout
    while needle not in (text := path.read_text(errors="replace")) and time.monotonic() < deadline:
        time.sleep(0.05)
    return text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_control_characters_never_start_a_log_line(tmp_path: Path, log_format: str) -> None:
    kb = _forging_kb(tmp_path)
    server = start_server(kb, tmp_path / "index", tmp_path / "serve.log", KB_LOG_FORMAT=log_format)
    try:
        answered = _forgeries(server.port)
        server.get("/healthz?last=1")
        text = _log(server.log_path, "/healthz")
    finally:
        stop_server(server)
    assert answered == 3 * len(BREAKS) + 5
    lines = text.split("\n")
    assert lines.pop() == ""
    assert lines, "nothing was logged"
    if log_format == "json":
        entries = [json.loads(line) for line in lines]  # each line is one whole record
        assert all(line.isascii() for line in lines)  # U+2028 and the like arrive as \u escapes
        paths = {entry.get("path") for entry in entries if entry["logger"] == "kb.request"}
        assert "/kb/x\n" + FORGED in paths  # the record keeps the exact path, as JSON escapes
        assert any(FORGED in entry["message"] for entry in entries if entry["level"] == "WARNING")
        return
    for line in lines:
        assert RECORD.match(line) and not line.startswith(STAMP), f"not a record: {line!r}"
        assert line.isprintable(), f"a control character in the log: {line!r}"
    # the forged record is there, escaped, from every path and every file name
    an_escape = r"\\(?:[nr]|x[0-9a-f]{2}|u[0-9a-f]{4})(?:\[\d[A-Z])?"  # maybe ESC [ 1 A
    escaped = re.findall(an_escape + re.escape(FORGED), text)
    assert len(escaped) == text.count(FORGED)
    assert f'path="/kb/x\\n{FORGED}"' in text
    for number in range(3):  # each refused file is named, escaped, on a line of its own
        assert any(f"skipped forged/{number}\\" in line for line in lines)
