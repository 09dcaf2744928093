"""SQLite FTS5 and tantivy doing kb-search's work on the same files, for `make bench`.

Each peer indexes every article of a KB folder (front matter split off with PyYAML's
CSafeLoader; id, title and the Markdown body indexed), answers ``GET /api/search?q=&limit=``
with ``{"total", "results": [{"id", "title", "path", "snippet"}]}`` from a stdlib
``ThreadingHTTPServer`` in its own process, and can re-index changed files in place.
Queries are read as an OR of their words, as the shared retrieval harness reads them:
FTS5 gets ``"a" OR "b"`` ranked by bm25 with the title weighted 3; tantivy's query parser
gets the words with conjunction off and the title boosted 2.

    python -m benchmarks.peers build --engine fts5 --kb KB --out DIR
    python -m benchmarks.peers serve --engine tantivy --index DIR --port 8001
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from benchmarks.server_process import ChildServer, free_port

ROOT = Path(__file__).resolve().parent.parent
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Article:
    path: str  # relative to the KB folder, as kb-search reports it
    id: str
    title: str
    body: str


def read_article(kb: Path, file: Path) -> Article:
    """An article as the peers index it: front matter parsed for id and title, body kept."""
    text = file.read_text(encoding="utf-8", errors="replace")
    meta: dict = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---", 3)
        if end != -1:
            meta = yaml.load(text[4:end], Loader=yaml.CSafeLoader) or {}
            body = text[text.find("\n", end + 4) + 1 :]
    path = file.relative_to(kb).as_posix()
    return Article(path, str(meta.get("id") or path[:-3]), str(meta.get("title") or ""), body)


def articles(kb: Path) -> Iterator[Article]:
    """Every article of the KB, with kb-search's rule for what is not one."""
    for file in sorted(kb.rglob("*.md")):
        parts = file.relative_to(kb).parts
        if file.name != "README.md" and not any(p.startswith(("_", ".")) for p in parts):
            yield read_article(kb, file)


class Fts5:
    """SQLite FTS5 in a database file; one connection per thread, as sqlite3 requires."""

    name = "fts5"

    def __init__(self, index_dir: Path) -> None:
        self.database = index_dir / "kb.sqlite3"
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        if not hasattr(self._local, "db"):
            self._local.db = sqlite3.connect(self.database)
        return self._local.db

    def build(self, kb: Path) -> int:
        self.database.parent.mkdir(parents=True, exist_ok=True)
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")  # readers are not blocked by an update
        # the FTS rowid is the rowid of the article's path, so an update finds its row
        db.execute("CREATE TABLE paths(path TEXT PRIMARY KEY)")
        db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(id, title, body, path UNINDEXED, "
            "tokenize='porter unicode61')"
        )
        with db:
            count = self._insert(articles(kb))
        db.close()
        del self._local.db
        return count

    def _insert(self, items: Iterable[Article]) -> int:
        count = 0
        for article in items:
            (rowid,) = self.db.execute(
                "INSERT INTO paths(path) VALUES (?) RETURNING rowid", (article.path,)
            ).fetchone()
            self.db.execute(
                "INSERT INTO docs(rowid, id, title, body, path) VALUES (?,?,?,?,?)",
                (rowid, article.id, article.title, article.body, article.path),
            )
            count += 1
        return count

    def update(self, kb: Path, files: list[Path]) -> None:
        """Re-read ``files`` and replace their rows, in one transaction."""
        fresh = [read_article(kb, file) for file in files]
        with self.db:
            for article in fresh:
                self.db.execute(
                    "DELETE FROM docs WHERE rowid = (SELECT rowid FROM paths WHERE path = ?)",
                    (article.path,),
                )
                self.db.execute("DELETE FROM paths WHERE path = ?", (article.path,))
            self._insert(fresh)

    def search(self, query: str, limit: int = 10) -> dict:
        terms = WORD.findall(query)
        if not terms:
            return {"total": 0, "results": []}
        match = " OR ".join(f'"{term}"' for term in terms)
        rows = self.db.execute(
            "SELECT id, title, path, snippet(docs, 2, '<mark>', '</mark>', '…', 24) FROM docs "
            "WHERE docs MATCH ? ORDER BY bm25(docs, 1.0, 3.0, 1.0) LIMIT ?",
            (match, limit),
        ).fetchall()
        (total,) = self.db.execute(
            "SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)
        ).fetchone()
        results = [{"id": i, "title": t, "path": p, "snippet": s} for i, t, p, s in rows]
        return {"total": total, "results": results}


