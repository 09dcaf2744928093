"""The `kb` command: index, serve and search a knowledge-base folder.

Thin on purpose: options map onto settings (see config.py), and the work is done by the
indexer package and the app factory.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from indexer import ARTICLE_TYPES, AUDIENCES, DEFAULT_AUDIENCE

from . import logs
from .activity import Database, DatabaseError, is_postgresql, transfer
from .config import SERVE_PID_ENV, Config, ConfigError, load_config
from .limits import allow_open_files, open_files_needed
from .wording import counted

if TYPE_CHECKING:
    from indexer import Indexer, Syncer, Watcher

log = logging.getLogger("kb")
# the production layout's web server (README, "Production layout"): `kb serve --workers`
# runs it, and so do the tests and benchmarks of that layout
GUNICORN = [
    sys.executable,
    "-m",
    "gunicorn",
    "-c",
    "python:server.gunicorn_conf",
    "server.wsgi:app",
]


def _config(needs_kb: bool = True, **overrides: Any) -> Config:
    try:
        config = load_config(overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if needs_kb and not config.kb_dir.is_dir():
        raise click.ClickException(
            f"kb folder {config.kb_dir} does not exist (set --kb or KB_KB_DIR)"
        )
    logs.configure(config.log_level, config.log_format)
    return config


kb_option = click.option(
    "--kb", "kb_dir", type=click.Path(path_type=Path), help="Knowledge-base folder [KB_KB_DIR]."
)


def _run_until_signalled(
    start: Callable[[], None],
    finish: Callable[[], None],
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """``start()``, then wait for SIGTERM (a supervisor) or SIGINT (Ctrl-C), or until
    ``alive()`` is false, then ``finish()``.

    The wait polls: a signal the kernel hands to another thread would not wake a plain wait.
    """
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    start()
    while alive() and not stop.wait(0.5):
        pass
    log.info("stopping: the work under way is finished first")
    finish()


def kb_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--kb and --index-dir, for the commands that use the index."""
    command = click.option(
        "--index-dir", type=click.Path(path_type=Path), help="Index folder [KB_INDEX_DIR]."
    )(command)
    return kb_option(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kb-search: a git-backed knowledge base for IT support."""


@main.command()
@kb_options
@click.option(
    "--rebuild", is_flag=True, help="Build a fresh index even if the current one is usable."
)
def index(kb_dir: Path | None, index_dir: Path | None, rebuild: bool) -> None:
    """Index the kb folder: catch up with changes, or build from scratch."""
    from indexer import IndexBusy

    config = _config(kb_dir=kb_dir, index_dir=index_dir)
    indexer = config.new_indexer()
    with click.progressbar(length=1, label="indexing", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            report = indexer.build(progress) if rebuild else indexer.reconcile(progress)
        except IndexBusy as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    for error in report.errors:
        click.echo(f"  skipped {error}", err=True)


@main.command()
@kb_options
@click.option("--host", help="Address to listen on [KB_HOST].")
@click.option("--port", type=int, help="Port to listen on [KB_PORT].")
@click.option(
    "--watch/--no-watch", default=None, help="Index changes as files are saved [KB_WATCH]."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Processes answering HTTP, each with KB_THREADS threads; one per core for "
    "throughput [KB_WORKERS].",
)
def serve(
    kb_dir: Path | None,
    index_dir: Path | None,
    host: str | None,
    port: int | None,
    watch: bool | None,
    workers: int | None,
) -> None:
    """Serve the search UI and API with a production WSGI server: waitress's threads in
    this process, or, with several workers, gunicorn's worker processes beside it (the
    production layout of one machine: this process then only keeps the index)."""
    from indexer import Syncer, Watcher

    config = _config(
        kb_dir=kb_dir, index_dir=index_dir, host=host, port=port, watch=watch, workers=workers
    )
    indexer = config.new_indexer()
    watcher = None
    if config.watch:
        watcher = Watcher(indexer, debounce=config.debounce_ms / 1000)
        watcher.start()
        # in the background, so the service answers at once (503 until a first index exists):
        # catch up with changes made while stopped, or build if there is no usable index
        watcher.request_reconcile()
    else:
        indexer.reconcile()
    syncer = None
    if config.sync_interval or config.hook_secret:  # a read replica: pull from the remote
        syncer = Syncer(indexer, every=config.sync_interval)
        if config.sync_interval:
            syncer.start()
    if config.workers > 1:
        _serve_with_workers(config, [w for w in (watcher, syncer) if w is not None])
    else:
        _serve_in_process(config, indexer, watcher, syncer)


def _serve_in_process(
    config: Config, indexer: Indexer, watcher: Watcher | None, syncer: Syncer | None
) -> None:
    """waitress, with the app in this process (``kb serve``'s default)."""
    import waitress

    from indexer import KnowledgeBase

    from .app import create_app
    from .services import Services

    services = Services(
        KnowledgeBase(indexer.storage, config.kb_dir), indexer, watcher, syncer=syncer
    )
    app = create_app(config, services)
    log.info("serving %s on http://%s:%d", config.kb_dir, config.host, config.port)
    # a supervisor's SIGTERM stops waitress as Ctrl-C does: requests in flight are answered
    # (waitress waits up to 5 s for them), then services.close() writes what they queued
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # and Ctrl-C, even when started with SIGINT ignored (as a shell's background job is,
    # where Python then installs no handler of its own)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        allow_open_files(open_files_needed(config))
        # waitress reads each request whole before a thread sees it, so a client that sends
        # slowly or not at all costs a connection, not a thread; poll(), unlike select(),
        # has no 1,024-descriptor ceiling. Forwarding headers reach the app, which believes
        # only trusted_proxy's (clients.py).
        waitress.serve(
            app,
            host=config.host,
            port=config.port,
            threads=config.threads,
            connection_limit=config.connection_limit,
            channel_timeout=config.idle_timeout,
            cleanup_interval=5,
            asyncore_use_poll=True,
            ident="kb-search",
            clear_untrusted_proxy_headers=False,
        )
    finally:
        services.close()


def _serve_with_workers(config: Config, writers: list[Watcher | Syncer]) -> None:
    """gunicorn's pre-fork workers answer HTTP (server/gunicorn_conf.py) while this process
    keeps the index with ``writers``, as ``kb watch`` does beside gunicorn: Python runs one
    thread at a time per process, so only processes use every core. Workers share the
    index's files and memory-mapped rank files through the page cache, and each notices a
    new commit on its next request. /metrics adds up every worker's figures (a folder of
    their own unless PROMETHEUS_MULTIPROC_DIR names one). Stops on SIGTERM or Ctrl-C: the
    workers first (they answer what is in flight and write what they queued), then the
    writers; and if gunicorn stops by itself (say, the port is taken), so does this."""
    from .metrics import MULTIPROCESS_DIR

    metrics = os.environ.get(MULTIPROCESS_DIR) or tempfile.mkdtemp(prefix="kb-metrics-")
    environment = {
        **os.environ,
        "KB_KB_DIR": str(config.kb_dir),
        "KB_INDEX_DIR": str(config.index_dir),
        "KB_HOST": config.host,
        "KB_PORT": str(config.port),
        "KB_WORKERS": str(config.workers),
        MULTIPROCESS_DIR: metrics,
        SERVE_PID_ENV: str(os.getpid()),  # gunicorn stops if this process dies
    }
    log.info(
        "serving %s on http://%s:%d with %d workers",
        config.kb_dir,
        config.host,
        config.port,
        config.workers,
    )
    readers = subprocess.Popen(GUNICORN, env=environment)

    def finish() -> None:
        if readers.poll() is None:
            readers.terminate()  # gunicorn's graceful stop
        readers.wait()
        for writer in writers:
            writer.stop()
        if metrics != os.environ.get(MULTIPROCESS_DIR):
            shutil.rmtree(metrics, ignore_errors=True)

    _run_until_signalled(lambda: None, finish, alive=lambda: readers.poll() is None)
    if readers.returncode not in (0, -signal.SIGTERM):
        raise SystemExit(readers.returncode or 1)


@main.command()
@kb_options
def watch(kb_dir: Path | None, index_dir: Path | None) -> None:
    """Keep the index equal to the kb folder, without serving: the one writer beside
    gunicorn's workers. Catches up (or builds) first; stops cleanly on SIGTERM or Ctrl-C."""
    from indexer import Watcher

    config = _config(kb_dir=kb_dir, index_dir=index_dir)
    indexer = config.new_indexer()
    watcher = Watcher(indexer, debounce=config.debounce_ms / 1000)

    def start() -> None:
        watcher.start()
        watcher.request_reconcile()  # changes made while stopped, or a first build

    _run_until_signalled(start, watcher.stop)


@main.command()
@kb_options
@click.option(
    "--every",
    type=click.IntRange(min=0),
    metavar="N",
    help="Keep pulling every N seconds until stopped; 0: once [KB_SYNC_INTERVAL].",
)
def sync(kb_dir: Path | None, index_dir: Path | None, every: int | None) -> None:
    """Pull the kb folder's git clone from its remote and index what changed (replicas)."""
    from indexer import Syncer, SyncError, sync_clone

    config = _config(kb_dir=kb_dir, index_dir=index_dir, sync_interval=every)
    indexer = config.new_indexer()
    if not config.sync_interval:
        try:
            result = sync_clone(indexer)
        except SyncError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(result.summary())
        for error in result.report.errors:
            click.echo(f"  skipped {error}", err=True)
        return
    syncer = Syncer(indexer, every=config.sync_interval)
    _run_until_signalled(syncer.request, syncer.stop)  # a pull now, then every N seconds


@main.command()
@kb_options
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    default=DEFAULT_AUDIENCE,
    show_default=True,
    help="Search as someone who may see this audience (internal includes public).",
)
def search(
    kb_dir: Path | None,
    index_dir: Path | None,
    query: str,
    as_json: bool,
    limit: int,
    audience: str,
) -> None:
    """Search the index from the terminal."""
    import html
    import re

    from indexer import IndexStorage, IndexUnavailable, KnowledgeBase, SearchRequest, readers_of

    config = _config(kb_dir=kb_dir, index_dir=index_dir)
    audiences = readers_of(audience)
    try:
        results = KnowledgeBase(IndexStorage(config.index_dir), config.kb_dir).search(
            SearchRequest(q=query, audiences=audiences, limit=limit)
        )
    except IndexUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    from .formatting import permalinks_under
    from .views.api import results_json

    link = permalinks_under(config.base_url or f"http://{config.host}:{config.port}")
    if as_json:  # what GET /api/search answers
        click.echo(json.dumps(results_json(results, link, timed=True), indent=2))
        return
    terminal = sys.stdout.isatty()

    def shown(snippet: str) -> str:
        """The snippet as text, its matched words in bold on a terminal."""
        marked = re.sub(
            r"<mark>(.*?)</mark>",
            lambda found: (
                click.style(found[1], bold=True, underline=True) if terminal else found[1]
            ),
            snippet,
        )
        return html.unescape(re.sub(r"<[^>]+>", "", marked))

    click.echo(f"{counted(results.total, 'result')} for {query!r} ({results.took_ms} ms)")
    if results.corrected_query:
        click.echo(f"Did you mean: {results.corrected_query}")
    for rank, hit in enumerate(results.hits, 1):
        click.echo(f"{rank:3}. {click.style(hit.id, bold=True)}  {hit.title}")
        click.echo(f"     {link(hit.id, hit.section_anchor)}", nl=False)
        click.echo(f"  (§ {hit.section_heading})" if hit.section_anchor else "")
        click.echo(f"     {shown(hit.snippet)[:200]}")


