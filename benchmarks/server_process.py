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

from server.cli import GUNICORN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def terminate(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ChildServer:
    """An HTTP server run as a child process on ``port``; returns once ``health`` answers 200.

    ``token``: a bearer token sent with every request."""

    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        log_path: Path,
        timeout: float,
        health: str = "/healthz",
        token: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.token = token
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=os.environ | (env or {}),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
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
        terminate(self.process)
        self.log.close()


class Server(ChildServer):
    """Starts `kb serve` on a free port and returns once /healthz answers 200."""

    def __init__(
        self,
        kb_dir: Path,
        index_dir: Path,
        log_path: Path | None = None,
        timeout: float = 600.0,
        token: str | None = None,
        **env: str,
    ) -> None:
        """``token``: a bearer token sent with every request (configure it with KB_TOKENS)."""
        self.kb_dir = kb_dir
        port = free_port()
        activity = index_dir.parent / f"{index_dir.name}-activity.sqlite3"
        super().__init__(
            "kb serve",
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--kb",
                str(kb_dir),
                "--index-dir",
                str(index_dir),
                "--port",
                str(port),
            ],
            port,
            log_path or index_dir.parent / f"serve-{port}.log",
            timeout,
            token=token,
            cwd=kb_dir.parent,
            env={"KB_LOG_LEVEL": "WARNING", "KB_ACTIVITY_DB": str(activity)} | env,
        )


NGINX = Path("/usr/sbin/nginx")
NGINX_SITE = Path(__file__).resolve().parent.parent / "server" / "deploy" / "nginx.conf"


class ProductionLayout:
    """The README's production layout on free ports: `kb watch` writing the index, gunicorn's
    workers reading it, and nginx in front with the shipped site file (server/deploy/).

    ``url`` is nginx's; ``env`` adds settings for both kb processes."""

    def __init__(
        self, kb_dir: Path, folder: Path, timeout: float = 120.0, env: dict[str, str] | None = None
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        upstream = free_port()
        settings = {
            "KB_KB_DIR": str(kb_dir),
            "KB_INDEX_DIR": str(folder / "index"),
            "KB_HOST": "127.0.0.1",
            "KB_PORT": str(upstream),
            "KB_ACTIVITY_DB": str(folder / "activity.sqlite3"),
            "KB_LOG_LEVEL": "WARNING",
            "KB_TRUSTED_PROXY": "127.0.0.1",  # nginx, as the README says to set it
        } | (env or {})
        self._watch_log = (folder / "watch.log").open("ab")
        self.watch = subprocess.Popen(
            [sys.executable, "-m", "server", "watch"],
            cwd=folder,
            env=os.environ | settings,
            stdout=self._watch_log,
            stderr=subprocess.STDOUT,
        )
        self.servers: list[ChildServer] = []
        try:
            self.servers.append(
                ChildServer(
                    "gunicorn",
                    GUNICORN,
                    upstream,
                    folder / "gunicorn.log",
                    timeout,
                    cwd=folder,
                    env=settings,
                )
            )
            self.servers.append(start_nginx(folder, [upstream], timeout))
        except BaseException:
            self.stop()
            raise
        self.url = self.servers[-1].url
        self.port = self.servers[-1].port
        self.upstream = upstream  # gunicorn's own port, behind nginx

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        terminate(self.watch)
        self._watch_log.close()


def start_nginx(folder: Path, upstreams: list[int], timeout: float = 60.0) -> ChildServer:
    """nginx on a free port with the shipped site file, passing requests to ``upstreams``
    (one kb-search, or replicas to balance). A main configuration of our own keeps its pid,
    logs and buffers in ``folder``; the site file's marked lines are set to these ports."""
    port = free_port()
    site = NGINX_SITE.read_text()
    servers = "".join(f"    server 127.0.0.1:{upstream};\n" for upstream in upstreams)
    for line, value in (
        ("    listen 80;", f"    listen 127.0.0.1:{port};"),
        ("    server 127.0.0.1:8000;", servers.rstrip("\n")),
    ):
        assert line in site, f"{NGINX_SITE} no longer has {line!r}"
        site = site.replace(line, value)
    (folder / "site.conf").write_text(site)
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
        path.chmod(0o777)  # nginx's workers drop root for nobody
    paths = "".join(
        f"  {name}_temp_path {path};\n".replace("body_temp", "client_body_temp")
        for name, path in temp.items()
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\nworker_rlimit_nofile 8192;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/nginx-error.log warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n  access_log off;\n{paths}  include {folder}/site.conf;\n}}\n"
    )
    command = [str(NGINX), "-p", str(folder), "-c", str(conf), "-g", "daemon off;"]
    return ChildServer("nginx", command, port, folder / "nginx.log", timeout, cwd=folder)
