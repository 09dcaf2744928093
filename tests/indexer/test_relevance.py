"""Relevance over the sample KB: a judged query set must stay above its recorded floor.

tests/relevance/judged.jsonl holds realistic queries of six kinds (title, symptom, error
code, identifier, pasted log line, typo), each with the one article that answers it. The
floors are what the ranking scored when they were recorded; a change that lowers them is a
regression to look at, not a number to lower.
"""

from pathlib import Path

import pytest

from benchmarks.relevance import by_kind, load, open_kb, run, score
from indexer import KnowledgeBase

ROOT = Path(__file__).resolve().parents[2]
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