def _kb_holding(paths: tuple[Path, ...]) -> Path | None:
    """The knowledge base the first of ``paths`` is in, found as git finds its repository:
    the nearest folder above it with a KB's own files (``_templates``, ``_synonyms.yml``).
    So ``kb lint file.md`` works from any folder, as an editor runs it."""
    for path in paths[:1]:
        for folder in path.resolve().parents:
            if (folder / "_templates").is_dir() or (folder / "_synonyms.yml").is_file():
                return folder
    return None


@main.command()
@kb_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object with every finding, for tools.",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def lint(kb_dir: Path | None, output: str, paths: tuple[Path, ...]) -> None:
    """Check articles (default: all) for front matter, links, headings, review dates and
    near-duplicates. Exits 1 if there are errors; warnings alone pass."""
    import time

    from indexer import lint as run_lint

    if kb_dir is None and "KB_KB_DIR" not in os.environ:
        kb_dir = _kb_holding(paths)
    # only the folder: lint needs no index, wherever it is run from
    root = (kb_dir or _config().kb_dir).resolve()
    if not root.is_dir():
        raise click.ClickException(f"kb folder {root} does not exist (set --kb or KB_KB_DIR)")
    wanted = None
    if paths:
        wanted = []
        for path in paths:
            full = path.resolve()
            if full.is_relative_to(root) and full.suffix == ".md":
                wanted.append(full.relative_to(root).as_posix())
    started = time.perf_counter()
    report = run_lint(root, wanted)
    took = time.perf_counter() - started
    if output == "json":
        click.echo(
            json.dumps(
                {
                    "files": report.files,
                    "errors": report.errors,
                    "warnings": report.warnings,
                    "seconds": round(took, 3),
                    "findings": [vars(f) for f in report.findings],
                },
                indent=2,
            )
        )
    else:
        for finding in report.findings:
            colour = "red" if finding.severity == "error" else "yellow"
            click.echo(  # absolute, as editors' problem matchers want them
                f"{root / finding.path}:{finding.line}: "
                f"{click.style(finding.severity, fg=colour)} [{finding.rule}] "
                f"{finding.message}"
            )
        click.echo(
            f"{counted(report.errors, 'error')}, {counted(report.warnings, 'warning')} in "
            f"{counted(report.files, 'file')} ({took:.1f} s)",
            err=True,
        )
    if report.errors:
        raise SystemExit(1)


