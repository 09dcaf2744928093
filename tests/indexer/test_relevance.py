"""Relevance over the sample KB, and over the shared benchmark where it is checked out: judged
query sets must stay above their recorded floors.

tests/relevance/judged.jsonl holds realistic queries of six kinds (title, symptom, error
code, identifier, pasted log line, typo), each with the one article that answers it. The
floors are what the ranking scored when they were recorded; a change that lowers them is a
regression to look at, not a number to lower.
"""

import pytest

from benchmarks.relevance import by_kind, load, open_kb, run, score
from indexer import KnowledgeBase

from ..conftest import BENCH, ROOT

JUDGED = load(ROOT / "tests" / "relevance" / "judged.jsonl")
FLOOR_MRR = 0.97
FLOOR_SUCCESS_AT_1 = 0.95
# The query kinds support engineers paste: each must put the right article first.
MUST_BE_FIRST = ("code", "identifier", "logline", "typo")


@pytest.fixture(scope="module")
def sample_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return open_kb(ROOT / "kb", tmp_path_factory.mktemp("index"))


def test_judged_queries_stay_above_the_floor(sample_kb: KnowledgeBase) -> None:
    overall = score(run(sample_kb, JUDGED))
    assert overall.mrr >= FLOOR_MRR, overall
    assert overall.success_at_1 >= FLOOR_SUCCESS_AT_1, overall


@pytest.mark.parametrize("kind", MUST_BE_FIRST)
def test_pasted_codes_names_log_lines_and_typos_find_the_article_first(
    sample_kb: KnowledgeBase, kind: str
) -> None:
    outcomes = run(sample_kb, [j for j in JUDGED if j.kind == kind])
    assert outcomes, f"no judged {kind} queries"
    misses = [(o.judged.query, o.top[:3]) for o in outcomes if o.rank != 1]
    assert not misses
    assert by_kind(outcomes)[kind].success_at_1 == 1.0


# The shared benchmark's published query sets over its corpus of real support articles
# (../shared/bench): floors a little below what ranking scores today (dev 0.991, users' own
# words 0.980, tickets 1.000), so a change that loses ground on any kind of input fails here
# before it reaches `make bench-retrieval`. Skipped where the benchmark is not checked out.
SHARED_FLOORS = {"dev": 0.985, "dev-paraphrase": 0.97, "dev-tickets": 0.99}


@pytest.fixture(scope="module")
def shared_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    if not (BENCH / "corpus").is_dir():
        pytest.skip(f"the shared benchmark is not at {BENCH}")
    return open_kb(BENCH / "corpus", tmp_path_factory.mktemp("shared-index"))


@pytest.mark.parametrize("name", SHARED_FLOORS)
def test_the_shared_benchmark_sets_stay_above_their_floors(
    shared_kb: KnowledgeBase, name: str
) -> None:
    judged = load(BENCH / "queries" / f"{name}.jsonl")
    outcomes = run(shared_kb, judged)
    for half in (outcomes[0::2], outcomes[1::2]):
        assert score(half).mrr >= SHARED_FLOORS[name] - 0.01, (name, score(half))
    assert score(outcomes).mrr >= SHARED_FLOORS[name], (name, score(outcomes))
