"""Scaling out: searches per second through nginx with one replica and with two, sharing a
PostgreSQL activity store, and the rate at which that store takes activity events.

The KB is the realistic generator's (paragraphs of ../shared/bench/corpus recombined with a
seed; the suite's own generator without it). Each replica is `kb serve` over its own clone
and its own copy of one index build, on this machine, behind the shipped nginx site file,
all of it (and PostgreSQL, and the clients) sharing the machine's cores. Every search is
recorded, so the activity store is written throughout; the write rate is measured twice:
the rows the replicas wrote during the run, and one writer given a burst to write.

    python -m benchmarks.replicas [--articles 2000] [--clients 16] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import realistic, synthetic
from benchmarks.postgres import PostgresServer
from benchmarks.server_process import ChildServer, Server, start_nginx
from benchmarks.suite import make_queries, throughput
from server.activity import Activity, Database, SearchEvent

TOKEN = "replicas-bench-token"


def _rows(url: str) -> int:
    with Database(url).connect(wait=True) as connection:
        return int(connection.execute("SELECT count(*) FROM searches").fetchone()[0])


def _burst(url: str, events: int) -> float:
    """Events per second one process's writer puts into the store, from a full queue."""
    activity = Activity(Database(url), queue_limit=events + 10)
    now = time.time()
    started = time.monotonic()
    for n in range(events):
        activity.record(
            SearchEvent(f"{n:016x}", now + n, f"burst-{n}", "tier2", "api", f"q {n}", 3, ("a",))
        )
    assert activity.flush(timeout=600)
    rate = events / (time.monotonic() - started)
    activity.database.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=20_000)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-replicas-"))
    figures: dict[str, object] = {"articles": options.articles, "clients": options.clients}
    generator = realistic if realistic.available() else synthetic
    author = generator.generate(work / "author", options.articles).parent
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(author), str(work / "origin.git")], check=True
    )
    postgres = PostgresServer(work / "postgres")
    url = postgres.create_database("kb")
    shared = {
        "KB_ACTIVITY_DB": url,
        "KB_SECRET_KEY": secrets.token_hex(32),
        "KB_TRUSTED_PROXY": "127.0.0.1",
        "KB_WATCH": "false",
        "KB_TOKENS": f"tier2:{TOKEN}",
        "KB_LOG_LEVEL": "WARNING",
    }
    clones = []
    for name in ("one", "two"):
        subprocess.run(
            ["git", "clone", "-q", str(work / "origin.git"), str(work / name)], check=True
        )
        clones.append(work / name / "kb")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "index",
            "--kb",
            str(clones[0]),
            "--index-dir",
            str(work / "index-one"),
        ],
        check=True,
        capture_output=True,
        env=os.environ | shared,
    )
    shutil.copytree(work / "index-one", work / "index-two")
    replicas: list[Server] = []
    balancers: list[ChildServer] = []
    try:
        for name, kb in zip(("one", "two"), clones, strict=True):
            replicas.append(Server(kb, work / f"index-{name}", token=TOKEN, **shared))
        queries = make_queries(clones[0], 200, 50)
        for layout, upstreams in (("1 replica", replicas[:1]), ("2 replicas", replicas)):
            folder = work / f"nginx-{len(upstreams)}"
            folder.mkdir()
            balancer = start_nginx(folder, [r.port for r in upstreams])
            balancer.token = TOKEN
            balancers.append(balancer)
            throughput(balancer, queries.mix, options.clients, 3.0, 0)  # warm-up
            before, started = _rows(url), time.monotonic()
            result = throughput(balancer, queries.mix, options.clients, options.seconds, 7)
            time.sleep(1.5)  # the last batches
            written = _rows(url) - before
            result["activity_rows_per_s"] = round(written / (time.monotonic() - started), 1)
            result.pop("rss_max", None)
            figures[layout] = result
            print(
                f"{layout} through nginx, {options.clients} clients, {options.seconds:.0f} s: "
                f"{result['rps']} searches/s, p50 {result['p50']} ms, p95 {result['p95']} ms, "
                f"{result['errors']} errors; activity rows written "
                f"{result['activity_rows_per_s']}/s",
                flush=True,
            )
            balancer.stop()
        one, two = figures["1 replica"], figures["2 replicas"]
        assert isinstance(one, dict) and isinstance(two, dict)
        print(f"2 replicas / 1 replica: {two['rps'] / one['rps']:.2f}x searches per second")
    finally:
        for replica in replicas:
            replica.stop()
    figures["burst_events_per_s"] = round(_burst(url, options.burst))
    print(
        f"activity store (PostgreSQL): one writer took {options.burst} queued events at "
        f"{figures['burst_events_per_s']} events/s"
    )
    postgres.close()
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
