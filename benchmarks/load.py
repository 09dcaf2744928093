"""Load: many clients searching and reading while an author saves an article every second.

`kb serve` runs on a generated knowledge base (default 10,000 articles) and ``--clients``
threads (default 32), each with its own keep-alive connection, send a mix of requests for
``--seconds`` (default 60): searches over the API (short, long and error-code queries) and
the HTML page, article pages, JSON articles and autocomplete. Meanwhile an author appends
a line to an article every second, and every saved word must become searchable.

Prints requests served, errors (any 5xx, any connection failure, any unexpected status),
p50/p95/p99 latency per kind and overall, throughput, and the server's RSS after warm-up
and at the end. Writes the figures as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import KeepAlive, percentiles, rss_bytes
from benchmarks.server_process import Server
from benchmarks.synthetic import WORDS, generate

TOKEN = "load-test-token"
WARM_UP = 0.2  # share of the run before the RSS baseline is taken
CATCH_UP = 15.0  # seconds after the run for every saved word to become searchable


@dataclass
class LoadResult:
    seconds: float
    clients: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    saves: int = 0
    saves_found: int = 0
    catch_up: float = 0.0  # seconds after the run until the last save was searchable
    rss_warm: int = 0
    rss_end: int = 0

    @property
    def requests(self) -> int:
        return sum(len(times) for times in self.latencies.values())

    def summary(self) -> dict:
        every = [t for times in self.latencies.values() for t in times]
        kinds = {kind: percentiles(times) for kind, times in sorted(self.latencies.items())}
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "requests": self.requests,
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "throughput_rps": round(self.requests / self.seconds, 1),
            "latency_ms": percentiles(every),
            "by_kind_ms": kinds,
            "author_saves": self.saves,
            "saves_searchable": self.saves_found,
            "catch_up_s": round(self.catch_up, 1),
            "rss_warm_mb": round(self.rss_warm / 2**20, 1),
            "rss_end_mb": round(self.rss_end / 2**20, 1),
            "rss_growth": round(self.rss_end / self.rss_warm - 1, 3) if self.rss_warm else None,
        }


def _requests(kb: Path, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, path) pairs to draw from: ids and error codes taken from the articles."""
    ids, codes = [], []
    for path in sorted(kb.rglob("*.md"))[:2000]:
        head = path.read_text()[:600]
        for line in head.splitlines():
            if line.startswith("id: "):
                ids.append(line[4:].strip())
            elif line.startswith("error_codes: "):
                codes.append(line.split('"')[1] if '"' in line else "")
    quote = urllib.parse.quote
    pool: list[tuple[str, str]] = []
    for _ in range(400):
        short = rng.choice(WORDS)
        long = " ".join(rng.choice(WORDS) for _ in range(8))
        pool += [
            ("search short", f"/api/search?q={quote(short)}"),
            ("search long", f"/api/search?q={quote(long)}"),
            ("search error code", f"/api/search?q={quote(rng.choice(codes))}"),
            ("search page", f"/?q={quote(short)}"),
            ("article page", f"/kb/{rng.choice(ids)}"),
            ("article api", f"/api/articles/{rng.choice(ids)}"),
            ("autocomplete", f"/api/autocomplete?q={quote(short[:3])}"),
        ]
    return pool


def _client(
    server: Server,
    pool: list[tuple[str, str]],
    until: float,
    seed: int,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {TOKEN}"} if seed % 2 else {}  # tier 2 and anonymous
    client = KeepAlive(server.url, headers)
    try:
        while time.monotonic() < until:
            kind, path = rng.choice(pool)
            started = time.perf_counter()
            try:
                status, _ = client.get(path)
            except (OSError, http.client.HTTPException) as exc:
                problem = f"{kind} {path}: {type(exc).__name__}: {exc}"
            else:
                # anonymous clients may ask for internal articles: 404 is the right answer
                problem = "" if status in (200, 404) else f"{kind} {path}: HTTP {status}"
            elapsed = time.perf_counter() - started
            with lock:
                result.latencies[kind].append(elapsed)
                if problem:
                    result.errors.append(problem)
    finally:
        client.close()


def _author(server: Server, kb: Path, until: float, result: LoadResult) -> None:
    """Append a unique word to one article a second. After the run, wait (up to CATCH_UP
    seconds) until every word is searchable: nothing may be lost, and the wait is the
    indexing lag the load caused."""
    paths = sorted(kb.rglob("*.md"))
    words = []
    while time.monotonic() < until - 1.0:
        word = f"loadsave{len(words)}x"
        with paths[(len(words) * 97) % len(paths)].open("a") as handle:
            handle.write(f"\n{word}\n")
        words.append(word)
        time.sleep(1.0)
    result.saves = len(words)
    while True:
        result.saves_found = sum(bool(server.search(word)["total"]) for word in words)
        result.catch_up = max(0.0, time.monotonic() - until)
        if result.saves_found == len(words) or result.catch_up > CATCH_UP:
            return
        time.sleep(0.2)


def _first_of_each_kind(server: Server, pool: list[tuple[str, str]]) -> None:
    """One request of each kind before the clocks start: what a server loads on first use
    (the meaning encoder, about 100 MB) is not growth under load, and it would otherwise
    land before or after the RSS baseline by chance."""
    client = KeepAlive(server.url, {"Authorization": f"Bearer {TOKEN}"})
    try:
        for kind in dict.fromkeys(kind for kind, _ in pool):
            client.get(next(path for other, path in pool if other == kind))
    finally:
        client.close()


def run_load(server: Server, kb: Path, seconds: float, clients: int) -> LoadResult:
    """Drive ``server`` for ``seconds`` with ``clients`` threads and an author."""
    result = LoadResult(seconds=seconds, clients=clients)
    pool = _requests(kb, random.Random(7))
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(server, pool, until, n, result, lock))
        for n in range(clients)
    ]
    threads.append(threading.Thread(target=_author, args=(server, kb, until, result)))
    _first_of_each_kind(server, pool)
    for thread in threads:
        thread.start()
    time.sleep(seconds * WARM_UP)
    result.rss_warm = rss_bytes(server.process.pid)
    for thread in threads:
        thread.join()
    result.rss_end = rss_bytes(server.process.pid)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        kb = generate(root / "repo", args.articles)
        started = time.monotonic()
        server = Server(kb, root / "index", timeout=3600, token=TOKEN, KB_TOKENS=f"tier2:{TOKEN}")
        print(f"{args.articles} articles indexed and served in {time.monotonic() - started:.0f} s")
        try:
            figures = run_load(server, kb, args.seconds, args.clients).summary()
        finally:
            server.stop()
    figures["articles"] = args.articles
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
