"""`kb serve` (or a peer engine's server) as a real child process, for end-to-end tests and
benchmarks alike."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChildServer:
    """An HTTP server run as a child process on ``port``; returns once ``health`` answers 200.

    ``token``: a bearer token sent with every request."""

    def __init__(self, name: str, command: list[str], port: int, log_path: Path, timeout: float,
                 health: str = "/healthz", token: str | None = None, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.token = token
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(command, cwd=cwd, env=os.environ | (env or {}),
                                        stdout=self.log, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                raise RuntimeError(f"{name} exited: {self.log_path.read_text()}")
            try:
                if self.get(health)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not become healthy: {self.log_path.read_text()}")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        if headers is None:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def search(self, query: str, **params: str | int) -> dict:
        status, body = self.get("/api/search?" + urllib.parse.urlencode({"q": query, **params}))
        if status != 200:
            raise RuntimeError(f"search answered {status}: {body[:200]!r}")
        return json.loads(body)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Server(ChildServer):
    """Starts `kb serve` on a free port and returns once /healthz answers 200."""

    def __init__(self, kb_dir: Path, index_dir: Path, log_path: Path | None = None,
                 timeout: float = 600.0, token: str | None = None, **env: str) -> None:  # fmt: skip
        """``token``: a bearer token sent with every request (configure it with KB_TOKENS)."""
        self.kb_dir = kb_dir
        port = free_port()
        activity = index_dir.parent / f"{index_dir.name}-activity.sqlite3"
        super().__init__(
            "kb serve", [sys.executable, "-m", "server", "serve", "--kb", str(kb_dir), "--index-dir",
             str(index_dir), "--port", str(port)],
            port, log_path or index_dir.parent / f"serve-{port}.log", timeout, token=token,
            cwd=kb_dir.parent,
            env={"KB_LOG_LEVEL": "WARNING", "KB_ACTIVITY_DB": str(activity)} | env,
        )  # fmt: skip
