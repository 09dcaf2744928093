"""``kb export``: the knowledge base as a static MkDocs site, for one audience.

A public export can be handed out, so it is built from a staging copy that holds only what
that audience may read: the articles of the audience, and only the images and attachments
those articles link to (an internal article's diagram stays behind), each one a file the
server would serve (:func:`asset_file`: never what a symlink outside the KB points to). Links
from an exported article to one that was left out become plain text (export_links.py), and
an index page lists what is there. The site is built with ``strict`` on, so any other broken
link fails the export; it is built beside ``--out`` and moved there only once complete.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

from ..documents.articles import asset_file, iter_article_paths, read_article
from ..documents.fields import DEFAULT_AUDIENCE, readers_of
from ..documents.schema import linked_assets
from ..errors import ArticleError

DEFAULT_CONFIG = {
    "site_name": "Knowledge base",
    "theme": {"name": "mkdocs"},
    "use_directory_urls": False,
    "markdown_extensions": [{"toc": {"permalink": "#"}}, "tables", "fenced_code"],
}


class ExportError(Exception):
    """The site could not be built; the message says why."""


def _index_page(titles: dict[str, str], audience: str) -> str:
    folders: dict[str, list[str]] = defaultdict(list)
    for path in sorted(titles):
        folders[path.rpartition("/")[0] or "General"].append(path)
    lines = [f"# Knowledge base ({audience} articles)", ""]
    for folder, paths in sorted(folders.items()):
        lines += [f"## {folder}", ""]
        lines += [f"- [{titles[p]}]({p})" for p in paths]
        lines.append("")
    return "\n".join(lines)


def stage(kb_root: Path, target: Path, audience: str, default_audience: str) -> list[str]:
    """Copy what ``audience`` may read into ``target``; returns the paths of its articles."""
    allowed = readers_of(audience)
    articles = {}
    for relpath in iter_article_paths(kb_root):
        try:
            article = read_article(kb_root, relpath, default_audience)
        except ArticleError as exc:
            raise ExportError(f"{exc} (fix it, or run kb lint)") from None
        if article.audience in allowed and not article.draft:
            articles[relpath] = article
    refused = []
    for relpath, article in articles.items():
        for linked in linked_assets(article):
            source = asset_file(kb_root, linked)
            if source is None:
                refused.append(f"{relpath} -> {linked}")
                continue
            (target / linked).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / linked)
        (target / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kb_root / relpath, target / relpath)
    if refused:
        raise ExportError(
            "links to no file inside the knowledge base (fix them, or run kb "
            f"lint): {', '.join(refused)}"
        )
    titles = {p: a.title for p, a in articles.items()}
    (target / "index.md").write_text(_index_page(titles, audience))
    return list(articles)


def export_site(
    kb_root: Path,
    out: Path,
    audience: str = "public",
    default_audience: str = DEFAULT_AUDIENCE,
    config_file: Path | None = None,
) -> int:
    """Build the site for ``audience`` at ``out``; returns the number of articles in it.

    The site replaces ``out`` (and whatever it held) only once it is complete: an export that
    fails leaves ``out`` as it was and nothing beside it. Site settings come from
    ``config_file`` (the project's mkdocs.yml) when there is one; its docs_dir and site_dir
    are replaced by the staging copy and the folder the site is built in.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from .export_links import UnlinkLeftOut

    kb_root, out = kb_root.resolve(), out.resolve()
    if kb_root.is_relative_to(out) or out.is_relative_to(kb_root):
        raise ExportError(f"{out} would replace or be part of the kb folder: choose another --out")
    settings = dict(DEFAULT_CONFIG)
    if config_file is not None and config_file.is_file():
        settings = yaml.safe_load(config_file.read_text()) or {}
    beside = next(folder for folder in out.parents if folder.is_dir())  # out's, or the nearest
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-export-", dir=beside) as tmp:
        docs, site = Path(tmp, "docs"), Path(tmp, "site")
        docs.mkdir()
        exported = stage(kb_root, docs, audience, default_audience)
        settings |= {"docs_dir": str(docs), "site_dir": str(site), "strict": True, "hooks": []}
        settings.pop("exclude_docs", None)  # the staging copy holds only what is exported
        config_path = Path(tmp) / "mkdocs.yml"
        config_path.write_text(yaml.safe_dump(settings))
        try:
            config = load_config(str(config_path))
            # links to left-out articles become text; pages are sanitised as mkdocs_hooks does
            config.plugins["kb-unlink-left-out"] = UnlinkLeftOut({*exported, "index.md"})
            build(config)
        except (MkDocsException, SystemExit) as exc:
            raise ExportError(f"mkdocs could not build the site: {exc}") from None
        try:
            _move_into_place(site, out, aside=Path(tmp, "previous"))
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return len(exported)


def _move_into_place(site: Path, out: Path, aside: Path) -> None:
    """Replace ``out`` by ``site`` with renames on one file system, so ``out`` is the previous
    site or the new one, never a mix (for an instant between the two renames, nothing); the
    previous one goes to ``aside``, deleted with the temporary folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() or out.is_symlink():
        out.rename(aside)
    try:
        site.rename(out)
    except OSError:
        if aside.exists() or aside.is_symlink():
            aside.rename(out)
        raise
