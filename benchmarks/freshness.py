"""Edit -> searchable latency: `kb serve` on a generated 1,000-article git KB, 20 saved edits.

Each edit appends a unique word to one article; the clock stops when /api/search returns
that article for the word. Prints the median and the worst of the 20.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.server_process import Server
from benchmarks.synthetic import generate

TOKEN = "bench-token-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        kb = generate(root / "repo", args.articles)
        # as tier 2, who may see every article: a third of the generated ones are internal
        server = Server(kb, root / "index", token=TOKEN, KB_TOKENS=f"tier2:{TOKEN}")
        try:
            paths = sorted(kb.rglob("*.md"))
            timings = []
            for n in range(args.edits):
                path = paths[(n * 37) % len(paths)]
                word = f"freshword{n}x"
                started = time.perf_counter()
                with path.open("a") as handle:
                    handle.write(f"\n{word}\n")
                while True:
                    if server.search(word)["total"]:
                        break
                    time.sleep(0.01)
                timings.append(time.perf_counter() - started)
                time.sleep(0.2)
        finally:
            server.stop()
    print(
        f"{args.articles} articles, {args.edits} edits: edit -> searchable "
        f"median {statistics.median(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
