"""Run the shared retrieval harness against `kb serve` on the shared benchmark corpus.

Starts `kb serve --kb ../shared/bench/corpus` with KB_DEFAULT_AUDIENCE=public (the corpus has
no audience keys and the harness asks anonymously), then runs ../shared/bench/retrieval.py
with --service-url, which scores the service beside FTS5, tantivy, lunr, bm25s and Whoosh.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.server_process import Server

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=Path, default=BENCH / "queries" / "dev.jsonl")
    parser.add_argument("--engines", default="fts5,tantivy,lunr,bm25s,whoosh")
    parser.add_argument("--json", type=Path, help="write the harness results here")
    args = parser.parse_args()
    if not (BENCH / "retrieval.py").is_file():
        sys.exit(f"shared benchmark not found at {BENCH}")
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(BENCH / "corpus", Path(tmp) / "index", KB_DEFAULT_AUDIENCE="public")
        try:
            command = [
                sys.executable,
                str(BENCH / "retrieval.py"),
                "--queries",
                str(args.queries),
                "--engines",
                args.engines,
                "--service-url",
                server.url,
            ]
            if args.json:
                command += ["--json", str(args.json)]
            subprocess.run(command, check=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
