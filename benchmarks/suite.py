"""`make bench`: kb-search at 1k and 10k articles (100k on request), beside SQLite FTS5 and
tantivy doing the same work on the same files in the same run.

For each size, a generated KB is committed to an origin repository and cloned twice: one
clone for `kb serve`, one for the peers. Its text is real support text by default
(benchmarks/realistic.py: the paragraphs of ../shared/bench/corpus recombined with a seed),
or, with --text synthetic or without the corpus, benchmarks/synthetic.py's small vocabulary.
Measured for every engine:

1. full build of the index by a subprocess: wall time, docs/s, peak RSS of the process and
   all its descendants (kb-search builds in spawned workers), sampled every 0.2 s;
2. the index's size on disk;
3. freshness: a 1,000-file `git pull` (the origin commits one shared new word to 1,000
   articles; the clock runs from the pull until a search for the word counts all of them),
   then edits (a unique word appended to a different article each time, until a search
   finds it). kb-search: `kb serve` with its watcher, polled over HTTP every 20 ms. Peers:
   in process (re-read the files, replace the rows or documents, commit, search);
4. search latency over HTTP with one keep-alive client: short (one word), long (8-12 words)
   and error-code queries, distinct strings of each kind, after a warm-up; and whole
   help-desk tickets from ../shared/bench/queries/dev-tickets.jsonl (when it is there):
   kb-search gets them at POST /api/suggest, the peers search subject and description as
   one text, as ../shared/bench/retrieval.py does;
5. throughput with 1, 8 and 32 keep-alive clients for a fixed time each, the three kinds
   mixed: requests/s, p50/p95, errors (any non-200 or connection failure);
6. the server's memory after the warm-up and the highest seen during the throughput runs: the
   PSS of its processes added up (shared pages, such as the mapped index, counted once).

The peers are served by benchmarks/peers.py, so every engine is asked over HTTP the same way.
Ratios are kb-search / peer: below 1 is faster or smaller (for docs/s and requests/s,
above 1 is better). Prints a table per size as it goes, then writes JSON (--json) and the
same tables as Markdown beside it.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import realistic, synthetic
from benchmarks.measure import KeepAlive, PeakRss, dir_bytes, percentiles, server_bytes
from benchmarks.peers import ENGINES as PEERS
from benchmarks.peers import PeerServer, build_command
from benchmarks.server_process import ChildServer, Server

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-suite-token"  # tier 2 sees internal articles too, as the peers do
KINDS = ("short", "long", "code")
TICKETS = realistic.CORPUS.parent / "queries" / "dev-tickets.jsonl"
POLL = 0.02  # seconds between searches while waiting for a change to show
WAIT = 600.0  # longest wait for a change to become searchable
GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
MB = 2**20


@dataclass(frozen=True)
class Options:
    sizes: list[int]
    engines: list[str]
    seconds: float = 10.0
    queries: int = 300
    clients: tuple[int, ...] = (1, 8, 32)
    edits: int = 50
    pull_files: int = 1000
    warm_up: int = 20  # queries of each kind before latency is measured
    text: str = "realistic"  # the KBs' text: realistic (the shared corpus) or synthetic
    workers: int = 1  # kb serve --workers


@dataclass
class Queries:
    """Query strings taken from the KB itself, the same for every engine."""

    latency: dict[str, list[str]]  # distinct strings per kind
    warm_up: list[str]  # long and code queries outside the measured ones
    mix: list[str]  # what the throughput clients send, in turn
    notes: list[str] = field(default_factory=list)
    tickets: list[dict] = field(default_factory=list)  # subject and description of each
    warm_up_tickets: list[dict] = field(default_factory=list)


def make_queries(kb: Path, count: int, warm_up: int, seed: int = 8) -> Queries:
    """Short: each word of the KB once, then event IDs (the synthetic generator's
    vocabulary is small); long: 8-12 of those words, like a pasted description; code: the
    error codes articles list in their front matter."""
    rng = random.Random(seed)
    words: set[str] = set()
    events: set[str] = set()
    codes: set[str] = set()
    for file in kb.rglob("*.md"):
        text = file.read_text()
        listed = re.search(r"^error_codes: \[(.*)\]$", text, re.M)
        codes.update(re.findall(r'"([^"]+)"', listed[1]) if listed else ())
        events.update(re.findall(r"\(event (\d+)\)", text))
        body = text.split("\n---\n", 1)[-1]
        words.update(w.lower() for w in re.findall(r"\b[A-Za-z][a-z]{2,}\b", body))
    vocabulary = sorted(words)
    shorts = rng.sample(vocabulary, len(vocabulary)) + rng.sample(sorted(events), len(events))
    code_list = rng.sample(sorted(codes), len(codes))

    def long() -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 12)))

    longs: list[str] = []
    seen: set[str] = set()
    while len(longs) < count + warm_up:
        text = long()
        if text not in seen:
            seen.add(text)
            longs.append(text)
    latency = {"short": shorts[:count], "long": longs[:count], "code": code_list[:count]}
    warm = longs[count:] + code_list[count : count + warm_up]
    mix = [
        text
        for _ in range(5000)
        for text in (rng.choice(shorts[: len(vocabulary)]), long(), rng.choice(code_list))
    ]
    notes = [
        f"short queries: {min(count, len(vocabulary))} distinct words of the KB, then "
        f"{max(0, count - len(vocabulary))} event IDs; code: {len(latency['code'])} of "
        f"{len(codes)} error codes in the KB"
    ]
    tickets = _tickets(TICKETS)
    if tickets:
        notes.append(f"tickets: {len(tickets) - warm_up // 4} of {TICKETS.name}")
    return Queries(latency, warm, mix, notes, tickets[warm_up // 4 :], tickets[: warm_up // 4])


def _tickets(path: Path) -> list[dict]:
    """Help-desk tickets (subject, description), none without the shared benchmark."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [{"subject": r["subject"], "description": r["description"]} for r in rows]