class Tantivy:
    """tantivy in an index folder, en_stem tokenizer; searchers are safe to share."""

    name = "tantivy"

    def __init__(self, index_dir: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        self.index_dir = index_dir
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("path", stored=True, tokenizer_name="raw")
        for field in ("id", "title", "body"):
            builder.add_text_field(field, stored=True, tokenizer_name="en_stem")
        self.schema = builder.build()
        index_dir.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(index_dir))
        self._writer = None

    def _document(self, article: Article):  # type: ignore[no-untyped-def]
        return self.tantivy.Document(
            path=article.path, id=article.id, title=article.title, body=article.body
        )

    def build(self, kb: Path) -> int:
        writer = self.index.writer()
        count = 0
        for article in articles(kb):
            writer.add_document(self._document(article))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        return count

    def update(self, kb: Path, files: list[Path]) -> None:
        """Re-read ``files``, replace their documents, commit and reload the searcher."""
        if self._writer is None:
            self._writer = self.index.writer()
        for file in files:
            article = read_article(kb, file)
            self._writer.delete_documents_by_term("path", article.path)
            self._writer.add_document(self._document(article))
        self._writer.commit()
        self.index.reload()

    def search(self, query: str, limit: int = 10) -> dict:
        terms = WORD.findall(query)
        if not terms:
            return {"total": 0, "results": []}
        try:
            parsed = self.index.parse_query(
                " ".join(terms), ["id", "title", "body"], field_boosts={"title": 2.0}
            )
        except ValueError:
            return {"total": 0, "results": []}
        searcher = self.index.searcher()
        found = searcher.search(parsed, limit)
        snippets = self.tantivy.SnippetGenerator.create(searcher, parsed, self.schema, "body")
        results = []
        for _score, address in found.hits:
            doc = searcher.doc(address)
            results.append(
                {
                    "id": doc["id"][0],
                    "title": doc["title"][0],
                    "path": doc["path"][0],
                    "snippet": snippets.snippet_from_doc(doc).to_html(),
                }
            )
        return {"total": found.count, "results": results}


ENGINES: dict[str, type[Fts5] | type[Tantivy]] = {"fts5": Fts5, "tantivy": Tantivy}


def serve(engine: Fts5 | Tantivy, port: int) -> None:
    """Answer /api/search and /healthz over keep-alive HTTP/1.1, a thread per connection."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            params = urllib.parse.parse_qs(url.query)
            status, body = 200, b"ok"
            if url.path == "/api/search":
                limit = int(params.get("limit", ["10"])[0])
                body = json.dumps(engine.search(params.get("q", [""])[0], limit)).encode()
            elif url.path != "/healthz":
                status, body = 404, b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            """Quiet: a line per request would cost the peer what kb-search does not log."""

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # 32 clients connect at once; the default backlog is 5

    Server(("127.0.0.1", port), Handler).serve_forever()


class PeerServer(ChildServer):
    """`python -m benchmarks.peers serve` on a free port, once it answers /healthz."""

    def __init__(self, engine: str, index_dir: Path, log_path: Path, timeout: float = 120) -> None:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "benchmarks.peers",
            "serve",
            "--engine",
            engine,
            "--index",
            str(index_dir),
            "--port",
            str(port),
        ]
        super().__init__(f"{engine} server", command, port, log_path, timeout, cwd=ROOT)


def build_command(engine: str, kb: Path, index_dir: Path) -> list[str]:
    """The subprocess that builds a peer's index, so its time and memory are its own."""
    return [
        sys.executable,
        "-m",
        "benchmarks.peers",
        "build",
        "--engine",
        engine,
        "--kb",
        str(kb),
        "--out",
        str(index_dir),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="index every article of --kb into --out")
    build.add_argument("--kb", type=Path, required=True)
    build.add_argument("--out", type=Path, required=True)
    run = commands.add_parser("serve", help="serve the index in --index over HTTP")
    run.add_argument("--index", type=Path, required=True)
    run.add_argument("--port", type=int, required=True)
    for command in (build, run):
        command.add_argument("--engine", choices=sorted(ENGINES), required=True)
    args = parser.parse_args()
    if args.command == "build":
        print(f"{args.engine}: {ENGINES[args.engine](args.out).build(args.kb)} articles")
    else:
        serve(ENGINES[args.engine](args.index), args.port)


if __name__ == "__main__":
    main()
