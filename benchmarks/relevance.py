"""Score search relevance in-process on a judged query set: MRR@10, success@1, recall@10.

A judged query set is JSON Lines, one query per line:
``{"query": "...", "relevant": ["path/in/kb.md"], "kind": "code"}``, or, for a help-desk
ticket, ``"subject"`` and ``"description"`` instead of ``"query"``. This runs the queries
through :class:`indexer.KnowledgeBase` directly (no HTTP), so a change to analysis or ranking
can be scored in seconds. The make-test relevance floor (tests/indexer/test_relevance.py)
and the shared benchmark corpus both use it:

    python -m benchmarks.relevance --kb ../shared/bench/corpus --queries ../shared/bench/queries/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from indexer import Indexer, IndexStorage, KnowledgeBase, SearchRequest, half_typed

K = 10
EVERYONE = frozenset({"public", "internal"})


@dataclass(frozen=True)
class Judged:
    query: str  # a ticket's subject
    relevant: frozenset[str]
    kind: str
    description: str | None = None  # a ticket's description: it goes to suggest()


@dataclass(frozen=True)
class Outcome:
    judged: Judged
    rank: int | None  # 1-based rank of the first relevant result within the top K
    top: tuple[str, ...]
    ms: float


@dataclass(frozen=True)
class Scores:
    n: int
    mrr: float
    success_at_1: float
    recall_at_10: float

    def line(self, label: str) -> str:
        return (
            f"{label:<12} n={self.n:<4} MRR@10 {self.mrr:.3f}  "
            f"S@1 {self.success_at_1:.3f}  R@10 {self.recall_at_10:.3f}"
        )


def load(path: Path) -> list[Judged]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [
        Judged(
            r.get("query", r.get("subject", "")),
            frozenset(r["relevant"]),
            r.get("kind", "all"),
            r.get("description"),
        )
        for r in rows
    ]


def run(kb: KnowledgeBase, queries: Iterable[Judged], audiences=EVERYONE) -> list[Outcome]:
    outcomes = []
    for judged in queries:
        started = time.perf_counter()
        if judged.description is None:
            request = SearchRequest(
                judged.query, audiences, limit=K, prefix=half_typed(judged.query)
            )  # as the API would
            results = kb.search(request)
        else:
            results = kb.suggest(judged.query, judged.description, audiences, limit=K)
        ms = (time.perf_counter() - started) * 1000
        top = tuple(hit.path for hit in results.hits)
        rank = next((i for i, path in enumerate(top, 1) if path in judged.relevant), None)
        outcomes.append(Outcome(judged, rank, top, ms))
    return outcomes


def score(outcomes: list[Outcome]) -> Scores:
    n = len(outcomes)
    if not n:
        return Scores(0, 0.0, 0.0, 0.0)
    return Scores(
        n=n,
        mrr=sum(1 / o.rank for o in outcomes if o.rank) / n,
        success_at_1=sum(o.rank == 1 for o in outcomes) / n,
        recall_at_10=sum(o.rank is not None for o in outcomes) / n,
    )


def by_kind(outcomes: list[Outcome]) -> dict[str, Scores]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.judged.kind].append(outcome)
    return {kind: score(group) for kind, group in sorted(groups.items())}


def open_kb(kb_dir: Path, index_dir: Path, rebuild: bool = False) -> KnowledgeBase:
    """Index ``kb_dir`` into ``index_dir`` (rebuilding if asked or if it is out of date)."""
    indexer = Indexer(kb_dir, index_dir, default_audience="public")
    if rebuild:
        indexer.build()
    else:
        indexer.reconcile()
    return KnowledgeBase(IndexStorage(index_dir), kb_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--index", type=Path, default=Path("/tmp/kb-relevance-index"))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index first")
    parser.add_argument("--misses", action="store_true", help="list queries not ranked first")
    args = parser.parse_args()

    kb = open_kb(args.kb, args.index, args.rebuild)
    outcomes = run(kb, load(args.queries))
    if args.misses:
        for o in outcomes:
            if o.rank != 1:
                want = ",".join(sorted(o.judged.relevant))
                print(f"[{o.judged.kind}] rank={o.rank} want={want} q={o.judged.query!r}")
                print(f"        got {', '.join(o.top[:3])}")
    for kind, scores in by_kind(outcomes).items():
        print(scores.line(kind))
    print(score(outcomes).line("all"))
    # a change is kept only if it helps both halves of a set (not one lucky query)
    print(score(outcomes[0::2]).line("odd half"))
    print(score(outcomes[1::2]).line("even half"))
    times = sorted(o.ms for o in outcomes)
    print(
        f"latency in-process: p50 {statistics.median(times):.1f} ms, "
        f"p95 {times[int(len(times) * 0.95)]:.1f} ms"
    )


if __name__ == "__main__":
    main()