def search_path(query: str, limit: int = 10) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": query, "limit": limit})


def headers_of(server: ChildServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"} if server.token else {}


def timed_search(client: KeepAlive, text: str) -> tuple[float, bool]:
    """Seconds one search took over ``client``, and whether it failed (non-200, no answer)."""
    started = time.perf_counter()
    try:
        status, _ = client.get(search_path(text))
    except (OSError, http.client.HTTPException):
        status = 0
    return time.perf_counter() - started, status != 200


def timed_ticket(client: KeepAlive, ticket: dict, suggest: bool) -> tuple[float, bool]:
    """:func:`timed_search` for a ticket: POST /api/suggest, or (``suggest`` false, a peer)
    a search of its subject and description as one text."""
    started = time.perf_counter()
    try:
        if suggest:
            status, _ = client.post_json("/api/suggest", ticket | {"limit": 10})
        else:
            status, _ = client.get(search_path(f"{ticket['subject']}\n{ticket['description']}"))
    except (OSError, http.client.HTTPException):
        status = 0
    return time.perf_counter() - started, status != 200


def ticket_latency(server: ChildServer, tickets: list[dict]) -> tuple[list[float], int]:
    """:func:`latency` for tickets, one after another."""
    client = KeepAlive(server.url, headers_of(server))
    times, errors = [], 0
    try:
        for ticket in tickets:
            seconds, failed = timed_ticket(client, ticket, isinstance(server, Server))
            times.append(seconds)
            errors += failed
    finally:
        client.close()
    return times, errors


def latency(server: ChildServer, texts: list[str]) -> tuple[list[float], int]:
    """Seconds per request, one client asking one query after another; and the errors."""
    client = KeepAlive(server.url, headers_of(server))
    times, errors = [], 0
    try:
        for text in texts:
            seconds, failed = timed_search(client, text)
            times.append(seconds)
            errors += failed
    finally:
        client.close()
    return times, errors


def throughput(
    server: ChildServer, mix: list[str], clients: int, seconds: float, start: int
) -> dict[str, float]:
    """``clients`` threads with their own keep-alive connections for ``seconds``, taking the
    next query of ``mix`` in turn; the server's highest memory meanwhile."""
    turn = itertools.count(start)  # next() on a count is atomic under the GIL
    times: list[float] = []
    errors: list[int] = []
    until = time.monotonic() + seconds

    def client() -> None:
        connection = KeepAlive(server.url, headers_of(server))
        mine, failed = [], 0
        try:
            while time.monotonic() < until:
                seconds, error = timed_search(connection, mix[next(turn) % len(mix)])
                mine.append(seconds)
                failed += error
        finally:
            connection.close()
        times.extend(mine)
        errors.append(failed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    with PeakRss(server.process.pid, server_bytes) as rss:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    cuts = percentiles(times, digits=2)
    return {
        "rps": round(len(times) / seconds, 1),
        "p50": cuts.get("p50", 0.0),
        "p95": cuts.get("p95", 0.0),
        "errors": sum(errors),
        "rss_max": rss.peak,
    }


def serving(server: ChildServer, queries: Queries, options: Options, log: Callable) -> dict:
    """Latency per kind, throughput per client count and memory of one running server."""
    figures: dict[str, float] = {}
    _, warm_errors = latency(server, queries.warm_up)
    warm_errors += ticket_latency(server, queries.warm_up_tickets)[1]
    figures["rss_warm_mb"] = server_bytes(server.process.pid) / MB
    errors = warm_errors
    for kind in (*KINDS, "tickets") if queries.tickets else KINDS:
        if kind == "tickets":
            times, failed = ticket_latency(server, queries.tickets)
        else:
            times, failed = latency(server, queries.latency[kind])
        errors += failed
        cuts = percentiles(times, digits=2)
        figures[f"{kind}_p50_ms"], figures[f"{kind}_p95_ms"] = cuts["p50"], cuts["p95"]
        log(
            f"{kind} queries p50 {cuts['p50']:.1f} ms, p95 {cuts['p95']:.1f} ms"
            + (f", {failed} errors" if failed else "")
        )
    figures["latency_errors"] = errors
    rss_max = server_bytes(server.process.pid)
    for n, clients in enumerate(options.clients):
        run = throughput(server, queries.mix, clients, options.seconds, n * 7919)
        rss_max = max(rss_max, run.pop("rss_max"))
        for name, value in run.items():
            figures[f"c{clients}_{name}"] = value
        log(
            f"{clients} client(s): {run['rps']:.0f} req/s, p50 {run['p50']:.1f} ms, "
            f"p95 {run['p95']:.1f} ms, {run['errors']} errors"
        )
    figures["rss_max_mb"] = rss_max / MB
    log(
        f"server memory {figures['rss_warm_mb']:.0f} MB after warm-up, "
        f"{figures['rss_max_mb']:.0f} MB at most"
    )
    return figures


def timed_build(command: list[str], log_path: Path, cwd: Path) -> tuple[float, int]:
    """Wall time and peak RSS of the whole process tree of a build command."""
    with log_path.open("ab") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=os.environ | {"KB_LOG_LEVEL": "WARNING"},
        )
        with PeakRss(process.pid) as rss:
            code = process.wait()
        elapsed = time.perf_counter() - started
    if code:
        raise RuntimeError(f"{' '.join(command)} exited {code}: {log_path.read_text()[-2000:]}")
    return elapsed, rss.peak


def wait_for(check: Callable[[], bool], started: float, what: str) -> float:
    """Seconds from ``started`` until ``check()`` holds, polling every POLL seconds."""
    while not check():
        if time.perf_counter() - started > WAIT:
            raise RuntimeError(f"{what}: not searchable after {WAIT:.0f} s")
        time.sleep(POLL)
    return time.perf_counter() - started


def append_word(file: Path, word: str) -> None:
    with file.open("a") as handle:
        handle.write(f"\n{word}\n")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def time_pull(repo: Path, settled: Callable[[], bool], log: Callable[[str], None]) -> float:
    """`git pull` in ``repo``, then wait until ``settled()``: seconds in all.

    The pull is tried again while .git/index.lock is taken: `kb serve` runs `git status`,
    which takes that lock for a moment, and a pull that meets it fails (as an author's would).
    """
    started = time.perf_counter()
    for attempt in itertools.count(1):
        try:
            git(repo, "pull", "-q", "--ff-only")
            break
        except subprocess.CalledProcessError as error:
            if "index.lock" not in error.stderr or attempt == 20:
                raise
            log(f"git pull failed on index.lock (attempt {attempt}); trying again")
            time.sleep(0.05)
    return wait_for(settled, started, "pull")


def time_edits(kb: Path, count: int, found: Callable[[Path, str], bool]) -> list[float]:
    """Append a unique word to a different article ``count`` times; seconds until
    ``found(file, word)`` each time."""
    files = sorted(kb.rglob("*.md"))
    times = []
    for n in range(count):
        file, word = files[(n * 37 + 11) % len(files)], f"benchedit{n}x"
        started = time.perf_counter()
        append_word(file, word)
        times.append(wait_for(lambda file=file, word=word: found(file, word), started, word))
        time.sleep(0.1)  # the next save is another one, not part of the same burst
    return times


def freshness(pull_s: float, edits: list[float]) -> dict[str, float]:
    cuts = percentiles(edits)
    return {"pull_s": pull_s, "edit_p50_ms": cuts["p50"], "edit_p95_ms": cuts["p95"]}


@dataclass
class Workspace:
    """The repositories of one size: origin, the clone `kb serve` serves, the peers' clone."""

    root: Path
    articles: int
    text: str = "realistic"
    origin: Path = field(init=False)
    served: Path = field(init=False)
    peers: Path = field(init=False)
    base: str = field(init=False)
    pull_word: str = "benchpullword"

    def create(self, log: Callable) -> float:
        started = time.perf_counter()
        generator = realistic if self.text == "realistic" else synthetic
        self.origin = generator.generate(self.root / "origin", self.articles).parent
        for name in ("served", "peers"):
            subprocess.run(
                ["git", "clone", "-q", str(self.origin), str(self.root / name)], check=True
            )
        self.served, self.peers = self.root / "served", self.root / "peers"
        self.base = git(self.peers, "rev-parse", "HEAD").strip()
        elapsed = time.perf_counter() - started
        log(f"generated {self.articles} {self.text} articles, cloned twice, in {elapsed:.1f} s")
        return elapsed

    def commit_pull_change(self, files: int) -> int:
        """Commit the shared new word to ``files`` articles in the origin; how many."""
        paths = sorted((self.origin / "kb").rglob("*.md"))
        chosen = paths[:: max(1, len(paths) // files)][:files]
        for path in chosen:
            append_word(path, self.pull_word)
        git(self.origin, "commit", "-q", "-a", "-m", f"{len(chosen)} articles changed")
        return len(chosen)


def run_kb(
    space: Workspace, queries: Queries, options: Options, changed: int, log: Callable
) -> dict[str, float]:
    kb, index = space.served / "kb", space.root / "kb-index"
    seconds, peak = timed_build(
        [
            sys.executable,
            "-m",
            "server",
            "index",
            "--kb",
            str(kb),
            "--index-dir",
            str(index),
            "--rebuild",
        ],
        space.root / "kb-build.log",
        space.served,
    )
    figures = build_figures(space, seconds, peak, index, log)
    server = Server(
        kb,
        index,
        space.root / "kb-serve.log",
        token=TOKEN,
        KB_TOKENS=f"tier2:{TOKEN}",
        KB_WORKERS=str(options.workers),
    )
    try:
        figures |= serving(server, queries, options, log)
        pull_s = time_pull(
            space.served, lambda: server.search(space.pull_word, limit=1)["total"] == changed, log
        )
        watcher = KeepAlive(server.url, headers_of(server))

        def found(_file: Path, word: str) -> bool:
            status, body = watcher.get(search_path(word, 1))
            return status == 200 and json.loads(body)["total"] >= 1

        edits = time_edits(kb, options.edits, found)
        watcher.close()
    finally:
        server.stop()
    figures |= freshness(pull_s, edits)
    log_freshness(figures, changed, log)
    return figures


def run_peer(
    name: str, space: Workspace, queries: Queries, options: Options, changed: int, log: Callable
) -> dict[str, float]:
    kb, index = space.peers / "kb", space.root / f"{name}-index"
    seconds, peak = timed_build(
        build_command(name, kb, index), space.root / f"{name}-build.log", ROOT
    )
    figures = build_figures(space, seconds, peak, index, log)
    server = PeerServer(name, index, space.root / f"{name}-serve.log")
    try:
        figures |= serving(server, queries, options, log)
    finally:
        server.stop()
    # freshness in this process: the peers have no watcher; start from the commit they built
    git(space.peers, "reset", "-q", "--hard", space.base)
    engine = PEERS[name](index)

    def settled() -> bool:
        files = git(space.peers, "diff", "--name-only", space.base, "HEAD", "--", "kb").split()
        engine.update(kb, [space.peers / file for file in files])
        return engine.search(space.pull_word, 1)["total"] == changed

    def found(file: Path, word: str) -> bool:
        engine.update(kb, [file])
        return engine.search(word, 1)["total"] >= 1

    pull_s = time_pull(space.peers, settled, log)
    figures |= freshness(pull_s, time_edits(kb, options.edits, found))
    log_freshness(figures, changed, log)
    return figures


def build_figures(
    space: Workspace, seconds: float, peak: int, index: Path, log: Callable
) -> dict[str, float]:
    figures = {
        "build_s": seconds,
        "build_docs_per_s": space.articles / seconds,
        "build_peak_rss_mb": peak / MB,
        "index_mb": dir_bytes(index) / MB,
    }
    log(
        f"build {seconds:.1f} s ({figures['build_docs_per_s']:.0f} docs/s), peak RSS "
        f"{figures['build_peak_rss_mb']:.0f} MB, index {figures['index_mb']:.1f} MB"
    )
    return figures


def log_freshness(figures: dict[str, float], changed: int, log: Callable) -> None:
    log(
        f"{changed}-file pull searchable in {figures['pull_s']:.2f} s; edit -> searchable "
        f"p50 {figures['edit_p50_ms']:.0f} ms, p95 {figures['edit_p95_ms']:.0f} ms"
    )


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    digits: int = 1
    ratio: bool = True
    higher_is_better: bool = False

    @property
    def heading(self) -> str:
        notes = [n for n in (self.unit, "higher is better" * self.higher_is_better) if n]
        return f"{self.label} ({', '.join(notes)})" if notes else self.label


def figure_list(options: Options, changed: int) -> list[Figure]:
    figures = [
        Figure("build_s", "full build", "s"),
        Figure("build_docs_per_s", "build rate", "docs/s", 0, higher_is_better=True),
        Figure("build_peak_rss_mb", "build peak RSS, process tree", "MB", 0),
        Figure("index_mb", "index on disk", "MB"),
        Figure("pull_s", f"{changed}-file git pull -> searchable", "s", 2),
        Figure("edit_p50_ms", "edit -> searchable p50", "ms", 0),
        Figure("edit_p95_ms", "edit -> searchable p95", "ms", 0),
    ]
    for kind in (*KINDS, "tickets"):
        for cut in ("p50", "p95"):
            figures.append(Figure(f"{kind}_{cut}_ms", f"search {cut}, {kind} queries", "ms", 2))
    for clients in options.clients:
        name = f"{clients} client{'s' * (clients > 1)}"
        figures += [
            Figure(f"c{clients}_rps", f"{name}: throughput", "req/s", 0, higher_is_better=True),
            Figure(f"c{clients}_p50", f"{name}: p50", "ms", 2),
            Figure(f"c{clients}_p95", f"{name}: p95", "ms", 2),
            Figure(f"c{clients}_errors", f"{name}: errors", "", 0, ratio=False),
        ]
    figures += [
        Figure("latency_errors", "errors, single client", "", 0, ratio=False),
        Figure("rss_warm_mb", "server memory (PSS) after warm-up", "MB", 0),
        Figure("rss_max_mb", "server memory (PSS) max under load", "MB", 0),
    ]
    return figures


def targets(articles: int, clients: tuple[int, ...]) -> dict[str, tuple[str, Callable]]:
    """Issue 19's targets for kb-search: figure -> (as text, test)."""
    found: dict[str, tuple[str, Callable]] = {
        f"c{n}_errors": ("= 0", lambda v: v == 0) for n in clients
    }
    found["latency_errors"] = ("= 0", lambda v: v == 0)
    p50, p95 = {10_000: (10, 40), 100_000: (30, 150)}.get(articles, (None, None))
    if p50 is not None:
        for kind in (*KINDS, "tickets"):
            found[f"{kind}_p50_ms"] = (f"< {p50} ms", lambda v, p50=p50: v < p50)
            found[f"{kind}_p95_ms"] = (f"< {p95} ms", lambda v, p95=p95: v < p95)
    if articles == 100_000:
        found |= {
            "build_s": ("< 600 s", lambda v: v < 600),
            "build_peak_rss_mb": ("< 2048 MB", lambda v: v < 2048),
            "edit_p95_ms": ("< 1000 ms", lambda v: v < 1000),
            "rss_max_mb": ("< 1536 MB", lambda v: v < 1536),
        }
    return found


def tabulate(
    articles: int, results: dict[str, dict[str, float]], options: Options, changed: int
) -> list[dict]:
    """One row per figure: each engine's value, kb-search / peer, and the target if any."""
    goals = targets(articles, options.clients)
    rows = []
    for spec in figure_list(options, changed):
        if any(spec.key not in figures for figures in results.values()):
            continue  # not measured in this run (tickets, without the shared benchmark)
        values = {e: round(results[e][spec.key], spec.digits + 1) for e in results}
        row: dict = {"figure": spec.key, "label": spec.heading, "values": values}
        if spec.ratio and "kb" in results:
            ours = results["kb"][spec.key]
            row["ratios"] = {
                peer: round(ours / figures[spec.key], 3) if figures[spec.key] else None
                for peer, figures in results.items()
                if peer != "kb"
            }
        if spec.key in goals and "kb" in results:
            text, test = goals[spec.key]
            row["target"], row["met"] = text, bool(test(results["kb"][spec.key]))
        rows.append(row)
    return rows


def markdown(articles: int, rows: list[dict], options: Options, engines: list[str]) -> str:
    peers = [e for e in engines if e != "kb"] if "kb" in engines else []
    head = ["figure", *engines, *(f"kb/{p}" for p in peers), "target"]
    lines = [
        f"### {articles:,} articles",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    digits = {spec.key: spec.digits for spec in figure_list(options, 0)}
    for row in rows:
        cells = [row["label"]]
        cells += [f"{row['values'][e]:,.{digits[row['figure']]}f}" for e in engines]
        ratios = row.get("ratios", {})
        cells += ["" if ratios.get(p) is None else f"{ratios[p]:.2f}" for p in peers]
        target = row.get("target", "")
        cells.append(f"{target} {'met' if row['met'] else '**not met**'}" if target else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def machine() -> dict[str, str | int]:
    models = re.findall(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    return {
        "cores": os.cpu_count() or 0,
        "cpu": models[0] if models else platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def logger(prefix: str) -> Callable[[str], None]:
    return lambda line: print(f"[{prefix}] {line}", flush=True)


def run_size(articles: int, root: Path, options: Options) -> dict:
    """Every figure of every engine for one KB size."""
    space = Workspace(root / f"kb-{articles}", articles, options.text)
    space.root.mkdir(parents=True)
    generate_s = space.create(logger(f"{articles} setup"))
    queries = make_queries(space.served / "kb", options.queries, options.warm_up)
    changed = space.commit_pull_change(options.pull_files)  # pulled later, by every engine
    results = {}
    for engine in options.engines:
        log = logger(f"{articles} {engine}")
        if engine == "kb":
            results[engine] = run_kb(space, queries, options, changed, log)
        else:
            results[engine] = run_peer(engine, space, queries, options, changed, log)
    rows = tabulate(articles, results, options, changed)
    return {
        "articles": articles,
        "generate_s": round(generate_s, 1),
        "notes": [
            *queries.notes,
            "peers' freshness is measured in process (re-read, "
            "update, commit, search), kb-search's over HTTP with its watcher",
        ],
        "figures": rows,
    }


def run(options: Options, work: Path, out: Path) -> dict:
    """The whole suite; writes ``out`` (JSON) and the Markdown beside it."""
    report = {"machine": machine(), "options": asdict(options), "sizes": []}
    sections = []
    for articles in options.sizes:
        size = run_size(articles, work, options)
        report["sizes"].append(size)
        sections.append(
            markdown(articles, size["figures"], options, options.engines)
            + "".join(f"\n{note}\n" for note in size["notes"])
        )
        print("\n" + sections[-1], flush=True)
    host = report["machine"]
    text = (
        f"## kb-search benchmark ({host['date']})\n\n{host['cores']} cores, {host['cpu']}, "
        f"Python {host['python']}; {options.seconds:g} s per throughput run, "
        f"{options.queries} queries per kind. Ratios are kb-search / peer.\n\n"
        + "\n".join(sections)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    out.with_suffix(".md").write_text(text)
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return report


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        type=_numbers,
        default=[1000, 10_000],
        help="articles per generated KB, comma-separated (default 1000,10000)",
    )
    parser.add_argument(
        "--engines", default="kb,fts5,tantivy", help="comma-separated, from kb, fts5, tantivy"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run")
    parser.add_argument("--queries", type=int, default=300, help="distinct queries per kind")
    parser.add_argument("--clients", type=_numbers, default=[1, 8, 32])
    parser.add_argument("--edits", type=int, default=50, help="edits timed for freshness (2+)")
    parser.add_argument("--pull-files", type=int, default=1000, help="articles the pull changes")
    parser.add_argument(
        "--text",
        choices=("realistic", "synthetic"),
        default="realistic" if realistic.available() else "synthetic",
        help="the KBs' text: paragraphs of ../shared/bench/corpus recombined (the default "
        "when it is there), or the small generated vocabulary of benchmarks/synthetic.py",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="kb serve --workers: processes answering HTTP (default: one per core)",
    )
    parser.add_argument("--keep", type=Path, help="generate the KBs here and keep them")
    parser.add_argument("--json", type=Path, default=Path("bench-results/bench.json"))
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - {"kb", *PEERS}
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if args.edits < 2 or args.queries < 2:
        parser.error("--edits and --queries need at least 2, for percentiles")
    options = Options(
        sizes=args.sizes,
        engines=engines,
        seconds=args.seconds,
        queries=args.queries,
        clients=tuple(args.clients),
        edits=args.edits,
        pull_files=args.pull_files,
        text=args.text,
        workers=args.workers,
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(options, args.keep, args.json)
    else:
        with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
            run(options, Path(tmp), args.json)


if __name__ == "__main__":
    main()
