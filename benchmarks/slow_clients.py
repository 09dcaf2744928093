"""Slow and idle clients against `kb serve` and the production layout: while one client holds
hundreds of sockets open (half sending nothing, half trickling one header line a second, as
slowloris does), how fast does `/healthz` answer another client?

    python -m benchmarks.slow_clients [--sockets 500] [--seconds 20]

Prints, per server, the health probes' answer times (p50, p99, max) and how many failed or
took over a second. The end-to-end test (tests/e2e/test_slow_clients.py) runs the same with
fewer sockets for a few seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .server_process import NGINX, ProductionLayout, Server

ATTACKER = "127.0.0.2"  # the held sockets come from here; the probing client is 127.0.0.1
PROBE_TIMEOUT = 1.0  # seconds: an answer slower than this counts as failed


class SlowClients:
    """``count`` sockets held open to ``port`` from ``ATTACKER``, half of them idle and half
    sending one more header line every second, until :meth:`close` (or ``seconds``)."""

    def __init__(self, port: int, count: int, seconds: float) -> None:
        self.sockets: list[socket.socket] = []
        self.refused = 0
        for number in range(count):
            sock = socket.socket()
            sock.settimeout(2)
            try:
                sock.bind((ATTACKER, 0))
                sock.connect(("127.0.0.1", port))
                if number % 2:
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                self.refused += 1
                sock.close()
                continue
            self.sockets.append(sock)
        self._stop = threading.Event()
        self._deadline = time.monotonic() + seconds
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        line = 0
        while not self._stop.wait(1.0) and time.monotonic() < self._deadline:
            line += 1
            for sock in self.sockets[1::2]:
                with contextlib.suppress(OSError):  # dropped by the server: that is allowed
                    sock.sendall(f"X-Slow-{line}: {line}\r\n".encode())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


@dataclass
class Probes:
    """Answer times of `/healthz` on new connections from another client."""

    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        slow = sum(t > PROBE_TIMEOUT for t in self.times)
        median = statistics.median(self.times) * 1000 if self.times else 0.0
        figures = f"median {median:.0f} ms, max {max(self.times, default=0) * 1000:.0f} ms"
        return (
            f"{len(self.times)} answered ({figures}), {slow} over 1 s, {len(self.failures)} failed"
        )


def probe_health(port: int, seconds: float, interval: float = 0.2) -> Probes:
    """GET /healthz on a new connection every ``interval`` for ``seconds``."""
    probes = Probes()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/") else b"?"
            if status != b"200":
                probes.failures.append(f"status {status.decode(errors='replace')}")
            else:
                probes.times.append(time.monotonic() - started)
        except OSError as error:
            probes.failures.append(
                f"{type(error).__name__} after {time.monotonic() - started:.2f} s"
            )
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return probes


def under_siege(port: int, sockets: int, seconds: float) -> tuple[SlowClients, Probes]:
    """Hold ``sockets`` slow and idle sockets while probing health for ``seconds``."""
    clients = SlowClients(port, sockets, seconds + 5)
    try:
        time.sleep(1.5)  # past waitress's and gunicorn's first reads of the held sockets
        return clients, probe_health(port, seconds)
    finally:
        clients.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    from tests.fixtures import make_kb_repo

    with tempfile.TemporaryDirectory() as tmp:
        kb = make_kb_repo(Path(tmp) / "repo")
        serve = Server(kb, Path(tmp) / "serve-index", timeout=120)
        try:
            clients, probes = under_siege(serve.port, args.sockets, args.seconds)
            print(f"kb serve, {len(clients.sockets)} sockets held: {probes.summary()}")
        finally:
            serve.stop()
        if not NGINX.exists():
            print(f"production layout: skipped, {NGINX} is missing (apt-get install nginx)")
            return
        layout = ProductionLayout(kb, Path(tmp) / "layout")
        try:
            clients, probes = under_siege(layout.port, args.sockets, args.seconds)
            print(f"nginx + gunicorn, {len(clients.sockets)} sockets held: {probes.summary()}")
            # the same workers without their front, to show why the README asks for it
            clients, probes = under_siege(layout.upstream, args.sockets, args.seconds)
            print(
                f"gunicorn alone (no nginx), {len(clients.sockets)} sockets held: "
                f"{probes.summary()}"
            )
        finally:
            layout.stop()


if __name__ == "__main__":
    main()
