"""`make bench` in small: the whole suite at 150 articles, every figure for every engine.

Real builds, real servers over HTTP, a real `git pull`; only the sizes and durations shrink
(1 s per throughput run, a few queries, 5 edits, a 50-file pull)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("tantivy", reason="the tantivy peer is not installed")

from benchmarks.suite import TICKETS, main

from ..figures import report

ENGINES = ("kb", "fts5", "tantivy")


@pytest.mark.slow
def test_the_suite_reports_every_figure_beside_both_peers(tmp_path: Path) -> None:
    out = tmp_path / "results" / "bench.json"
    main(
        [
            "--sizes",
            "150",
            "--seconds",
            "1",
            "--queries",
            "8",
            "--edits",
            "5",
            "--pull-files",
            "50",
            "--json",
            str(out),
            "--keep",
            str(tmp_path / "work"),
        ]
    )
    results = json.loads(out.read_text())
    assert {"cores", "cpu", "python", "date"} <= results["machine"].keys()
    (size,) = results["sizes"]
    assert size["articles"] == 150
    rows = {row["figure"]: row for row in size["figures"]}
    expected = {
        "build_s",
        "build_docs_per_s",
        "build_peak_rss_mb",
        "index_mb",
        "pull_s",
        "edit_p50_ms",
        "edit_p95_ms",
        "rss_warm_mb",
        "rss_max_mb",
    }
    expected |= {f"{kind}_{cut}_ms" for kind in ("short", "long", "code") for cut in ("p50", "p95")}
    expected |= {f"c{n}_{what}" for n in (1, 8, 32) for what in ("rps", "p50", "p95", "errors")}
    if TICKETS.is_file():  # whole tickets, from the shared benchmark: /api/suggest for kb
        expected |= {"tickets_p50_ms", "tickets_p95_ms"}
    assert expected <= rows.keys()
    for key, row in rows.items():
        assert set(row["values"]) == set(ENGINES), key
        if key.endswith("errors"):
            assert row["values"] == dict.fromkeys(ENGINES, 0), key
            assert row["met"] is True
        else:
            assert all(value > 0 for value in row["values"].values()), key
            assert set(row["ratios"]) == {"fts5", "tantivy"}, key
            assert all(ratio > 0 for ratio in row["ratios"].values()), key
    assert rows["build_peak_rss_mb"]["values"]["kb"] > 20  # the whole process tree
    assert "| figure | kb | fts5 | tantivy | kb/fts5 | kb/tantivy | target |" in (
        out.with_suffix(".md").read_text()
    )
    report(
        "bench suite (150 articles)",
        ", ".join(f"{key} {rows[key]['values']}" for key in ("build_s", "edit_p95_ms", "c8_rps")),
    )


@pytest.mark.slow
def test_the_realistic_kb_has_a_real_vocabulary_and_indexes_cleanly(tmp_path: Path) -> None:
    """What makes a benchmark mean anything at scale: words with a long tail, articles of
    every length, the shared corpus's own error codes; and every article indexes."""
    from benchmarks import realistic
    from indexer import Indexer

    if not realistic.available():
        pytest.skip(f"no shared corpus at {realistic.CORPUS}")
    kb = realistic.generate(tmp_path, 300, seed=7)
    texts = [path.read_text() for path in sorted(kb.rglob("*.md"))]
    words = {word for text in texts for word in text.lower().split()}
    lengths = sorted(len(text) for text in texts)
    assert len(texts) == 300 and len(words) > 10_000  # the synthetic generator has ~85
    assert lengths[-1] > 10 * lengths[0]
    assert sum('error_codes: ["' in text for text in texts) > 10
    again = sorted(realistic.generate(tmp_path / "again", 300, seed=7).rglob("*.md"))
    assert [path.read_text() for path in again] == texts  # the same seed, the same KB
    report = Indexer(kb, tmp_path / "index").build()
    assert report.added == 300 and not report.errors
