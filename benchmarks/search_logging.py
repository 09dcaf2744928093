"""What recording a search for the insights page costs the person searching.

Two measurements, each a paired comparison in the same run so machine noise cancels out:

1. In process: the same /api/search and / requests through Flask's test client, against
   one app with search logging on and one with it off, alternating request by request.
2. Over HTTP: two `kb serve` processes over the same KB (logging on / off), requests
   alternating between them.

Prints the medians and the median of the paired differences (on - off), plus the cost of
the logging call itself. Uses the sample articles in kb/ and the judged queries.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from benchmarks.server_process import Server
from indexer import Indexer, KnowledgeBase
from server.app import create_app
from server.config import Config
from server.services import Services

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "relevance" / "judged.jsonl"


def queries() -> list[str]:
    return [json.loads(line)["query"] for line in QUERIES.read_text().splitlines() if line]


def paired(
    on: Callable[[str], None], off: Callable[[str], None], texts: list[str], rounds: int
) -> tuple[list[float], list[float]]:
    """Milliseconds per request for each side, alternating which goes first."""
    timed_on, timed_off = [], []
    for round_number in range(rounds):
        for n, text in enumerate(texts):
            sides = [(on, timed_on), (off, timed_off)]
            if (n + round_number) % 2:
                sides.reverse()
            for call, timings in sides:
                started = time.perf_counter()
                call(text)
                timings.append((time.perf_counter() - started) * 1000)
    return timed_on, timed_off


def report(title: str, timed_on: list[float], timed_off: list[float]) -> dict[str, float]:
    differences = [a - b for a, b in zip(timed_on, timed_off, strict=True)]
    figures = {
        "requests_each": len(timed_on),
        "median_on_ms": statistics.median(timed_on),
        "median_off_ms": statistics.median(timed_off),
        "median_paired_difference_ms": statistics.median(differences),
    }
    print(f"{title}: {len(timed_on)} requests each")
    print(f"  logging on   median {figures['median_on_ms']:.3f} ms")
    print(f"  logging off  median {figures['median_off_ms']:.3f} ms")
    print(
        f"  on - off     median of paired differences {figures['median_paired_difference_ms']:+.3f} ms"
    )
    return figures


def in_process(kb_dir: Path, work: Path, rounds: int) -> dict[str, dict[str, float]]:
    indexer = Indexer(kb_dir, work / "index", default_audience="internal")
    indexer.build()
    kb = KnowledgeBase(indexer.storage, kb_dir)

    def client(logging: bool):  # type: ignore[no-untyped-def]
        config = Config(
            kb_dir=kb_dir,
            index_dir=work / "index",
            log_searches=logging,
            activity_db=work / f"activity-{logging}.db",
        )
        return create_app(config, Services(kb=kb)).test_client()

    on, off = client(True), client(False)
    texts = queries()
    figures = {}
    for name, path in (("api", "/api/search?q="), ("page", "/?q=")):

        def call(c, path=path):  # type: ignore[no-untyped-def]
            return lambda text: c.get(path + urllib.parse.quote(text)).close()

        paired(call(on), call(off), texts[:10], 1)  # warm up
        figures[name] = report(
            f"in process, GET {path}", *paired(call(on), call(off), texts, rounds)
        )
    activity = on.application.extensions["kb"].activity
    assert activity.flush(30), "the activity writer fell behind"
    return figures


def record_call_cost(work: Path, count: int = 20_000) -> float:
    """Microseconds for Activity.record itself (building the event and queueing it)."""
    from server.activity import Activity, SearchEvent

    activity = Activity(work / "record.db")
    started = time.perf_counter()
    for n in range(count):
        activity.record(
            SearchEvent(
                f"{n:016x}",
                time.time(),
                "visitor",
                "anonymous",
                "page",
                f"query {n}",
                3,
                ("KB-1", "KB-2"),
            )
        )
    cost = (time.perf_counter() - started) / count * 1e6
    activity.flush(60)
    print(f"Activity.record: {cost:.1f} µs per search event ({count} events)")
    return cost


def over_http(kb_dir: Path, work: Path, rounds: int) -> dict[str, float]:
    on = Server(kb_dir, work / "http-on", KB_WATCH="false", KB_LOG_SEARCHES="true")
    off = Server(kb_dir, work / "http-off", KB_WATCH="false", KB_LOG_SEARCHES="false")
    try:

        def call(server: Server):  # type: ignore[no-untyped-def]
            return lambda text: server.get("/api/search?q=" + urllib.parse.quote(text))

        texts = queries()
        paired(call(on), call(off), texts[:10], 1)
        return report("over HTTP, GET /api/search", *paired(call(on), call(off), texts, rounds))
    finally:
        on.stop()
        off.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--rounds", type=int, default=10, help="passes over the 62 queries")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        figures = {
            "record_call_us": record_call_cost(work),
            "in_process": in_process(args.kb.resolve(), work, args.rounds),
            "http": over_http(args.kb.resolve(), work, args.rounds),
        }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