@main.command()
@click.option(
    "--out", type=click.Path(path_type=Path), help="Write to this file instead of stdout."
)
def schema(out: Path | None) -> None:
    """Print the JSON Schema of article front matter (what kb lint checks), for editors."""
    from indexer import front_matter_schema

    text = json.dumps(front_matter_schema(), indent=2) + "\n"
    if out:
        out.write_text(text)
    else:
        click.echo(text, nl=False)


@main.command()
@kb_option
@click.option(
    "--type",
    "article_type",
    type=click.Choice(ARTICLE_TYPES),
    default="resolution",
    show_default=True,
)
@click.option(
    "--dir",
    "folder",
    default=None,
    help="Folder inside the KB, e.g. windows ('.' for the top); asked for if not given.",
)
@click.argument("title")
def new(kb_dir: Path | None, article_type: str, folder: str | None, title: str) -> None:
    """Start a draft article from kb/_templates with the next free id; prints its path."""
    from indexer import AuthoringError, create_article, kb_folders

    config = _config(kb_dir=kb_dir)
    if folder is None:
        known = ", ".join(kb_folders(config.kb_dir))
        if not sys.stdin.isatty():
            raise click.UsageError(
                f"say which folder with --dir (one of: {known}; '.' for the top)"
            )
        folder = click.prompt(f"Folder ({known})", type=str, err=True)
    try:
        path = create_article(config.kb_dir, title, article_type, folder.strip().strip("/"))
    except AuthoringError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(path)
    click.echo(
        "A draft: nobody finds it until you remove 'draft: true'. "
        f"`kb lint {path}` checks it as you write.",
        err=True,
    )


