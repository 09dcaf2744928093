"""A long batch is not a broken replica: while the writer works through heavy files (a
large pull), /healthz keeps answering 200 with status "indexing" and what it is writing,
instead of "behind" with nothing pending, which would take every replica of a balancer
out at once (they all get the same pull)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks.server_process import Server

from ..fixtures import TIER2_TOKEN, make_kb_repo, write

HEAVY = 4  # files; each a 20,000-column table, about 2 s to index here


def _heavy_article(n: int) -> str:
    row = "|" + "|".join(f"cell{n}x{i}" for i in range(20_000)) + "|\n"
    rule = "|" + "|".join("-" for _ in range(20_000)) + "|\n"
    return (
        f"---\nid: KB-HEAVY{n}\naudience: public\n---\n# Heavy tablequokka{n}\n\n{row}{rule}{row}"
    )


def test_health_says_indexing_during_a_long_batch(tmp_path: Path) -> None:
    kb = make_kb_repo(tmp_path / "repo")
    server = Server(
        kb,
        tmp_path / "index",
        timeout=60,
        token=TIER2_TOKEN,
        KB_TOKENS=f"tier2:{TIER2_TOKEN}",
        KB_HEALTH_MAX_LAG="2",
    )
    try:
        for n in range(HEAVY):
            write(kb, f"heavy/table-{n}.md", _heavy_article(n))
        seen: list[tuple[int, dict]] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, body = server.get("/healthz")
            seen.append((status, json.loads(body)))
            if len(server.search(f"tablequokka{HEAVY - 1}")["results"]) == 1:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the heavy files were never indexed")
        assert [s for s, _ in seen] == [200] * len(seen), seen
        busy = [b for _, b in seen if b["status"] == "indexing"]
        assert busy, f"the batch never ran past health_max_lag: {seen}"
        assert all(b["pending"] > 0 for b in busy), busy
    finally:
        server.stop()
