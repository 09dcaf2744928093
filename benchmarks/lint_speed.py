"""How long `kb lint` takes over a generated knowledge base (default 10,000 articles).

Runs the real command (a new process each time, as a pre-commit hook does) in rounds of
two and prints each wall time. The first run of a round is cold: the cache is deleted and
every file is parsed (a fresh clone). The second reuses the per-file results kept in
.git/kb-lint-cache.json for files that did not change, which is what a pre-commit hook sees
after the first commit of the day.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kb = generate(Path(tmp) / "repo", args.articles)
        cache = kb.parent / ".git" / "kb-lint-cache.json"
        times: dict[str, list[float]] = {"cold": [], "warm": []}
        for round_ in range(args.rounds):
            cache.unlink(missing_ok=True)
            for kind in ("cold", "warm"):
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "server", "lint", "--kb", str(kb)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                times[kind].append(time.perf_counter() - started)
                summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
                print(
                    f"round {round_ + 1} {kind}: {times[kind][-1]:.1f} s "
                    f"(exit {done.returncode}; {summary})"
                )
        figures = ", ".join(
            f"{kind} {statistics.median(runs):.1f} s (min {min(runs):.1f}, max {max(runs):.1f})"
            for kind, runs in times.items()
        )
        print(f"kb lint over {args.articles} articles, median of {args.rounds}: {figures}")


if __name__ == "__main__":
    main()
