"""How long `kb lint` takes over a generated knowledge base (default 10,000 articles).

Runs the real command (a new process each time, as a pre-commit hook does) three times and
prints each wall time. The first run is cold: every file is parsed. Later runs reuse the
per-file results kept in .git/kb-lint-cache.json for files that did not change, which is
what a pre-commit hook sees after the first commit of the day.
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
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kb = generate(Path(tmp) / "repo", args.articles)
        times = []
        for run in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "server", "lint", "--kb", str(kb)],
                                  capture_output=True, text=True, check=False)  # fmt: skip
            times.append(time.perf_counter() - started)
            summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
            print(f"run {run + 1}: {times[-1]:.1f} s (exit {done.returncode}; {summary})")
        warm = statistics.median(times[1:]) if len(times) > 1 else float("nan")
        print(f"kb lint over {args.articles} articles: cold {times[0]:.1f} s, warm {warm:.1f} s")


if __name__ == "__main__":
    main()