@main.command()
@kb_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("site"), show_default=True)
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    default="public",
    show_default=True,
    help="internal: every article; public: only public ones.",
)
def export(kb_dir: Path | None, out: Path, audience: str) -> None:
    """Build a static site (MkDocs) of the articles an audience may read."""
    from indexer import ExportError, export_site

    config = _config(kb_dir=kb_dir)
    mkdocs_yml = config.kb_dir.resolve().parent / "mkdocs.yml"
    try:
        count = export_site(config.kb_dir, out, audience, config.default_audience, mkdocs_yml)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{count} {audience} articles -> {out}/index.html")


@main.group()
def activity() -> None:
    """Move the activity store (searches, clicks, feedback) between SQLite and PostgreSQL."""


db_option = click.option(
    "--db", "location", help="A SQLite file or postgresql:// URL [KB_ACTIVITY_DB]."
)


def _database(location: str | None, existing: bool = False) -> Database:
    """The store named by --db or KB_ACTIVITY_DB; ``existing``: a SQLite file must be there
    already (an export of a mistyped path would otherwise make an empty store)."""
    location = location or _config(needs_kb=False).activity_db
    if existing and not is_postgresql(location) and not Path(location).expanduser().is_file():
        raise click.ClickException(f"no activity store at {location}")
    database = Database(location)
    if database.problem:
        raise click.ClickException(database.problem)
    return database


@activity.command("export")
@db_option
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
def activity_export(location: str | None, out: Path) -> None:
    """Write the store's searches, clicks and feedback to OUT (JSON Lines)."""
    database = _database(location, existing=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as file:
            counts = transfer.export(database, file)
    except DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"{database.where}: {exc}") from None
    finally:
        database.close()
    partial.replace(out)
    click.echo(f"{database.where} -> {out}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


@activity.command("import")
@db_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def activity_import(location: str | None, file: Path) -> None:
    """Add the rows of an export to the store; rows already there are kept once."""
    database = _database(location)
    try:
        counts = transfer.import_file(database, file)
    except (DatabaseError, transfer.TransferError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        database.close()
    for count in counts:
        click.echo(
            f"{count.table}: {count.in_file} in the file, {count.added} added, "
            f"{count.already_there} already there; {count.in_store} in {database.where}"
        )
